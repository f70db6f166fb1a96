// Conformance: lists by prefix, paging, counts, reads at past revisions and
// compaction.
#include <gmock/gmock.h>

#include <map>

#include "unit/store/store_conformance.h"

namespace lintel::store::testing {
namespace {

using ::testing::ElementsAre;

TEST_P(StoreConformanceTest, ListByPrefixIsolatesPrefixes) {
  MustCreate("/a", "x");
  MustCreate("/a/1", "x");
  MustCreate("/a/2", "x");
  MustCreate("/ab/1", "x");
  MustCreate("/a0", "x");
  MustCreate("/b/1", "x");
  EXPECT_THAT(Keys(MustList("/a/")), ElementsAre("/a/1", "/a/2"));
  EXPECT_THAT(Keys(MustList("/ab/")), ElementsAre("/ab/1"));
  EXPECT_THAT(Keys(MustList("/a")), ElementsAre("/a", "/a/1", "/a/2", "/a0", "/ab/1"));
  EXPECT_THAT(Keys(MustList("/c/")), ElementsAre());
  EXPECT_EQ(MustList("").kvs.size(), 6u);
}

TEST_P(StoreConformanceTest, KeysAreOrderedBytewise) {
  // memcmp order: 0x00 < '0' < 'A' < 'a' < 0x7f < 0x80 < 0xff.
  std::vector<std::string> keys = {std::string("/k/\0", 4),
                                   "/k/0",
                                   "/k/A",
                                   "/k/a",
                                   "/k/\x7f",
                                   "/k/\x80",
                                   "/k/\xff",
                                   "/k/\xff\xff"};
  for (auto it = keys.rbegin(); it != keys.rend(); ++it) {
    MustCreate(*it, "v");
  }
  EXPECT_EQ(Keys(MustList("/k/")), keys);
  // A prefix ending in 0xff has no simple successor.
  EXPECT_THAT(Keys(MustList("/k/\xff")), ElementsAre("/k/\xff", "/k/\xff\xff"));
  EXPECT_TRUE(store_->Get(std::string("/k/\0", 4)).ok());
}

TEST_P(StoreConformanceTest, ListReturnsFullKeyValues) {
  Revision created = MustCreate("/p/a", "one");
  Revision updated = MustUpdate("/p/a", "two");
  ListResult r = MustList("/p/");
  ASSERT_EQ(r.kvs.size(), 1u);
  EXPECT_EQ(r.kvs[0].value, "two");
  EXPECT_EQ(r.kvs[0].create_revision, created);
  EXPECT_EQ(r.kvs[0].mod_revision, updated);
  EXPECT_EQ(r.revision, updated);
  EXPECT_FALSE(r.more);
}

TEST_P(StoreConformanceTest, ListPagesWithStartAfterAndLimit) {
  std::vector<std::string> all;
  for (int i = 0; i < 10; ++i) {
    all.push_back("/p/" + std::to_string(i));
    MustCreate(all.back(), "v" + std::to_string(i));
  }
  MustCreate("/q/0", "other");
  std::vector<std::string> seen;
  ListOptions o;
  o.limit = 3;
  int pages = 0;
  while (true) {
    Result<ListResult> page = store_->List("/p/", o);
    ASSERT_TRUE(page.ok()) << page.status().ToString();
    ++pages;
    ASSERT_LE(page->kvs.size(), 3u);
    for (const KeyValue& kv : page->kvs) {
      seen.push_back(kv.key);
    }
    if (!page->more) {
      break;
    }
    ASSERT_FALSE(page->kvs.empty());
    // Later pages read at the first page's revision, as Kubernetes continue tokens do.
    o.revision = page->revision;
    o.start_after = page->kvs.back().key;
    // A write between pages must not show up in them.
    if (pages == 1) {
      MustCreate("/p/05", "late");
    }
  }
  EXPECT_EQ(pages, 4);
  EXPECT_EQ(seen, all);
  ListOptions exact;
  exact.limit = 10;
  Result<ListResult> r = store_->List("/p/", exact);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->kvs.size(), 10u);
  EXPECT_TRUE(r->more);  // "/p/05" was added
  exact.limit = 11;
  r = store_->List("/p/", exact);
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->more);
}

TEST_P(StoreConformanceTest, ListCountOnly) {
  for (int i = 0; i < 5; ++i) {
    MustCreate("/c/" + std::to_string(i), "v");
  }
  MustCreate("/cc/0", "v");
  ListOptions o;
  o.count_only = true;
  Result<ListResult> r = store_->List("/c/", o);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->count, 5);
  EXPECT_TRUE(r->kvs.empty());
  Revision before_delete = MustCurrentRevision();
  MustDelete("/c/0");
  r = store_->List("/c/", o);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->count, 4);
  o.revision = before_delete;
  r = store_->List("/c/", o);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->count, 5);
}

