// The write baseline: plain SQLite inserts with the store's durability (the
// same loop as store_bench's RawSqliteInsert, with the API's row size).
#include <fcntl.h>
#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <random>

#include "api_bench.h"

namespace lintel::bench {

namespace {

Status Exec(sqlite3* db, const char* sql) {
  char* err = nullptr;
  if (sqlite3_exec(db, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = std::string(sql) + ": " + (err ? err : "?");
    sqlite3_free(err);
    return Internal(msg);
  }
  return Status();
}

// One repetition: inserts for `seconds`; rows per second.
Result<double> InsertFor(const std::string& path, int batch, const std::string& value,
                         double seconds, double* ms_per_txn) {
  sqlite3* db = nullptr;
  if (sqlite3_open(path.c_str(), &db) != SQLITE_OK) {
    sqlite3_close(db);
    return Internal("open " + path);
  }
  std::unique_ptr<sqlite3, decltype(&sqlite3_close)> closer(db, &sqlite3_close);
  LINTEL_RETURN_IF_ERROR(Exec(db, "PRAGMA journal_mode=WAL"));
  LINTEL_RETURN_IF_ERROR(Exec(db, "PRAGMA synchronous=FULL"));
  LINTEL_RETURN_IF_ERROR(Exec(db, "CREATE TABLE kv(key BLOB PRIMARY KEY, value BLOB NOT NULL)"));
  sqlite3_stmt* insert = nullptr;
  if (sqlite3_prepare_v2(db, "INSERT INTO kv(key, value) VALUES (?1, ?2)", -1, &insert,
                         nullptr) != SQLITE_OK) {
    return Internal("prepare insert");
  }
  std::unique_ptr<sqlite3_stmt, decltype(&sqlite3_finalize)> finalizer(insert, &sqlite3_finalize);
  int64_t rows = 0;
  int64_t txns = 0;
  auto start = SteadyClock::now();
  auto end = start + std::chrono::duration_cast<SteadyClock::duration>(
                         std::chrono::duration<double>(seconds));
  SteadyClock::time_point now;
  do {
    LINTEL_RETURN_IF_ERROR(Exec(db, "BEGIN"));
    for (int i = 0; i < batch; ++i) {
      char key[96];
      int n = std::snprintf(key, sizeof(key),
                            "/registry/lintel.dev/virtualmachines/default/vm-%08lld",
                            static_cast<long long>(rows++));
      sqlite3_bind_blob(insert, 1, key, n, SQLITE_TRANSIENT);
      sqlite3_bind_blob(insert, 2, value.data(), static_cast<int>(value.size()), SQLITE_STATIC);
      if (sqlite3_step(insert) != SQLITE_DONE) {
        return Internal(std::string("insert: ") + sqlite3_errmsg(db));
      }
      sqlite3_reset(insert);
    }
    LINTEL_RETURN_IF_ERROR(Exec(db, "COMMIT"));
    ++txns;
    now = SteadyClock::now();
  } while (now < end);
  double elapsed = Seconds(now - start);
  *ms_per_txn = elapsed * 1000 / static_cast<double>(txns);
  return static_cast<double>(rows) / elapsed;
}

}  // namespace

Result<double> FsyncMillis(const std::string& dir, int count) {
  const std::string path = dir + "/fsync-probe";
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    return Internal("open " + path);
  }
  const std::string page(4096, 'x');
  std::vector<double> ms;
  for (int i = 0; i < count; ++i) {
    auto t0 = SteadyClock::now();
    if (::write(fd, page.data(), page.size()) != static_cast<ssize_t>(page.size()) ||
        ::fdatasync(fd) != 0) {
      ::close(fd);
      return Internal("write/fdatasync " + path);
    }
    ms.push_back(Millis(SteadyClock::now() - t0));
  }
  ::close(fd);
  std::remove(path.c_str());
  return Median(std::move(ms));
}

Result<RawInsertResult> RawSqliteInsert(const std::string& dir, int batch, size_t value_size,
                                        double seconds, int reps) {
  std::string value(value_size, '\0');
  std::mt19937 rng(42);
  for (char& c : value) {
    c = static_cast<char>('a' + rng() % 26);
  }
  RawInsertResult out;
  std::vector<double> ms_per_txn;
  for (int r = 0; r < reps; ++r) {
    std::string path = dir + "/raw-batch" + std::to_string(batch) + "-" + std::to_string(r) + ".db";
    double ms = 0;
    LINTEL_ASSIGN_OR_RETURN(double rate, InsertFor(path, batch, value, seconds, &ms));
    out.rows_per_sec.push_back(rate);
    ms_per_txn.push_back(ms);
    for (const char* suffix : {"", "-wal", "-shm"}) {
      std::remove((path + suffix).c_str());
    }
  }
  out.median_rows_per_sec = Median(out.rows_per_sec);
  out.median_ms_per_txn = Median(ms_per_txn);
  return out;
}

}  // namespace lintel::bench
