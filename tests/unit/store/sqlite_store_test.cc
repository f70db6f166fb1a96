// SqliteStore: the conformance suite on a FakeClock, plus what is specific to
// SQLite: group commit, slow watchers, bad files, full disks, closing.
#include "store/sqlite/sqlite_store.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <thread>

#include "common/clock.h"
#include "support/temp_dir.h"
#include "unit/store/faulty_vfs.h"
#include "unit/store/store_conformance.h"

namespace lintel::store::sqlite {
namespace {

using lintel::testing::TempDir;
using std::chrono::milliseconds;
using store::testing::Eventually;
using store::testing::FaultyVfs;
using store::testing::StoreConformanceTest;
using store::testing::StoreHarness;
using store::testing::StoreHarnessFactory;
using store::testing::WatchRecorder;

constexpr milliseconds kPatience{20000};

class SqliteHarness : public StoreHarness {
 public:
  Result<std::unique_ptr<Store>> Open() override {
    Options o;
    o.path = dir_.File("store.db");
    o.clock = &clock_;
    o.lease_sweep_interval = milliseconds(2);
    Result<std::unique_ptr<SqliteStore>> s = SqliteStore::Open(std::move(o));
    if (!s.ok()) {
      return s.error();
    }
    return std::unique_ptr<Store>(std::move(*s));
  }
  bool SupportsReopen() const override { return true; }
  void AdvanceTime(milliseconds d) override { clock_.Advance(d); }

 private:
  TempDir dir_;
  FakeClock clock_;
};

INSTANTIATE_TEST_SUITE_P(Sqlite, StoreConformanceTest,
                         ::testing::Values(StoreHarnessFactory{
                             "sqlite", [] { return std::make_unique<SqliteHarness>(); }}),
                         StoreHarnessFactory::Name);

class SqliteStoreTest : public ::testing::Test {
 protected:
  void SetUp() override { FaultyVfs::Get().Reset(); }  // registers it, too
  void TearDown() override { FaultyVfs::Get().Reset(); }

  Options BaseOptions() {
    Options o;
    o.path = dir_.File("store.db");
    o.clock = &clock_;
    o.lease_sweep_interval = milliseconds(2);
    return o;
  }
  std::unique_ptr<SqliteStore> MustOpen(Options o) {
    Result<std::unique_ptr<SqliteStore>> s = SqliteStore::Open(std::move(o));
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return s.ok() ? std::move(*s) : nullptr;
  }

  TempDir dir_;
  FakeClock clock_;
};

TEST_F(SqliteStoreTest, GroupCommitBatchesConcurrentWrites) {
  auto store = MustOpen(BaseOptions());
  ASSERT_NE(store, nullptr);
  constexpr int kThreads = 32;
  constexpr int kWrites = 20;
  std::vector<std::thread> threads;
  threads.reserve(kThreads);
  std::atomic<int> failures{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kWrites; ++i) {
        std::string key = "/gc/" + std::to_string(t) + "/" + std::to_string(i);
        if (!store->Create(key, std::string(512, 'v')).ok()) {
          ++failures;
        }
      }
    });
  }
  for (auto& t : threads) {
    t.join();
  }
  EXPECT_EQ(failures.load(), 0);
  Stats stats = store->GetStats();
  EXPECT_EQ(stats.ops, static_cast<uint64_t>(kThreads * kWrites));
  EXPECT_LT(stats.commits, stats.ops) << "no two writes shared a commit";
  EXPECT_GT(stats.largest_batch, 1u);
  EXPECT_EQ(stats.failed_batches, 0u);
  EXPECT_EQ(*store->CurrentRevision(), kThreads * kWrites);
  std::cout << "commits " << stats.commits << " for " << stats.ops << " writes, largest batch "
            << stats.largest_batch << "\n";
}

TEST_F(SqliteStoreTest, FailedOpInBatchDoesNotAbortOthers) {
  auto store = MustOpen(BaseOptions());
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->Create("/dup", "v").ok());
  // Many racing writers, half of them doomed: each outcome is its own.
  std::vector<std::thread> threads;
  threads.reserve(16);
  std::atomic<int> ok{0};
  std::atomic<int> exists{0};
  for (int t = 0; t < 16; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 10; ++i) {
        Result<Revision> r = (t % 2 == 0)
                                 ? store->Create("/dup", "again")
                                 : store->Create("/ok/" + std::to_string(t * 100 + i), "v");
        if (r.ok()) {
          ++ok;
        }
        if (!r.ok() && r.error().code() == Code::kAlreadyExists) {
          ++exists;
        }
      }
    });
  }
  for (auto& t : threads) {
    t.join();
  }
  EXPECT_EQ(ok.load(), 80);
  EXPECT_EQ(exists.load(), 80);
  EXPECT_EQ(*store->CurrentRevision(), 81);
}