TEST_P(StoreConformanceTest, ListAtPastRevisionSeesThatState) {
  Revision a1 = MustCreate("/h/a", "a1");
  Revision b1 = MustCreate("/h/b", "b1");
  Revision c1 = MustCreate("/h/c", "c1");
  Revision a2 = MustUpdate("/h/a", "a2");
  Revision b_deleted = MustDelete("/h/b");
  Revision d1 = MustCreate("/h/d", "d1");
  Revision b2 = MustCreate("/h/b", "b2");

  // Expected state at every revision, rebuilt by hand.
  using State = std::map<std::string, std::pair<std::string, Revision>>;
  std::map<Revision, State> want;
  want[a1] = {{"/h/a", {"a1", a1}}};
  want[b1] = {{"/h/a", {"a1", a1}}, {"/h/b", {"b1", b1}}};
  want[c1] = {{"/h/a", {"a1", a1}}, {"/h/b", {"b1", b1}}, {"/h/c", {"c1", c1}}};
  want[a2] = {{"/h/a", {"a2", a2}}, {"/h/b", {"b1", b1}}, {"/h/c", {"c1", c1}}};
  want[b_deleted] = {{"/h/a", {"a2", a2}}, {"/h/c", {"c1", c1}}};
  want[d1] = {{"/h/a", {"a2", a2}}, {"/h/c", {"c1", c1}}, {"/h/d", {"d1", d1}}};
  want[b2] = {
      {"/h/a", {"a2", a2}}, {"/h/b", {"b2", b2}}, {"/h/c", {"c1", c1}}, {"/h/d", {"d1", d1}}};
  for (const auto& [rev, state] : want) {
    SCOPED_TRACE("revision " + std::to_string(rev));
    ListResult r = MustList("/h/", rev);
    EXPECT_EQ(r.revision, rev);
    State got;
    for (const KeyValue& kv : r.kvs) {
      got[kv.key] = {kv.value, kv.mod_revision};
    }
    EXPECT_EQ(got, state);
    // The same state page by page.
    ListOptions o;
    o.revision = rev;
    o.limit = 1;
    State paged;
    while (true) {
      Result<ListResult> page = store_->List("/h/", o);
      ASSERT_TRUE(page.ok()) << page.status().ToString();
      for (const KeyValue& kv : page->kvs) {
        paged[kv.key] = {kv.value, kv.mod_revision};
      }
      if (!page->more) {
        break;
      }
      o.start_after = page->kvs.back().key;
    }
    EXPECT_EQ(paged, state);
  }
  // The value at a past revision keeps its create_revision.
  ListResult r = MustList("/h/a", a1);
  ASSERT_EQ(r.kvs.size(), 1u);
  EXPECT_EQ(r.kvs[0].create_revision, a1);
}

TEST_P(StoreConformanceTest, ListAtFutureRevisionIsBadRequest) {
  Revision rev = MustCreate("/a", "v");
  ListOptions o;
  o.revision = rev + 1;
  Result<ListResult> r = store_->List("/", o);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), Code::kBadRequest) << r.error().ToString();
}

TEST_P(StoreConformanceTest, CompactionMakesOldRevisionsGoneAndKeepsState) {
  Revision old_only = MustCreate("/k/old", "kept");  // last written before compaction
  Revision gone_key = MustCreate("/k/deleted", "x");
  MustUpdate("/k/old", "kept2");
  MustDelete("/k/deleted");
  Revision x1 = MustCreate("/k/x", "x1");
  Revision x2 = MustUpdate("/k/x", "x2");
  Revision compact_at = MustCurrentRevision();
  Revision x3 = MustUpdate("/k/x", "x3");
  Revision y1 = MustCreate("/k/y", "y1");
  (void)gone_key;
  (void)x1;

  ASSERT_TRUE(store_->Compact(compact_at).ok());
  Result<Revision> compacted = store_->CompactedRevision();
  ASSERT_TRUE(compacted.ok());
  EXPECT_EQ(*compacted, compact_at);

  for (Revision rev : {old_only, compact_at - 1, compact_at}) {
    ListOptions o;
    o.revision = rev;
    Result<ListResult> r = store_->List("/k/", o);
    ASSERT_FALSE(r.ok()) << "revision " << rev;
    EXPECT_EQ(r.error().code(), Code::kGone);
    EXPECT_NE(r.error().message().find("compacted"), std::string::npos) << r.error().message();
  }
  // Above the compacted revision, reads are exact, including keys last written
  // at or before it.
  ListResult at_x3 = MustList("/k/", x3);
  ASSERT_EQ(Keys(at_x3), (std::vector<std::string>{"/k/old", "/k/x"}));
  EXPECT_EQ(at_x3.kvs[0].value, "kept2");
  EXPECT_EQ(at_x3.kvs[1].value, "x3");
  ListResult latest = MustList("/k/");
  ASSERT_EQ(Keys(latest), (std::vector<std::string>{"/k/old", "/k/x", "/k/y"}));
  EXPECT_EQ(latest.kvs[0].create_revision, old_only);
  EXPECT_EQ(store_->Get("/k/y")->mod_revision, y1);

  // Compacting again at or below is a no-op; above the current revision, BadRequest.
  EXPECT_TRUE(store_->Compact(compact_at).ok());
  EXPECT_TRUE(store_->Compact(compact_at - 1).ok());
  EXPECT_EQ(*store_->CompactedRevision(), compact_at);
  Status future = store_->Compact(MustCurrentRevision() + 1);
  EXPECT_EQ(future.code(), Code::kBadRequest) << future.ToString();

  // Watches from below the compacted revision are refused; from it, they replay.
  ExpectWatchGone("/k/", compact_at - 1);
  WatchRecorder rec;
  Result<std::unique_ptr<Watch>> w = store_->WatchPrefix("/k/", compact_at, rec.Callbacks());
  ASSERT_TRUE(w.ok()) << w.status().ToString();
  ASSERT_TRUE(rec.WaitForEvents(2, Patience()));
  EXPECT_EQ(rec.Revisions(), (std::vector<Revision>{x3, y1}));
  ASSERT_TRUE(rec.Events()[0].prev.has_value());
  EXPECT_EQ(rec.Events()[0].prev->value, "x2");
  EXPECT_EQ(rec.Events()[0].prev->mod_revision, x2);
}

