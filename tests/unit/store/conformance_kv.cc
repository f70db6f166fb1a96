// Conformance: create/get/update/delete semantics, error codes, revisions.
#include "unit/store/store_conformance.h"

namespace lintel::store::testing {
namespace {

TEST_P(StoreConformanceTest, NewStoreIsAtRevisionZero) {
  EXPECT_EQ(MustCurrentRevision(), 0);
  Result<Revision> compacted = store_->CompactedRevision();
  ASSERT_TRUE(compacted.ok());
  EXPECT_EQ(*compacted, 0);
  EXPECT_TRUE(MustList("").kvs.empty());
}

TEST_P(StoreConformanceTest, CreateThenGet) {
  Revision rev = MustCreate("/a", "one");
  EXPECT_GT(rev, 0);
  Result<KeyValue> kv = store_->Get("/a");
  ASSERT_TRUE(kv.ok()) << kv.status().ToString();
  EXPECT_EQ(kv->key, "/a");
  EXPECT_EQ(kv->value, "one");
  EXPECT_EQ(kv->create_revision, rev);
  EXPECT_EQ(kv->mod_revision, rev);
  EXPECT_EQ(kv->lease, 0);
  EXPECT_EQ(MustCurrentRevision(), rev);
}

TEST_P(StoreConformanceTest, ValuesAreOpaqueBytes) {
  std::string value("\0\x01\xff binary \0", 12);
  std::string big(size_t{256} * 1024, 'x');
  MustCreate("/bin", value);
  MustCreate("/big", big);
  MustCreate("/empty", "");
  EXPECT_EQ(store_->Get("/bin")->value, value);
  EXPECT_EQ(store_->Get("/big")->value, big);
  Result<KeyValue> empty = store_->Get("/empty");
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(empty->value, "");
}

TEST_P(StoreConformanceTest, CreateExistingIsAlreadyExists) {
  Revision rev = MustCreate("/a", "one");
  Result<Revision> again = store_->Create("/a", "two");
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code(), Code::kAlreadyExists) << again.error().ToString();
  EXPECT_EQ(store_->Get("/a")->value, "one");
  EXPECT_EQ(MustCurrentRevision(), rev);
}

TEST_P(StoreConformanceTest, GetMissingIsNotFound) {
  Result<KeyValue> kv = store_->Get("/nope");
  ASSERT_FALSE(kv.ok());
  EXPECT_EQ(kv.error().code(), Code::kNotFound);
}

TEST_P(StoreConformanceTest, EmptyKeyIsBadRequest) {
  EXPECT_EQ(store_->Create("", "v").status().code(), Code::kBadRequest);
  EXPECT_EQ(store_->Update("", "v", 0).status().code(), Code::kBadRequest);
  EXPECT_EQ(store_->Delete("").status().code(), Code::kBadRequest);
  EXPECT_EQ(MustCurrentRevision(), 0);
}

TEST_P(StoreConformanceTest, UpdateReplacesValueAndKeepsCreateRevision) {
  Revision created = MustCreate("/a", "one");
  Revision updated = MustUpdate("/a", "two", created);
  EXPECT_EQ(updated, created + 1);
  Revision again = MustUpdate("/a", "three");  // unconditional
  EXPECT_EQ(again, updated + 1);
  Result<KeyValue> kv = store_->Get("/a");
  ASSERT_TRUE(kv.ok());
  EXPECT_EQ(kv->value, "three");
  EXPECT_EQ(kv->create_revision, created);
  EXPECT_EQ(kv->mod_revision, again);
}

TEST_P(StoreConformanceTest, UpdateMissingIsNotFound) {
  Result<Revision> r = store_->Update("/nope", "v", 0);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), Code::kNotFound);
  EXPECT_EQ(MustCurrentRevision(), 0);
}

TEST_P(StoreConformanceTest, UpdateWithStaleRevisionIsConflict) {
  Revision created = MustCreate("/a", "one");
  Revision updated = MustUpdate("/a", "two", created);
  Result<Revision> stale = store_->Update("/a", "three", created);
  ASSERT_FALSE(stale.ok());
  EXPECT_EQ(stale.error().code(), Code::kConflict) << stale.error().ToString();
  EXPECT_EQ(store_->Get("/a")->value, "two");
  EXPECT_EQ(MustCurrentRevision(), updated);
}

TEST_P(StoreConformanceTest, DeleteReturnsItsRevision) {
  Revision created = MustCreate("/a", "one");
  Revision deleted = MustDelete("/a", created);
  EXPECT_EQ(deleted, created + 1);
  EXPECT_EQ(MustCurrentRevision(), deleted);
  EXPECT_EQ(store_->Get("/a").status().code(), Code::kNotFound);
}

TEST_P(StoreConformanceTest, DeleteErrors) {
  EXPECT_EQ(store_->Delete("/nope").status().code(), Code::kNotFound);
  Revision created = MustCreate("/a", "one");
  MustUpdate("/a", "two");
  Result<Revision> stale = store_->Delete("/a", created);
  ASSERT_FALSE(stale.ok());
  EXPECT_EQ(stale.error().code(), Code::kConflict);
  EXPECT_TRUE(store_->Get("/a").ok());
  MustDelete("/a");
  EXPECT_EQ(store_->Delete("/a").status().code(), Code::kNotFound);
}

TEST_P(StoreConformanceTest, RecreatedKeyGetsNewCreateRevision) {
  Revision first = MustCreate("/a", "one");
  MustDelete("/a");
  Revision second = MustCreate("/a", "two");
  EXPECT_GT(second, first);
  Result<KeyValue> kv = store_->Get("/a");
  ASSERT_TRUE(kv.ok());
  EXPECT_EQ(kv->create_revision, second);
  EXPECT_EQ(kv->value, "two");
}

TEST_P(StoreConformanceTest, RevisionsAreGaplessAndCountOnlySuccessfulWrites) {
  Revision last = MustCurrentRevision();
  auto expect_next = [&](Revision rev) {
    EXPECT_EQ(rev, last + 1);
    last = rev;
    EXPECT_EQ(MustCurrentRevision(), last);
  };
  expect_next(MustCreate("/r/1", "a"));
  expect_next(MustCreate("/r/2", "b"));
  EXPECT_FALSE(store_->Create("/r/1", "dup").ok());
  EXPECT_FALSE(store_->Update("/r/3", "x", 0).ok());
  EXPECT_FALSE(store_->Update("/r/1", "x", last + 100).ok());
  EXPECT_FALSE(store_->Delete("/r/3").ok());
  EXPECT_EQ(MustCurrentRevision(), last);
  expect_next(MustUpdate("/r/1", "a2"));
  expect_next(MustDelete("/r/2"));
  expect_next(MustCreate("/r/2", "b2"));
}

}  // namespace
}  // namespace lintel::store::testing
