// store_bench: SqliteStore throughput and latency, with raw SQLite measured in
// the same run as the baseline (after leveldb's db_bench_sqlite3.cc).
//
//   Fsync                      append 4 KiB + fdatasync: the disk's floor
//   RawSqliteInsert/batch:N    plain table insert, WAL + synchronous=FULL,
//                              N inserts per transaction (1 and 64)
//   StoreCreate/threads:N      SqliteStore::Create (sync kFull) from N threads
//   StoreGet, StoreList        reads on 10,000 keys; List pages of 500
//   StoreListAtRevision        the same page at a past revision (continue tokens)
//   WatchDelivery              Create until the watcher's callback has the event
//
// Values are 1 KiB. Data lives under $LINTEL_BENCH_DIR (default $TMPDIR or /tmp);
// the disk's fsync latency dominates the write numbers.
// Quick mode for CI: store_bench --benchmark_min_time=0.01
// See bench/README.md, section "Store", for results and how to read them.
#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "store/sqlite/sqlite_store.h"

namespace lintel::store::sqlite {
namespace {

constexpr size_t kValueSize = 1024;
constexpr int kReadKeys = 10000;

const std::string& Value() {
  static const std::string* const value = [] {
    auto* v = new std::string(kValueSize, '\0');
    std::mt19937 rng(42);
    for (char& c : *v) {
      c = static_cast<char>('a' + rng() % 26);
    }
    return v;
  }();
  return *value;
}

// A scratch directory for the whole run, removed at exit.
class BenchDir {
 public:
  BenchDir() {
    // NOLINTNEXTLINE(concurrency-mt-unsafe): runs before any benchmark thread
    const char* base = std::getenv("LINTEL_BENCH_DIR");
    if (base == nullptr || *base == '\0') {
      base = std::getenv("TMPDIR");  // NOLINT(concurrency-mt-unsafe)
    }
    std::string tmpl = std::string(base && *base ? base : "/tmp") + "/lintel-bench-XXXXXX";
    if (::mkdtemp(tmpl.data()) == nullptr) {
      std::abort();
    }
    path_ = tmpl;
  }
  ~BenchDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  // A fresh file name in the directory.
  std::string NewFile(const std::string& stem) {
    return path_ + "/" + stem + "-" + std::to_string(next_++) + ".db";
  }