TEST_P(StoreConformanceTest, CompactionTwiceKeepsLaterReadsExact) {
  MustCreate("/m/a", "a1");
  MustCreate("/m/b", "b1");
  Revision first = MustCurrentRevision();
  MustUpdate("/m/a", "a2");
  MustDelete("/m/b");
  Revision between = MustCreate("/m/c", "c1");
  ASSERT_TRUE(store_->Compact(first).ok());
  MustUpdate("/m/c", "c2");
  Revision second = MustCurrentRevision();
  Revision after = MustCreate("/m/d", "d1");
  ASSERT_TRUE(store_->Compact(second).ok());
  ListOptions old;
  old.revision = between;
  EXPECT_EQ(store_->List("/m/", old).status().code(), Code::kGone);
  ListResult r = MustList("/m/", after);
  ASSERT_EQ(Keys(r), (std::vector<std::string>{"/m/a", "/m/c", "/m/d"}));
  EXPECT_EQ(r.kvs[0].value, "a2");
  EXPECT_EQ(r.kvs[1].value, "c2");
}

TEST_P(StoreConformanceTest, CompactionAcrossDeleteAndRecreate) {
  MustCreate("/z/k", "v1");
  MustUpdate("/z/k", "v2");
  Revision deleted = MustDelete("/z/k");
  Revision recreated = MustCreate("/z/k", "v3");
  Revision other = MustCreate("/z/other", "o");
  MustCreate("/z/gone", "g");
  Revision gone = MustDelete("/z/gone");
  ASSERT_TRUE(store_->Compact(deleted).ok());

  ListResult r = MustList("/z/", recreated);
  ASSERT_EQ(Keys(r), (std::vector<std::string>{"/z/k"}));
  EXPECT_EQ(r.kvs[0].value, "v3");
  EXPECT_EQ(r.kvs[0].create_revision, recreated);
  EXPECT_EQ(Keys(MustList("/z/", gone)), (std::vector<std::string>{"/z/k", "/z/other"}));
  {
    WatchRecorder rec;
    auto w = store_->WatchPrefix("/z/", deleted, rec.Callbacks());
    ASSERT_TRUE(w.ok());
    ASSERT_TRUE(rec.WaitForEvents(4, Patience()));
    std::vector<Event> e = rec.Events();
    EXPECT_EQ(e[0].revision(), recreated);
    EXPECT_FALSE(e[0].prev.has_value());  // a create, even after a delete
    EXPECT_EQ(e[1].revision(), other);
  }

  Revision v4 = MustUpdate("/z/k", "v4");
  ASSERT_TRUE(store_->Compact(gone).ok());
  EXPECT_EQ(Keys(MustList("/z/", v4)), (std::vector<std::string>{"/z/k", "/z/other"}));
  EXPECT_EQ(Keys(MustList("/z/")), (std::vector<std::string>{"/z/k", "/z/other"}));
  WatchRecorder rec;
  auto w = store_->WatchPrefix("/z/", gone, rec.Callbacks());
  ASSERT_TRUE(w.ok());
  ASSERT_TRUE(rec.WaitForEvents(1, Patience()));
  ASSERT_TRUE(rec.Events()[0].prev.has_value());
  EXPECT_EQ(rec.Events()[0].prev->value, "v3");
  EXPECT_EQ(rec.Events()[0].prev->mod_revision, recreated);
  // A key deleted before the compaction can be created afresh.
  Revision again = MustCreate("/z/gone", "g2");
  EXPECT_EQ(store_->Get("/z/gone")->create_revision, again);
  ListOptions count;
  count.count_only = true;
  EXPECT_EQ(store_->List("/z/", count)->count, 3);
}

}  // namespace
}  // namespace lintel::store::testing
