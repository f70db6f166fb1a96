// Conformance: concurrent compare-and-swap writers (a property test) and
// persistence across reopen.
#include <array>
#include <map>
#include <set>
#include <thread>

#include "unit/store/store_conformance.h"

namespace lintel::store::testing {
namespace {

TEST_P(StoreConformanceTest, ConcurrentCasIncrementsAreSerializable) {
  constexpr int kThreads = 8;
  constexpr int kIncrements = 25;  // successes per thread
  constexpr int kCounters = 4;
  for (int c = 0; c < kCounters; ++c) {
    MustCreate("/cas/" + std::to_string(c), "0");
  }
  Revision start = MustCurrentRevision();
  WatchRecorder rec;
  auto w = store_->WatchPrefix("/cas/", start, rec.Callbacks());
  ASSERT_TRUE(w.ok());

  struct Success {
    int counter;
    Revision revision;
  };
  std::vector<std::vector<Success>> successes(kThreads);
  std::vector<std::string> errors(kThreads);
  std::vector<std::thread> threads;
  threads.reserve(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kIncrements; ++i) {
        int counter = (t + i) % kCounters;
        std::string key = "/cas/" + std::to_string(counter);
        while (true) {
          Result<KeyValue> kv = store_->Get(key);
          if (!kv.ok()) {
            errors[t] = kv.status().ToString();
            return;
          }
          int value = std::stoi(kv->value);
          Result<Revision> r = store_->Update(key, std::to_string(value + 1), kv->mod_revision);
          if (r.ok()) {
            successes[t].push_back({counter, *r});
            break;
          }
          if (r.error().code() != Code::kConflict) {
            errors[t] = r.error().ToString();
            return;
          }
        }
      }
    });
  }
  for (auto& t : threads) {
    t.join();
  }
  for (const std::string& e : errors) {
    ASSERT_EQ(e, "");
  }

  Revision end = MustCurrentRevision();
  std::set<Revision> revisions;
  std::array<int, kCounters> per_counter{};
  for (const auto& list : successes) {
    for (const Success& s : list) {
      EXPECT_TRUE(revisions.insert(s.revision).second) << "revision " << s.revision << " twice";
      ++per_counter[s.counter];
    }
  }
  constexpr int kTotal = kThreads * kIncrements;
  ASSERT_EQ(revisions.size(), static_cast<size_t>(kTotal));
  EXPECT_EQ(*revisions.begin(), start + 1);
  EXPECT_EQ(*revisions.rbegin(), end);  // gapless: kTotal distinct in [start+1, end]
  EXPECT_EQ(end - start, kTotal);
  for (int c = 0; c < kCounters; ++c) {
    EXPECT_EQ(store_->Get("/cas/" + std::to_string(c))->value, std::to_string(per_counter[c]));
  }

  // The watcher saw every revision once, in order, each an increment by one.
  ASSERT_TRUE(rec.WaitForEvents(kTotal, Patience()));
  std::vector<Event> events = rec.Events();
  ASSERT_EQ(events.size(), static_cast<size_t>(kTotal));
  for (size_t i = 0; i < events.size(); ++i) {
    EXPECT_EQ(events[i].revision(), start + 1 + static_cast<Revision>(i));
    ASSERT_TRUE(events[i].prev.has_value());
    EXPECT_EQ(std::stoi(events[i].kv.value), std::stoi(events[i].prev->value) + 1);
  }
  EXPECT_TRUE(rec.Violations().empty());
}

TEST_P(StoreConformanceTest, ReopenKeepsDataRevisionsAndCompaction) {
  if (!harness_->SupportsReopen()) {
    GTEST_SKIP() << "this store does not persist across Open";
  }
  MustCreate("/ro/a", "a1");
  MustCreate("/ro/b", "b1");
  MustUpdate("/ro/a", "a2");
  Revision compact_at = MustDelete("/ro/b");
  Revision c = MustCreate("/ro/c", "c1");
  ASSERT_TRUE(store_->Compact(compact_at).ok());
  LeaseId lease = MustGrant(LeaseTtl());
  MustCreate("/ro/leased", "v", lease);
  Revision before = MustCurrentRevision();

  Reopen();
  EXPECT_EQ(MustCurrentRevision(), before);
  EXPECT_EQ(*store_->CompactedRevision(), compact_at);
  EXPECT_EQ(store_->Get("/ro/a")->value, "a2");
  EXPECT_TRUE(Absent("/ro/b"));
  EXPECT_FALSE(Absent("/ro/leased"));
  ListResult at_c = MustList("/ro/", c);
  EXPECT_EQ(Keys(at_c), (std::vector<std::string>{"/ro/a", "/ro/c"}));
  ListOptions old;
  old.revision = compact_at;
  EXPECT_EQ(store_->List("/ro/", old).status().code(), Code::kGone);

  // Revisions continue where they were.
  EXPECT_EQ(MustCreate("/ro/d", "d1"), before + 1);
  // History after the compacted revision replays.
  WatchRecorder rec;
  auto w = store_->WatchPrefix("/ro/", compact_at, rec.Callbacks());
  ASSERT_TRUE(w.ok());
  ASSERT_TRUE(rec.WaitForEvents(3, Patience()));
  EXPECT_EQ(rec.Revisions().front(), c);
  EXPECT_EQ(rec.Revisions().back(), before + 1);

  // The lease survived too, and still expires.
  EXPECT_TRUE(store_->KeepAlive(lease).ok());
  harness_->AdvanceTime(Fraction(1.2));
  EXPECT_TRUE(WaitGone("/ro/leased"));
}

}  // namespace
}  // namespace lintel::store::testing