 private:
  std::string path_;
  std::atomic<int> next_{0};
};

BenchDir& Dir() {
  static BenchDir dir;
  return dir;
}

std::unique_ptr<SqliteStore> MustOpen(const std::string& path) {
  Options o;
  o.path = path;
  o.sync = Options::Sync::kFull;
  auto s = SqliteStore::Open(std::move(o));
  if (!s.ok()) {
    std::fprintf(stderr, "open %s: %s\n", path.c_str(), s.error().ToString().c_str());
    std::abort();
  }
  return std::move(*s);
}

void Exec(sqlite3* db, const char* sql) {
  char* err = nullptr;
  if (sqlite3_exec(db, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    std::fprintf(stderr, "%s: %s\n", sql, err);
    std::abort();
  }
}

// What one durable commit costs at least on this disk.
void Fsync(benchmark::State& state) {
  std::string path = Dir().NewFile("fsync");
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    std::abort();
  }
  std::string page(4096, 'x');
  for (auto _ : state) {
    if (::write(fd, page.data(), page.size()) != static_cast<ssize_t>(page.size()) ||
        ::fdatasync(fd) != 0) {
      state.SkipWithError("write/fdatasync failed");
      break;
    }
  }
  ::close(fd);
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(Fsync)->Unit(benchmark::kMicrosecond)->UseRealTime();

// (a) The baseline: the same durability and row sizes with nothing on top.
void RawSqliteInsert(benchmark::State& state) {
  const int batch = static_cast<int>(state.range(0));
  std::string path = Dir().NewFile("raw");
  sqlite3* db = nullptr;
  if (sqlite3_open(path.c_str(), &db) != SQLITE_OK) {
    std::abort();
  }
  Exec(db, "PRAGMA journal_mode=WAL");
  Exec(db, "PRAGMA synchronous=FULL");
  Exec(db, "CREATE TABLE kv(key BLOB PRIMARY KEY, value BLOB NOT NULL)");
  sqlite3_stmt* insert = nullptr;
  sqlite3_prepare_v2(db, "INSERT INTO kv(key, value) VALUES (?1, ?2)", -1, &insert, nullptr);
  int64_t n = 0;
  for (auto _ : state) {
    Exec(db, "BEGIN");
    for (int i = 0; i < batch; ++i) {
      std::string key = "/registry/bench/0/" + std::to_string(n++);
      sqlite3_bind_blob(insert, 1, key.data(), static_cast<int>(key.size()), SQLITE_TRANSIENT);
      sqlite3_bind_blob(insert, 2, Value().data(), static_cast<int>(Value().size()), SQLITE_STATIC);
      if (sqlite3_step(insert) != SQLITE_DONE) {
        state.SkipWithError("insert failed");
      }
      sqlite3_reset(insert);
    }
    Exec(db, "COMMIT");
  }
  state.SetItemsProcessed(state.iterations() * batch);
  sqlite3_finalize(insert);
  sqlite3_close(db);
}
BENCHMARK(RawSqliteInsert)->ArgName("batch")->Arg(1)->Arg(64)->UseRealTime();

// (b) Creates through the store: group commit turns concurrent callers into
// batched transactions.
std::unique_ptr<SqliteStore> g_write_store;
std::atomic<int64_t> g_next_key{0};

void OpenWriteStore(const benchmark::State&) { g_write_store = MustOpen(Dir().NewFile("store")); }
void CloseWriteStore(const benchmark::State&) { g_write_store.reset(); }

void StoreCreate(benchmark::State& state) {
  std::string prefix = "/registry/bench/" + std::to_string(state.thread_index()) + "/";
  for (auto _ : state) {
    std::string key = prefix + std::to_string(g_next_key.fetch_add(1));
    Result<Revision> r = g_write_store->Create(key, Value());
    if (!r.ok()) {
      state.SkipWithError(r.error().ToString().c_str());
      break;
    }
  }
  state.SetItemsProcessed(state.iterations());
  if (state.thread_index() == 0) {
    Stats stats = g_write_store->GetStats();
    state.counters["writes_per_commit"] =
        stats.commits == 0 ? 0.0
                           : static_cast<double>(stats.ops) / static_cast<double>(stats.commits);
  }
}
BENCHMARK(StoreCreate)
    ->Setup(OpenWriteStore)
    ->Teardown(CloseWriteStore)
    ->Threads(1)
    ->Threads(64)
    ->UseRealTime();

// (c) Reads over a populated store, opened once for the whole run. After the
// keys, 100 updates, so that reads at `g_populated_at` go through history.
SqliteStore& ReadStore(Revision* populated_at = nullptr) {
  static Revision at = 0;
  static SqliteStore* const store = [] {
    SqliteStore* s = MustOpen(Dir().NewFile("read")).release();
    std::vector<std::thread> writers;
    writers.reserve(32);
    for (int t = 0; t < 32; ++t) {
      writers.emplace_back([s, t] {
        for (int i = t; i < kReadKeys; i += 32) {
          char key[64];
          std::snprintf(key, sizeof(key), "/registry/pods/%06d", i);
          if (!s->Create(key, Value()).ok()) {
            std::abort();
          }
        }
      });
    }
    for (auto& w : writers) {
      w.join();
    }
    at = *s->CurrentRevision();
    for (int i = 0; i < 100; ++i) {
      char key[64];
      std::snprintf(key, sizeof(key), "/registry/pods/%06d", i * 97);
      if (!s->Update(key, Value(), 0).ok()) {
        std::abort();
      }
    }
    return s;
  }();
  if (populated_at != nullptr) {
    *populated_at = at;
  }
  return *store;
}

void StoreGet(benchmark::State& state) {
  SqliteStore& store = ReadStore();
  std::mt19937 rng(static_cast<unsigned>(state.thread_index()));
  for (auto _ : state) {
    char key[64];
    std::snprintf(key, sizeof(key), "/registry/pods/%06d", static_cast<int>(rng() % kReadKeys));
    Result<KeyValue> kv = store.Get(key);
    if (!kv.ok()) {
      state.SkipWithError(kv.error().ToString().c_str());
    }
    benchmark::DoNotOptimize(kv);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(StoreGet)->Threads(1)->Threads(2)->UseRealTime();

void ListPages(benchmark::State& state, bool at_past_revision) {
  Revision populated_at = 0;
  SqliteStore& store = ReadStore(&populated_at);
  std::mt19937 rng(7);
  int64_t items = 0;
  for (auto _ : state) {
    ListOptions o;
    o.limit = 500;
    if (at_past_revision) {
      o.revision = populated_at;
    }
    char after[64];
    std::snprintf(after, sizeof(after), "/registry/pods/%06d",
                  static_cast<int>(rng() % (kReadKeys - 500)));
    o.start_after = after;
    Result<ListResult> r = store.List("/registry/pods/", o);
    if (!r.ok() || r->kvs.size() != 500) {
      state.SkipWithError("list failed");
      break;
    }
    items += static_cast<int64_t>(r->kvs.size());
  }
  state.SetItemsProcessed(items);
}

void StoreList(benchmark::State& state) { ListPages(state, false); }
void StoreListAtRevision(benchmark::State& state) { ListPages(state, true); }
BENCHMARK(StoreList)->Unit(benchmark::kMicrosecond)->UseRealTime();
BENCHMARK(StoreListAtRevision)->Unit(benchmark::kMicrosecond)->UseRealTime();

// (d) Watch delivery: from calling Create to the watcher holding the event.
// "ack_to_event_us" is the time from Create returning to the event; the
// writer publishes before it wakes the caller, so it is often about zero.
void WatchDelivery(benchmark::State& state) {
  std::unique_ptr<SqliteStore> store = MustOpen(Dir().NewFile("watch"));
  using SteadyClock = std::chrono::steady_clock;
  std::mutex mu;
  std::condition_variable cv;
  Revision seen = 0;
  SteadyClock::time_point seen_at;
  WatchCallbacks cb;
  cb.on_events = [&](std::vector<Event>&& events) {
    std::lock_guard<std::mutex> l(mu);
    seen = events.back().revision();
    seen_at = SteadyClock::now();
    cv.notify_all();
  };
  auto watch = store->WatchPrefix("/registry/watch/", 0, std::move(cb));
  if (!watch.ok()) {
    std::abort();
  }
  double create_to_event = 0;
  double ack_to_event = 0;
  int64_t n = 0;
  for (auto _ : state) {
    SteadyClock::time_point start = SteadyClock::now();
    Result<Revision> rev = store->Create("/registry/watch/" + std::to_string(n++), Value());
    SteadyClock::time_point acked = SteadyClock::now();
    if (!rev.ok()) {
      state.SkipWithError("create failed");
      break;
    }
    std::unique_lock<std::mutex> l(mu);
    cv.wait(l, [&] { return seen >= *rev; });
    create_to_event += std::chrono::duration<double, std::micro>(seen_at - start).count();
    ack_to_event += std::chrono::duration<double, std::micro>(seen_at - acked).count();
  }
  state.counters["create_to_event_us"] =
      benchmark::Counter(create_to_event, benchmark::Counter::kAvgIterations);
  state.counters["ack_to_event_us"] =
      benchmark::Counter(ack_to_event, benchmark::Counter::kAvgIterations);
  watch->reset();
}
BENCHMARK(WatchDelivery)->Unit(benchmark::kMicrosecond)->UseRealTime();

}  // namespace
}  // namespace lintel::store::sqlite

BENCHMARK_MAIN();
