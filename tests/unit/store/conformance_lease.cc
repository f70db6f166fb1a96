// Conformance: leases (expiry, keep-alive, revoke, unknown leases).
#include <algorithm>

#include "unit/store/store_conformance.h"

namespace lintel::store::testing {
namespace {

using std::chrono::milliseconds;

TEST_P(StoreConformanceTest, LeaseExpiryDeletesKeysWithEvents) {
  LeaseId lease = MustGrant(LeaseTtl());
  Revision start = MustCurrentRevision();
  Revision a = MustCreate("/l/a", "v", lease);
  MustCreate("/l/b", "v", lease);
  MustCreate("/l/free", "v");
  Result<KeyValue> kv = store_->Get("/l/a");
  ASSERT_TRUE(kv.ok());
  EXPECT_EQ(kv->lease, lease);
  EXPECT_EQ(kv->mod_revision, a);

  WatchRecorder rec;
  auto w = store_->WatchPrefix("/l/", start, rec.Callbacks());
  ASSERT_TRUE(w.ok());
  ASSERT_TRUE(rec.WaitForEvents(3, Patience()));
  Revision before = MustCurrentRevision();
  harness_->AdvanceTime(Fraction(1.2));
  ASSERT_TRUE(WaitGone("/l/a"));
  ASSERT_TRUE(WaitGone("/l/b"));
  EXPECT_TRUE(store_->Get("/l/free").ok());
  EXPECT_GT(MustCurrentRevision(), before);

  ASSERT_TRUE(rec.WaitForEvents(5, Patience()));
  std::vector<Event> events = rec.Events();
  std::vector<std::string> deleted;
  for (size_t i = 3; i < events.size(); ++i) {
    EXPECT_EQ(events[i].type, EventType::kDelete);
    EXPECT_GT(events[i].revision(), before);
    ASSERT_TRUE(events[i].prev.has_value());
    EXPECT_EQ(events[i].prev->lease, lease);
    deleted.push_back(events[i].kv.key);
  }
  std::sort(deleted.begin(), deleted.end());
  EXPECT_EQ(deleted, (std::vector<std::string>{"/l/a", "/l/b"}));

  // The lease is gone with its keys.
  EXPECT_EQ(store_->KeepAlive(lease).code(), Code::kNotFound);
  EXPECT_EQ(store_->Create("/l/c", "v", lease).status().code(), Code::kNotFound);
}

TEST_P(StoreConformanceTest, LeaseKeepAliveExtendsLease) {
  LeaseId lease = MustGrant(LeaseTtl());
  MustCreate("/ka/key", "v", lease);
  // Canaries with half the TTL prove that expiry ran after each advance.
  LeaseId canary1 = MustGrant(Fraction(0.5));
  MustCreate("/ka/canary1", "v", canary1);
  harness_->AdvanceTime(Fraction(0.6));  // t = 0.6
  ASSERT_TRUE(WaitGone("/ka/canary1"));
  EXPECT_FALSE(Absent("/ka/key"));

  ASSERT_TRUE(store_->KeepAlive(lease).ok());  // deadline 1.6
  LeaseId canary2 = MustGrant(Fraction(0.5));  // deadline 1.1
  MustCreate("/ka/canary2", "v", canary2);
  harness_->AdvanceTime(Fraction(0.6));  // t = 1.2, past the original deadline
  ASSERT_TRUE(WaitGone("/ka/canary2"));
  EXPECT_FALSE(Absent("/ka/key"));

  harness_->AdvanceTime(Fraction(0.6));  // t = 1.8
  ASSERT_TRUE(WaitGone("/ka/key"));
  EXPECT_EQ(store_->KeepAlive(lease).code(), Code::kNotFound);
}

TEST_P(StoreConformanceTest, LeaseRevokeDeletesKeysNow) {
  LeaseId lease = MustGrant(LeaseTtl());
  MustCreate("/r/a", "v", lease);
  MustCreate("/r/b", "v", lease);
  Revision before = MustCurrentRevision();
  ASSERT_TRUE(store_->RevokeLease(lease).ok());
  EXPECT_TRUE(Absent("/r/a"));
  EXPECT_TRUE(Absent("/r/b"));
  EXPECT_GE(MustCurrentRevision(), before + 1);
  EXPECT_EQ(store_->RevokeLease(lease).code(), Code::kNotFound);
  EXPECT_EQ(store_->KeepAlive(lease).code(), Code::kNotFound);
}

TEST_P(StoreConformanceTest, LeaseUnknownIsNotFound) {
  constexpr LeaseId kUnknown = 987654321;
  EXPECT_EQ(store_->Create("/u/a", "v", kUnknown).status().code(), Code::kNotFound);
  MustCreate("/u/b", "v");
  EXPECT_EQ(store_->Update("/u/b", "v2", 0, kUnknown).status().code(), Code::kNotFound);
  EXPECT_EQ(store_->Get("/u/b")->value, "v");
  EXPECT_EQ(store_->KeepAlive(kUnknown).code(), Code::kNotFound);
  EXPECT_EQ(store_->RevokeLease(kUnknown).code(), Code::kNotFound);
  EXPECT_TRUE(Absent("/u/a"));
}

TEST_P(StoreConformanceTest, LeaseUpdateMovesKeyBetweenLeases) {
  LeaseId first = MustGrant(LeaseTtl());
  LeaseId second = MustGrant(LeaseTtl());
  MustCreate("/mv/a", "v", first);
  MustCreate("/mv/b", "v", first);
  MustUpdate("/mv/a", "v2", 0, second);  // now on `second`
  MustUpdate("/mv/b", "v2", 0, 0);       // detached
  EXPECT_EQ(store_->Get("/mv/a")->lease, second);
  EXPECT_EQ(store_->Get("/mv/b")->lease, 0);
  ASSERT_TRUE(store_->RevokeLease(first).ok());
  EXPECT_FALSE(Absent("/mv/a"));
  EXPECT_FALSE(Absent("/mv/b"));
  ASSERT_TRUE(store_->RevokeLease(second).ok());
  EXPECT_TRUE(Absent("/mv/a"));
  EXPECT_FALSE(Absent("/mv/b"));
}

TEST_P(StoreConformanceTest, LeaseNonPositiveTtlIsBadRequest) {
  EXPECT_EQ(store_->GrantLease(milliseconds(0)).status().code(), Code::kBadRequest);
  EXPECT_EQ(store_->GrantLease(milliseconds(-5)).status().code(), Code::kBadRequest);
}

}  // namespace
}  // namespace lintel::store::testing