TEST_F(SqliteStoreTest, SlowWatcherDoesNotStallCommitsAndIsEndedWhenBehind) {
  Options o = BaseOptions();
  o.watch_buffer_limit = 16;
  auto store = MustOpen(std::move(o));
  ASSERT_NE(store, nullptr);

  std::mutex mu;
  std::condition_variable cv;
  bool entered = false;
  bool release = false;
  std::atomic<int> error_code{-1};
  std::string error_message;
  WatchCallbacks cb;
  cb.on_events = [&](std::vector<Event>&&) {
    std::unique_lock<std::mutex> l(mu);
    entered = true;
    cv.notify_all();
    cv.wait(l, [&] { return release; });
  };
  cb.on_error = [&](const Status& s) {
    std::lock_guard<std::mutex> l(mu);
    error_message = s.message();
    error_code = static_cast<int>(s.code());
  };
  auto w = store->WatchPrefix("/slow/", 0, std::move(cb));
  ASSERT_TRUE(w.ok());
  ASSERT_TRUE(store->Create("/slow/0", "v").ok());
  {
    std::unique_lock<std::mutex> l(mu);
    ASSERT_TRUE(cv.wait_for(l, kPatience, [&] { return entered; }));
  }
  // The watcher is stuck in its callback; writes still commit.
  for (int i = 1; i <= 50; ++i) {
    ASSERT_TRUE(store->Create("/slow/" + std::to_string(i), "v").ok());
  }
  // A healthy watcher registered meanwhile is unaffected once the slow one returns.
  WatchRecorder healthy;
  auto w2 = store->WatchPrefix("/slow/", 0, healthy.Callbacks());
  ASSERT_TRUE(w2.ok());
  {
    std::lock_guard<std::mutex> l(mu);
    release = true;
    cv.notify_all();
  }
  ASSERT_TRUE(Eventually([&] { return error_code.load() >= 0; }, kPatience));
  EXPECT_EQ(error_code.load(), static_cast<int>(Code::kUnavailable));
  {
    std::lock_guard<std::mutex> l(mu);
    EXPECT_NE(error_message.find("fell behind"), std::string::npos) << error_message;
  }
  ASSERT_TRUE(healthy.WaitForEvents(51, kPatience));
  EXPECT_FALSE(healthy.Error().has_value());
}

TEST_F(SqliteStoreTest, OpenCorruptFileIsInternalWithPath) {
  std::string path = dir_.File("store.db");
  {
    std::ofstream f(path);
    f << std::string(8192, 'Z');
  }
  Options o = BaseOptions();
  Result<std::unique_ptr<SqliteStore>> s = SqliteStore::Open(std::move(o));
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code(), Code::kInternal) << s.error().ToString();
  EXPECT_NE(s.error().message().find(path), std::string::npos) << s.error().message();
  EXPECT_NE(s.error().message().find("not a database"), std::string::npos) << s.error().message();
}

TEST_F(SqliteStoreTest, OpenInMissingDirectoryIsUnavailable) {
  Options o = BaseOptions();
  o.path = dir_.File("missing/dir/store.db");
  Result<std::unique_ptr<SqliteStore>> s = SqliteStore::Open(std::move(o));
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code(), Code::kUnavailable) << s.error().ToString();
  EXPECT_NE(s.error().message().find("missing/dir/store.db"), std::string::npos);
}

TEST_F(SqliteStoreTest, OpenDirectoryAsDatabaseFails) {
  Options o = BaseOptions();
  o.path = dir_.path();
  Result<std::unique_ptr<SqliteStore>> s = SqliteStore::Open(std::move(o));
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code(), Code::kUnavailable) << s.error().ToString();
  EXPECT_NE(s.error().message().find(dir_.path()), std::string::npos) << s.error().ToString();
  EXPECT_FALSE(std::filesystem::exists(dir_.path() + ".lock")) << "left a file outside the dir";
}

