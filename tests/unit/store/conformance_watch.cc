// Conformance: watches (replay, live, prefixes, prev, cancellation, races).
#include <atomic>
#include <thread>

#include "unit/store/store_conformance.h"

namespace lintel::store::testing {
namespace {

std::vector<Revision> Range(Revision from, Revision to) {
  std::vector<Revision> revs;
  for (Revision r = from; r <= to; ++r) {
    revs.push_back(r);
  }
  return revs;
}

TEST_P(StoreConformanceTest, WatchReplaysHistoryThenFollowsLive) {
  Revision start = MustCurrentRevision();
  Revision a = MustCreate("/w/a", "a1");
  Revision b = MustCreate("/w/b", "b1");
  WatchRecorder rec;
  Result<std::unique_ptr<Watch>> w = store_->WatchPrefix("/w/", start, rec.Callbacks());
  ASSERT_TRUE(w.ok()) << w.status().ToString();
  Revision a2 = MustUpdate("/w/a", "a2");
  Revision bd = MustDelete("/w/b");
  ASSERT_TRUE(rec.WaitForEvents(4, Patience()));
  std::vector<Event> events = rec.Events();
  ASSERT_EQ(rec.Revisions(), (std::vector<Revision>{a, b, a2, bd}));
  EXPECT_EQ(events[0].type, EventType::kPut);
  EXPECT_EQ(events[0].kv.value, "a1");
  EXPECT_EQ(events[0].kv.create_revision, a);
  EXPECT_EQ(events[2].type, EventType::kPut);
  EXPECT_EQ(events[2].kv.value, "a2");
  EXPECT_EQ(events[2].kv.create_revision, a);
  EXPECT_EQ(events[3].type, EventType::kDelete);
  EXPECT_EQ(events[3].kv.key, "/w/b");
  EXPECT_EQ(events[3].kv.value, "");
  EXPECT_TRUE(rec.Violations().empty()) << rec.Violations()[0];
  EXPECT_FALSE(rec.Error().has_value());
}

TEST_P(StoreConformanceTest, WatchEventsCarryPrev) {
  Revision start = MustCurrentRevision();
  Revision c = MustCreate("/p/k", "v1");
  Revision u = MustUpdate("/p/k", "v2");
  Revision d = MustDelete("/p/k");
  auto check = [&](const std::vector<Event>& e) {
    ASSERT_EQ(e.size(), 3u);
    EXPECT_FALSE(e[0].prev.has_value());  // create
    ASSERT_TRUE(e[1].prev.has_value());
    EXPECT_EQ(e[1].prev->value, "v1");
    EXPECT_EQ(e[1].prev->mod_revision, c);
    EXPECT_EQ(e[1].prev->create_revision, c);
    ASSERT_TRUE(e[2].prev.has_value());  // a delete always carries the last state
    EXPECT_EQ(e[2].prev->value, "v2");
    EXPECT_EQ(e[2].prev->mod_revision, u);
    EXPECT_EQ(e[2].kv.mod_revision, d);
  };
  // Replayed from history.
  WatchRecorder replayed;
  auto w1 = store_->WatchPrefix("/p/", start, replayed.Callbacks());
  ASSERT_TRUE(w1.ok());
  ASSERT_TRUE(replayed.WaitForEvents(3, Patience()));
  check(replayed.Events());
  // Delivered live.
  WatchRecorder live;
  auto w2 = store_->WatchPrefix("/p/", MustCurrentRevision(), live.Callbacks());
  ASSERT_TRUE(w2.ok());
  c = MustCreate("/p/k", "v1");
  u = MustUpdate("/p/k", "v2");
  d = MustDelete("/p/k");
  ASSERT_TRUE(live.WaitForEvents(3, Patience()));
  check(live.Events());
}

TEST_P(StoreConformanceTest, WatchFromCurrentRevisionSeesOnlyNewEvents) {
  MustCreate("/n/old", "v");
  Revision now = MustCurrentRevision();
  WatchRecorder rec;
  auto w = store_->WatchPrefix("/n/", now, rec.Callbacks());
  ASSERT_TRUE(w.ok());
  Revision fresh = MustCreate("/n/new", "v");
  ASSERT_TRUE(rec.WaitForEvents(1, Patience()));
  EXPECT_EQ(rec.Revisions(), std::vector<Revision>{fresh});
  EXPECT_EQ(rec.Events()[0].kv.key, "/n/new");
}

TEST_P(StoreConformanceTest, WatchFromFutureRevisionWaitsForIt) {
  Revision now = MustCurrentRevision();
  WatchRecorder rec;
  auto w = store_->WatchPrefix("/f/", now + 2, rec.Callbacks());
  ASSERT_TRUE(w.ok()) << w.status().ToString();
  MustCreate("/f/1", "v");
  MustCreate("/f/2", "v");
  Revision third = MustCreate("/f/3", "v");
  ASSERT_TRUE(rec.WaitForEvents(1, Patience()));
  EXPECT_EQ(rec.Revisions(), std::vector<Revision>{third});
}

TEST_P(StoreConformanceTest, WatchFiltersByPrefix) {
  Revision start = MustCurrentRevision();
  WatchRecorder a, ab, all;
  auto wa = store_->WatchPrefix("/a/", start, a.Callbacks());
  auto wab = store_->WatchPrefix("/ab/", start, ab.Callbacks());
  auto wall = store_->WatchPrefix("", start, all.Callbacks());
  ASSERT_TRUE(wa.ok() && wab.ok() && wall.ok());
  Revision r1 = MustCreate("/a/1", "v");
  Revision r2 = MustCreate("/ab/1", "v");
  Revision r3 = MustCreate("/a", "v");
  Revision r4 = MustCreate("/a/2", "v");
  ASSERT_TRUE(all.WaitForEvents(4, Patience()));
  ASSERT_TRUE(a.WaitForEvents(2, Patience()));
  ASSERT_TRUE(ab.WaitForEvents(1, Patience()));
  EXPECT_EQ(all.Revisions(), (std::vector<Revision>{r1, r2, r3, r4}));
  EXPECT_EQ(a.Revisions(), (std::vector<Revision>{r1, r4}));
  EXPECT_EQ(ab.Revisions(), (std::vector<Revision>{r2}));
}

TEST_P(StoreConformanceTest, SeveralWatchersEachSeeEveryEvent) {
  Revision start = MustCurrentRevision();
  constexpr int kWatchers = 5;
  std::vector<std::unique_ptr<WatchRecorder>> recs;
  std::vector<std::unique_ptr<Watch>> watches;
  for (int i = 0; i < kWatchers; ++i) {
    recs.push_back(std::make_unique<WatchRecorder>());
    auto w = store_->WatchPrefix("/s/", start, recs.back()->Callbacks());
    ASSERT_TRUE(w.ok());
    watches.push_back(std::move(*w));
  }
  for (int i = 0; i < 20; ++i) {
    MustCreate("/s/" + std::to_string(i), "v");
  }
  Revision end = MustCurrentRevision();
  for (auto& rec : recs) {
    ASSERT_TRUE(rec->WaitForEvents(20, Patience()));
    EXPECT_EQ(rec->Revisions(), Range(start + 1, end));
    EXPECT_TRUE(rec->Violations().empty());
  }
  watches.clear();  // before the recorders
}

TEST_P(StoreConformanceTest, DestroyedWatchGetsNoMoreCallbacks) {
  Revision start = MustCurrentRevision();
  WatchRecorder cancelled;
  auto w = store_->WatchPrefix("/x/", start, cancelled.Callbacks());
  ASSERT_TRUE(w.ok());
  MustCreate("/x/1", "v");
  ASSERT_TRUE(cancelled.WaitForEvents(1, Patience()));
  w->reset();
  size_t calls = cancelled.Calls();
  // A second watch that starts after the first was destroyed sees the next
  // writes; by then the first would have seen them too.
  WatchRecorder witness;
  auto w2 = store_->WatchPrefix("/x/", start, witness.Callbacks());
  ASSERT_TRUE(w2.ok());
  for (int i = 2; i < 10; ++i) {
    MustCreate("/x/" + std::to_string(i), "v");
  }
  ASSERT_TRUE(witness.WaitForEvents(9, Patience()));
  EXPECT_EQ(cancelled.Calls(), calls);
  EXPECT_EQ(cancelled.Events().size(), 1u);
  EXPECT_FALSE(cancelled.Error().has_value());
}

TEST_P(StoreConformanceTest, WatchCanBeDestroyedFromItsOwnCallback) {
  std::mutex mu;
  std::unique_ptr<Watch> watch;
  std::atomic<int> calls{0};
  WatchCallbacks cb;
  cb.on_events = [&](std::vector<Event>&&) {
    ++calls;
    std::lock_guard<std::mutex> l(mu);
    watch.reset();
  };
  Revision start = MustCurrentRevision();
  {
    std::lock_guard<std::mutex> l(mu);
    auto w = store_->WatchPrefix("/self/", start, std::move(cb));
    ASSERT_TRUE(w.ok());
    watch = std::move(*w);
  }
  MustCreate("/self/1", "v");
  ASSERT_TRUE(Eventually(
      [&] {
        std::lock_guard<std::mutex> l(mu);
        return watch == nullptr;
      },
      Patience()));
  WatchRecorder witness;
  auto w2 = store_->WatchPrefix("/self/", start, witness.Callbacks());
  ASSERT_TRUE(w2.ok());
  for (int i = 2; i < 6; ++i) {
    MustCreate("/self/" + std::to_string(i), "v");
  }
  ASSERT_TRUE(witness.WaitForEvents(5, Patience()));
  EXPECT_EQ(calls.load(), 1);
}

TEST_P(StoreConformanceTest, WatchDestroyedWhileEventsFlow) {
  // Destroying watches at random moments while writes stream must neither
  // crash nor call a destroyed watch.
  std::atomic<bool> stop{false};
  std::thread writer([&] {
    for (int i = 0; !stop.load(); ++i) {
      if (!store_->Create("/flow/" + std::to_string(i), "v").ok()) {
        break;
      }
    }
  });
  for (int i = 0; i < 20; ++i) {
    std::atomic<bool> destroyed{false};
    std::atomic<int> late{0};
    WatchCallbacks cb;
    cb.on_events = [&](std::vector<Event>&&) {
      if (destroyed.load()) {
        ++late;
      }
    };
    auto w = store_->WatchPrefix("/flow/", 0, std::move(cb));
    ASSERT_TRUE(w.ok()) << w.status().ToString();
    std::this_thread::yield();
    w->reset();
    destroyed = true;
    EXPECT_EQ(late.load(), 0);
  }
  stop = true;
  writer.join();
}

// Watches registered while writers race must each see exactly the revisions
// after their start: no gap at the replay/live seam, no duplicate.
TEST_P(StoreConformanceTest, WatchesRegisteredDuringWritesHaveNoGapOrDuplicate) {
  constexpr int kWriters = 4;
  constexpr int kWatches = 12;
  std::atomic<bool> stop{false};
  std::vector<std::thread> writers;
  writers.reserve(kWriters);
  for (int t = 0; t < kWriters; ++t) {
    writers.emplace_back([&, t] {
      for (int i = 0; !stop.load(); ++i) {
        if (!store_->Create("/race/" + std::to_string(t) + "/" + std::to_string(i), "v").ok()) {
          break;
        }
      }
    });
  }
  std::vector<std::unique_ptr<WatchRecorder>> recs;
  std::vector<Revision> starts;
  std::vector<std::unique_ptr<Watch>> watches;
  for (int i = 0; i < kWatches; ++i) {
    Revision now = MustCurrentRevision();
    Revision after = now - Revision{i % 3} * 5;  // some replay, some live, some at the seam
    if (after < 0) {
      after = 0;
    }
    recs.push_back(std::make_unique<WatchRecorder>());
    auto w = store_->WatchPrefix("/race/", after, recs.back()->Callbacks());
    ASSERT_TRUE(w.ok()) << w.status().ToString();
    starts.push_back(after);
    watches.push_back(std::move(*w));
    // Let some writes through between registrations.
    Revision target = now + 3;
    ASSERT_TRUE(Eventually([&] { return MustCurrentRevision() >= target; }, Patience()));
  }
  stop = true;
  for (auto& t : writers) {
    t.join();
  }
  Revision end = MustCurrentRevision();
  for (int i = 0; i < kWatches; ++i) {
    SCOPED_TRACE("watch " + std::to_string(i) + " from " + std::to_string(starts[i]));
    ASSERT_TRUE(recs[i]->WaitForEvents(static_cast<size_t>(end - starts[i]), Patience()));
    EXPECT_EQ(recs[i]->Revisions(), Range(starts[i] + 1, end));
    EXPECT_TRUE(recs[i]->Violations().empty());
  }
  watches.clear();
}

}  // namespace
}  // namespace lintel::store::testing
