#include "agent/status_writer.h"

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <vector>

#include "agent/keyed_pool.h"
#include "eventually.h"

namespace lintel::agent {
namespace {

using testing::Eventually;

// Holds jobs until released.
class Gate {
 public:
  void Wait() {
    std::unique_lock<std::mutex> l(mu_);
    ++waiting_;
    cv_.notify_all();
    cv_.wait(l, [this] { return open_; });
  }
  void Open() {
    std::lock_guard<std::mutex> l(mu_);
    open_ = true;
    cv_.notify_all();
  }
  int waiting() {
    std::lock_guard<std::mutex> l(mu_);
    return waiting_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool open_ = false;
  int waiting_ = 0;
};

TEST(KeyedPoolTest, NeverProcessesOneKeyTwiceAtOnceAndRerunsWhenAddedMeanwhile) {
  std::atomic<int> inside{0}, overlap{0}, runs{0};
  Gate gate;
  KeyedPool pool("test", 4, [&](const std::string&) {
    if (++inside > 1) ++overlap;
    if (++runs == 1) gate.Wait();
    --inside;
    return std::chrono::milliseconds(0);
  });
  pool.Start();
  pool.Add("k");
  ASSERT_TRUE(Eventually([&] { return gate.waiting() == 1; }));
  // Added three times while running: runs once more, not three times.
  pool.Add("k");
  pool.Add("k");
  pool.Add("k");
  gate.Open();
  ASSERT_TRUE(Eventually([&] { return runs == 2 && pool.Size() == 0; }));
  EXPECT_EQ(overlap, 0);
  pool.Stop();
  EXPECT_EQ(runs, 2);
}

TEST(KeyedPoolTest, RetriesAfterTheDelayAndServesHighPriorityFirst) {
  std::mutex mu;
  std::vector<std::string> order;
  Gate gate;
  std::atomic<int> retries{0};
  KeyedPool pool("test", 1, [&](const std::string& key) {
    if (key == "block") gate.Wait();
    {
      std::lock_guard<std::mutex> l(mu);
      order.push_back(key);
    }
    if (key == "retry" && retries++ < 2) return std::chrono::milliseconds(5);
    return std::chrono::milliseconds(0);
  });
  pool.Start();
  pool.Add("block");
  ASSERT_TRUE(Eventually([&] { return gate.waiting() == 1; }));
  pool.Add("n1");
  pool.Add("n2");
  pool.Add("h1", Priority::kHigh);
  pool.Add("n1", Priority::kHigh);  // raised: runs once, at high priority
  gate.Open();
  ASSERT_TRUE(Eventually([&] { return pool.Size() == 0; }));
  {
    std::lock_guard<std::mutex> l(mu);
    EXPECT_EQ(order, (std::vector<std::string>{"block", "h1", "n1", "n2"}));
    order.clear();
  }
  pool.Add("retry");
  ASSERT_TRUE(Eventually([&] { return retries == 3 && pool.Size() == 0; }));
  std::lock_guard<std::mutex> l(mu);
  EXPECT_EQ(order, (std::vector<std::string>{"retry", "retry", "retry"}));
}

TEST(KeyedPoolTest, AFloodOfHighKeysDoesNotStarveNormalOnes) {
  std::mutex mu;
  std::string order;
  Gate gate;
  KeyedPool pool("test", 1, [&](const std::string& key) {
    if (key == "block") gate.Wait();
    std::lock_guard<std::mutex> l(mu);
    order += key[0];
    return std::chrono::milliseconds(0);
  });
  pool.Start();
  pool.Add("block");
  ASSERT_TRUE(Eventually([&] { return gate.waiting() == 1; }));
  for (int i = 0; i < 8; ++i) pool.Add("h" + std::to_string(i), Priority::kHigh);
  pool.Add("n0");
  pool.Add("n1");
  gate.Open();
  ASSERT_TRUE(Eventually([&] { return pool.Size() == 0; }));
  std::lock_guard<std::mutex> l(mu);
  EXPECT_EQ(order, "bhhhnhhhnhh");
}

TEST(StatusWriterTest, CoalescesWritesForOneKey) {
  StatusWriter w(2);
  w.Start();
  Gate gate;
  std::mutex mu;
  std::vector<int> written;
  auto job = [&](int n, bool block = false) {
    return [&, n, block] {
      if (block) gate.Wait();
      std::lock_guard<std::mutex> l(mu);
      written.push_back(n);
      return Status();
    };
  };
  w.Submit("k", job(1, true));
  ASSERT_TRUE(Eventually([&] { return gate.waiting() == 1; }));
  w.Submit("k", job(2));
  w.Submit("k", job(3));
  w.Submit("k", job(4));
  gate.Open();
  ASSERT_TRUE(Eventually([&] { return w.Pending() == 0; }));
  {
    std::lock_guard<std::mutex> l(mu);
    EXPECT_EQ(written, (std::vector<int>{1, 4}));  // the newest replaced 2 and 3
  }
  WriterStats s = w.stats();
  EXPECT_EQ(s.submitted, 4u);
  EXPECT_EQ(s.coalesced, 2u);
  EXPECT_EQ(s.succeeded, 2u);
}

TEST(StatusWriterTest, RetriesRetryableErrorsAndDropsOthers) {
  StatusWriter w(1);
  w.Start();
  std::atomic<int> tries{0}, invalid_tries{0};
  w.Submit("retry", [&] { return ++tries < 3 ? Unavailable("server restarting") : Status(); });
  w.Submit("conflict", [&, n = std::make_shared<int>(0)] {
    return ++*n < 2 ? Conflict("changed meanwhile") : Status();
  });
  w.Submit("invalid", [&] {
    ++invalid_tries;
    return Invalid("bad status");
  });
  ASSERT_TRUE(Eventually([&] { return w.Pending() == 0; }));
  EXPECT_EQ(tries, 3);
  EXPECT_EQ(invalid_tries, 1);
  WriterStats s = w.stats();
  EXPECT_EQ(s.succeeded, 2u);
  EXPECT_EQ(s.retried, 3u);
  EXPECT_EQ(s.dropped, 1u);
}

TEST(StatusWriterTest, ANewerWriteReplacesOneWaitingToBeRetried) {
  StatusWriter w(1);
  w.Start();
  std::atomic<int> old_tries{0}, new_tries{0};
  w.Submit("k", [&] {
    ++old_tries;
    return Unavailable("down");
  });
  ASSERT_TRUE(Eventually([&] { return old_tries >= 1; }));
  w.Submit("k", [&] {
    ++new_tries;
    return Status();
  });
  ASSERT_TRUE(Eventually([&] { return w.Pending() == 0; }));
  EXPECT_EQ(new_tries, 1);
  int old_after = old_tries;
  std::this_thread::sleep_for(std::chrono::milliseconds(250));  // past the first back-off
  EXPECT_EQ(old_tries, old_after);
}

TEST(UpsertConditionsTest, ReplacesByTypeAndKeepsTransitionTimes) {
  Json current = Json::array({
      {{"type", "Scheduled"}, {"status", "True"}, {"lastTransitionTime", "T0"}},
      {{"type", "Ready"}, {"status", "True"}, {"lastTransitionTime", "T1"}},
  });
  struct Case {
    const char* name;
    Json update;
    Json want;
  } cases[] = {
      {"same status keeps the old transition time",
       {{"type", "Ready"}, {"status", "True"}, {"reason", "R"}, {"lastTransitionTime", "T9"}},
       Json::array({current[0],
                    {{"type", "Ready"},
                     {"status", "True"},
                     {"reason", "R"},
                     {"lastTransitionTime", "T1"}}})},
      {"new status takes the new time",
       {{"type", "Ready"}, {"status", "False"}, {"lastTransitionTime", "T9"}},
       Json::array(
           {current[0], {{"type", "Ready"}, {"status", "False"}, {"lastTransitionTime", "T9"}}})},
      {"new type is appended",
       {{"type", "Other"}, {"status", "True"}, {"lastTransitionTime", "T9"}},
       Json::array({current[0],
                    current[1],
                    {{"type", "Other"}, {"status", "True"}, {"lastTransitionTime", "T9"}}})},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(UpsertConditions(current, Json::array({c.update})), c.want);
  }
  EXPECT_EQ(UpsertConditions(Json(), Json::array({cases[2].update})),
            Json::array({cases[2].update}));
}

}  // namespace
}  // namespace lintel::agent