TEST_F(SqliteStoreTest, SecondOpenOfSamePathIsUnavailable) {
  auto first = MustOpen(BaseOptions());
  ASSERT_NE(first, nullptr);
  Result<std::unique_ptr<SqliteStore>> second = SqliteStore::Open(BaseOptions());
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.error().code(), Code::kUnavailable);
  EXPECT_NE(second.error().message().find("in use"), std::string::npos) << second.error().message();
  first.reset();
  EXPECT_NE(MustOpen(BaseOptions()), nullptr);
}

TEST_F(SqliteStoreTest, FullDiskFailsWritesWithoutCorruption) {
  Options o = BaseOptions();
  o.vfs = FaultyVfs::kName;
  FaultyVfs& vfs = FaultyVfs::Get();
  auto store = MustOpen(o);
  ASSERT_NE(store, nullptr);
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(store->Create("/d/" + std::to_string(i), "v").ok());
  }
  Revision before = *store->CurrentRevision();
  WatchRecorder rec;
  auto w = store->WatchPrefix("/d/", before, rec.Callbacks());
  ASSERT_TRUE(w.ok());

  vfs.SetFailWrites(true);
  Result<Revision> r = store->Create("/d/full", std::string(size_t{64} * 1024, 'x'));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), Code::kUnavailable) << r.error().ToString();
  EXPECT_NE(r.error().message().find("sqlite: "), std::string::npos) << r.error().message();
  EXPECT_NE(r.error().message().find("full"), std::string::npos) << r.error().message();
  EXPECT_EQ(*store->CurrentRevision(), before);
  EXPECT_EQ(store->Get("/d/full").status().code(), Code::kNotFound);
  EXPECT_EQ(store->Update("/d/0", "v2", 0).status().code(), Code::kUnavailable);
  EXPECT_GE(store->GetStats().failed_batches, 2u);

  vfs.SetFailWrites(false);
  Result<Revision> after = store->Create("/d/full", "fits now");
  ASSERT_TRUE(after.ok()) << after.status().ToString();
  EXPECT_EQ(*after, before + 1);
  ASSERT_TRUE(rec.WaitForEvents(1, kPatience));
  EXPECT_EQ(rec.Revisions(), std::vector<Revision>{before + 1});

  w->reset();
  store.reset();
  // The file is sound, and holds exactly the committed writes.
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(o.path.c_str(), &db), SQLITE_OK);
    sqlite3_stmt* stmt = nullptr;
    ASSERT_EQ(sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &stmt, nullptr), SQLITE_OK);
    ASSERT_EQ(sqlite3_step(stmt), SQLITE_ROW);
    EXPECT_STREQ(reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0)), "ok");
    sqlite3_finalize(stmt);
    sqlite3_close(db);
  }
  o.vfs.clear();
  store = MustOpen(o);
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(*store->CurrentRevision(), before + 1);
  EXPECT_EQ(store->Get("/d/full")->value, "fits now");
  EXPECT_EQ(store->Get("/d/0")->value, "v");
}

TEST_F(SqliteStoreTest, FullSyncCommitWritesTheWalInFewCalls) {
  for (Options::Sync sync : {Options::Sync::kFull, Options::Sync::kNormal}) {
    bool full = sync == Options::Sync::kFull;
    SCOPED_TRACE(full ? "kFull" : "kNormal");
    TempDir dir;
    Options o = BaseOptions();
    o.path = dir.File("store.db");
    o.sync = sync;
    o.vfs = FaultyVfs::kName;
    auto store = MustOpen(o);
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(store->Create("/warm", "up").ok());
    FaultyVfs::Get().Reset();
    // 64 KiB: about 20 WAL frames, two write calls each without coalescing.
    ASSERT_TRUE(store->Create("/big", std::string(size_t{64} * 1024, 'x')).ok());
    int writes = FaultyVfs::Get().WalWrites();
    if (full) {
      EXPECT_LE(writes, 2) << "WAL frames were not coalesced";
    } else {
      EXPECT_GT(writes, 20) << "kNormal must not buffer (no sync to flush at)";
    }
    EXPECT_EQ(store->Get("/big")->value.size(), size_t{64} * 1024);
  }
}

