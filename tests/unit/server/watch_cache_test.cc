#include "server/watch_cache.h"

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "server_fixture.h"

namespace lintel::server {
namespace {

using testing::ServerFixture;

// Records what a watcher is told.
class RecordingSink final : public WatchSink {
 public:
  bool OnEvent(WatchEventType type, const EventPtr& event) override {
    std::lock_guard<std::mutex> l(mu_);
    events_.emplace_back(std::string(WatchEventTypeName(type)), event->object()->name);
    rvs_.push_back(event->rv());
    cv_.notify_all();
    return alive_;
  }
  bool OnBookmark(Revision rv) override {
    std::lock_guard<std::mutex> l(mu_);
    bookmarks_.push_back(rv);
    cv_.notify_all();
    return alive_;
  }
  void OnEnd(const Status& why) override {
    std::lock_guard<std::mutex> l(mu_);
    ended_ = why;
    cv_.notify_all();
  }
  bool Alive() const override { return alive_; }

  std::vector<std::pair<std::string, std::string>> WaitFor(size_t n) {
    std::unique_lock<std::mutex> l(mu_);
    cv_.wait_for(l, std::chrono::seconds(5), [&] { return events_.size() >= n; });
    return events_;
  }
  std::vector<Revision> rvs() {
    std::lock_guard<std::mutex> l(mu_);
    return rvs_;
  }
  std::atomic<bool> alive_{true};

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::pair<std::string, std::string>> events_;
  std::vector<Revision> rvs_;
  std::vector<Revision> bookmarks_;
  Status ended_;
};

using Events = std::vector<std::pair<std::string, std::string>>;

class WatchCacheTest : public ServerFixture {
 protected:
  Filter F(const std::string& labels = "", const std::string& fields = "") {
    auto f = resources_->MakeFilter(Kind("vm"), "default", labels, fields);
    EXPECT_TRUE(f.ok());
    return *f;
  }
};

TEST_F(WatchCacheTest, FromZeroSendsCurrentStateThenChanges) {
  MustCreate(Vm("a"));
  auto sink = std::make_shared<RecordingSink>();
  auto w = cache_->Watch(Kind("vm"), F(), 0, false, sink);
  ASSERT_TRUE(w.ok());
  MustCreate(Vm("b"));
  ASSERT_TRUE(resources_->Delete(Kind("vm"), "default", "a", {}).ok());
  EXPECT_EQ(sink->WaitFor(3),
            (Events{{"ADDED", "a"}, {"ADDED", "b"}, {"DELETED", "a"}}));
  auto rvs = sink->rvs();
  EXPECT_TRUE(std::is_sorted(rvs.begin(), rvs.end()));
}

TEST_F(WatchCacheTest, ResumesAfterAResourceVersion) {
  Json a = MustCreate(Vm("a"));
  MustCreate(Vm("b"));
  Revision after_a = std::stoll(a["metadata"]["resourceVersion"].get<std::string>());
  auto sink = std::make_shared<RecordingSink>();
  auto w = cache_->Watch(Kind("vm"), F(), after_a, false, sink);
  ASSERT_TRUE(w.ok());
  EXPECT_EQ(sink->WaitFor(1), (Events{{"ADDED", "b"}}));
}

TEST_F(WatchCacheTest, SelectorTransitionsBecomeAddedAndDeleted) {
  MustCreate(Vm("a", {{"app", "db"}}));
  auto sink = std::make_shared<RecordingSink>();
  auto w = cache_->Watch(Kind("vm"), F("app=web"), 0, false, sink);
  ASSERT_TRUE(w.ok());
  ASSERT_TRUE(resources_->Patch(Kind("vm"), "default", "a", PatchType::kMerge,
                                R"({"metadata":{"labels":{"app":"web"}}})", Opts()).ok());
  ASSERT_TRUE(resources_->Patch(Kind("vm"), "default", "a", PatchType::kMerge,
                                R"({"metadata":{"labels":{"tier":"1"}}})", Opts()).ok());
  ASSERT_TRUE(resources_->Patch(Kind("vm"), "default", "a", PatchType::kMerge,
                                R"({"metadata":{"labels":{"app":"db"}}})", Opts()).ok());
  EXPECT_EQ(sink->WaitFor(3),
            (Events{{"ADDED", "a"}, {"MODIFIED", "a"}, {"DELETED", "a"}}));
}

TEST_F(WatchCacheTest, IndexedFieldWatchersSeeOnlyTheirObjects) {
  auto mine = std::make_shared<RecordingSink>();
  auto all = std::make_shared<RecordingSink>();
  auto w1 = cache_->Watch(Kind("vm"), F("", "metadata.name=b"), 0, false, mine);
  auto w2 = cache_->Watch(Kind("vm"), F(), 0, false, all);
  ASSERT_TRUE(w1.ok() && w2.ok());
  MustCreate(Vm("a"));
  MustCreate(Vm("b"));
  MustCreate(Vm("c"));
  EXPECT_EQ(all->WaitFor(3).size(), 3u);
  EXPECT_EQ(mine->WaitFor(1), (Events{{"ADDED", "b"}}));
}

TEST_F(WatchCacheTest, TooOldResourceVersionIsGone) {
  TearDown();
  WatchCache::Options small;
  small.events_per_kind = 2;
  Open(small);
  Json a = MustCreate(Vm("a"));
  for (int i = 0; i < 4; ++i) MustCreate(Vm("x" + std::to_string(i)));
  ASSERT_TRUE(cache_->Sync().ok());
  Revision old = std::stoll(a["metadata"]["resourceVersion"].get<std::string>());
  auto w = cache_->Watch(Kind("vm"), F(), old, false, std::make_shared<RecordingSink>());
  ASSERT_FALSE(w.ok());
  EXPECT_EQ(w.error().code(), Code::kGone);
  EXPECT_NE(w.error().message().find("too old resource version"), std::string::npos);
}

TEST_F(WatchCacheTest, DeadSinksAreDroppedAndHandlesUnregister) {
  auto sink = std::make_shared<RecordingSink>();
  {
    auto w = cache_->Watch(Kind("vm"), F(), 0, false, sink);
    ASSERT_TRUE(w.ok());
    EXPECT_EQ(cache_->WatcherCount(), 1u);
  }
  EXPECT_EQ(cache_->WatcherCount(), 0u);
  auto detached = cache_->Watch(Kind("vm"), F(), 0, false, sink);
  ASSERT_TRUE(detached.ok());
  (*detached)->Detach();
  detached->reset();
  EXPECT_EQ(cache_->WatcherCount(), 1u);
  sink->alive_ = false;
  MustCreate(Vm("z"));
  ASSERT_TRUE(cache_->Sync().ok());
  EXPECT_EQ(cache_->WatcherCount(), 0u);
}

TEST_F(WatchCacheTest, ConsistentReadSeesAcknowledgedWrites) {
  for (int i = 0; i < 20; ++i) {
    MustCreate(Vm("v" + std::to_string(i)));
    // Get() syncs with the store: a just-acknowledged create is always visible.
    EXPECT_EQ(MustGet("v" + std::to_string(i))["metadata"]["name"], "v" + std::to_string(i));
  }
}

}  // namespace
}  // namespace lintel::server