TEST_F(SqliteStoreTest, ReadsDoNotWaitForTheWriter) {
  Options o = BaseOptions();
  o.vfs = FaultyVfs::kName;
  FaultyVfs& vfs = FaultyVfs::Get();
  auto store = MustOpen(o);
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->Create("/rd/a", "v").ok());

  vfs.SetHoldSyncs(true);
  std::thread writer([&] { EXPECT_TRUE(store->Create("/rd/b", "v").ok()); });
  ASSERT_TRUE(vfs.WaitForHeldSync(kPatience));
  // The writer is stuck in its commit's fsync. Reads answer, and do not see
  // the unacknowledged write.
  EXPECT_EQ(store->Get("/rd/a")->value, "v");
  EXPECT_EQ(store->Get("/rd/b").status().code(), Code::kNotFound);
  Result<ListResult> list = store->List("/rd/", ListOptions{});
  ASSERT_TRUE(list.ok());
  EXPECT_EQ(list->kvs.size(), 1u);
  EXPECT_EQ(*store->CurrentRevision(), 1);
  vfs.SetHoldSyncs(false);
  writer.join();
  EXPECT_EQ(*store->CurrentRevision(), 2);
}

TEST_F(SqliteStoreTest, CloseFinishesBatchInFlightAndFailsTheRest) {
  Options o = BaseOptions();
  o.vfs = FaultyVfs::kName;
  FaultyVfs& vfs = FaultyVfs::Get();
  auto store = MustOpen(o);
  ASSERT_NE(store, nullptr);
  WatchRecorder rec;
  auto w = store->WatchPrefix("/cl/", 0, rec.Callbacks());
  ASSERT_TRUE(w.ok());

  vfs.SetHoldSyncs(true);
  Status first;
  std::thread in_flight([&] { first = store->Create("/cl/first", "v").status(); });
  ASSERT_TRUE(vfs.WaitForHeldSync(kPatience));
  std::vector<Status> queued(4);
  std::vector<std::thread> others;
  others.reserve(queued.size());
  for (size_t i = 0; i < queued.size(); ++i) {
    others.emplace_back(
        [&, i] { queued[i] = store->Create("/cl/queued" + std::to_string(i), "v").status(); });
  }
  std::thread closer([&] { store->Close(); });
  // Close has begun once reads are refused.
  ASSERT_TRUE(Eventually([&] { return !store->CurrentRevision().ok(); }, kPatience));
  vfs.SetHoldSyncs(false);
  closer.join();
  in_flight.join();
  for (auto& t : others) {
    t.join();
  }

  EXPECT_TRUE(first.ok()) << first.ToString();
  for (const Status& s : queued) {
    EXPECT_EQ(s.code(), Code::kUnavailable) << s.ToString();
    EXPECT_NE(s.message().find("store closing"), std::string::npos) << s.ToString();
  }
  EXPECT_EQ(store->Create("/cl/late", "v").status().code(), Code::kUnavailable);
  EXPECT_EQ(store->Get("/cl/first").status().code(), Code::kUnavailable);
  ASSERT_TRUE(rec.WaitForError(kPatience));
  EXPECT_EQ(rec.Error()->code(), Code::kUnavailable);
  EXPECT_EQ(store->WatchPrefix("/cl/", 0, WatchCallbacks{}).status().code(), Code::kUnavailable);

  w->reset();  // after Close: must not hang or crash
  store.reset();
  o.vfs.clear();
  store = MustOpen(o);
  ASSERT_NE(store, nullptr);
  EXPECT_TRUE(store->Get("/cl/first").ok());
  EXPECT_EQ(*store->CurrentRevision(), 1);
}

TEST_F(SqliteStoreTest, WatchHandleMayOutliveTheStore) {
  auto store = MustOpen(BaseOptions());
  ASSERT_NE(store, nullptr);
  WatchRecorder rec;
  auto w = store->WatchPrefix("/", 0, rec.Callbacks());
  ASSERT_TRUE(w.ok());
  store.reset();
  ASSERT_TRUE(rec.WaitForError(kPatience));
  EXPECT_EQ(rec.Error()->code(), Code::kUnavailable);
  w->reset();
}

TEST_F(SqliteStoreTest, LeaseTtlRestartsAfterReopen) {
  auto store = MustOpen(BaseOptions());
  ASSERT_NE(store, nullptr);
  Result<LeaseId> lease = store->GrantLease(std::chrono::seconds(10));  // t=0
  ASSERT_TRUE(lease.ok());
  ASSERT_TRUE(store->Create("/lr/k", "v", *lease).ok());
  clock_.Advance(std::chrono::seconds(9));
  store.reset();
  store = MustOpen(BaseOptions());  // t=9: the lease now runs until t=19
  ASSERT_NE(store, nullptr);
  Result<LeaseId> canary = store->GrantLease(std::chrono::seconds(5));  // until t=14
  ASSERT_TRUE(canary.ok());
  ASSERT_TRUE(store->Create("/lr/canary", "v", *canary).ok());
  clock_.Advance(std::chrono::seconds(9));  // t=18
  ASSERT_TRUE(Eventually([&] { return !store->Get("/lr/canary").ok(); }, kPatience));
  EXPECT_TRUE(store->Get("/lr/k").ok()) << "expired by its pre-reopen deadline";
  clock_.Advance(std::chrono::seconds(2));  // t=20
  ASSERT_TRUE(Eventually([&] { return !store->Get("/lr/k").ok(); }, kPatience));
}

TEST_F(SqliteStoreTest, CompactionTrimsHistoryInTheBackground) {
  auto store = MustOpen(BaseOptions());
  ASSERT_NE(store, nullptr);
  // 3000 updates of 10 keys: 3 compaction pages.
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(store->Create("/t/" + std::to_string(i), "0").ok());
  }
  for (int round = 1; round <= 300; ++round) {
    for (int i = 0; i < 10; ++i) {
      ASSERT_TRUE(store->Update("/t/" + std::to_string(i), std::to_string(round), 0).ok());
    }
  }
  Revision current = *store->CurrentRevision();
  ASSERT_TRUE(store->Compact(current - 5).ok());
  std::string path = BaseOptions().path;
  auto history_rows = [&] {
    sqlite3* db = nullptr;
    int64_t n = -1;
    if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
      sqlite3_stmt* stmt = nullptr;
      if (sqlite3_prepare_v2(db, "SELECT count(*) FROM history", -1, &stmt, nullptr) == SQLITE_OK &&
          sqlite3_step(stmt) == SQLITE_ROW) {
        n = sqlite3_column_int64(stmt, 0);
      }
      sqlite3_finalize(stmt);
    }
    sqlite3_close(db);
    return n;
  };
  // Left: the 5 rows above the compacted revision (keys 5-9, round 300) and
  // every key's newest row at or below it (keys 0-4 round 300, 5-9 round 299).
  ASSERT_TRUE(Eventually([&] { return history_rows() == 15; }, kPatience)) << history_rows();
  ListOptions before_last;
  before_last.revision = current - 1;
  ListResult at = *store->List("/t/", before_last);
  ASSERT_EQ(at.kvs.size(), 10u);
  for (const KeyValue& kv : at.kvs) {
    EXPECT_EQ(kv.value, kv.key == "/t/9" ? "299" : "300") << kv.key;
  }
}

// Checkpoints run on their own connection. One that never learned the
// database is in WAL mode checkpoints nothing (SQLite answers OK), and the WAL
// grows by every byte written: this writes 16x the threshold, with readers
// holding snapshots now and then, and expects the WAL to stay near it.
TEST_F(SqliteStoreTest, CheckpointsKeepTheWalBoundedUnderLoad) {
  Options o = BaseOptions();
  o.checkpoint_pages = 64;  // 256 KiB
  std::string path = o.path;
  auto store = MustOpen(std::move(o));
  ASSERT_NE(store, nullptr);
  std::atomic<bool> done{false};
  std::thread reader([&] {
    while (!done.load()) {
      (void)store->List("/w/", ListOptions{});
    }
  });
  const std::string value(2000, 'v');
  constexpr int kKeys = 2000;  // ~4 MiB of values, ~16 rounds' worth of WAL with history
  for (int i = 0; i < kKeys; ++i) {
    ASSERT_TRUE(store->Create("/w/" + std::to_string(i), value).ok());
  }
  done = true;
  reader.join();
  const auto wal_bytes = [&] {
    std::error_code ec;
    auto n = std::filesystem::file_size(path + "-wal", ec);
    return ec ? uintmax_t{0} : n;
  };
  std::error_code ec;
  const uintmax_t db_bytes = std::filesystem::file_size(path, ec);
  ASSERT_FALSE(ec);
  EXPECT_GT(db_bytes, uintmax_t{3} << 20) << "the rows reached the database file";
  EXPECT_LT(wal_bytes(), uintmax_t{2} << 20) << "WAL of " << wal_bytes() << " bytes";
}

}  // namespace
}  // namespace lintel::store::sqlite
