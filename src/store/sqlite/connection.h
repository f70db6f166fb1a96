// Connection and Query: a thin RAII layer over the SQLite C API.
//
// A Connection owns one sqlite3 handle (opened SQLITE_OPEN_NOMUTEX) and caches
// its prepared statements. It must be used by one thread at a time; the store
// gives each thread that touches SQLite its own connection (the writer, the
// read pool, the watch dispatcher via the read pool).
//
// Every SQLite error becomes a Status with context, "sqlite: <what>: <errmsg>":
// environment trouble (busy, full disk, I/O, cannot open) is Unavailable and
// retryable; anything else (corruption, misuse) is Internal. Nothing throws.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include "common/status.h"

struct sqlite3;
struct sqlite3_stmt;

namespace lintel::store::sqlite {

// Maps an SQLite result code (and the connection's message, if any) to a Status.
Status SqliteStatus(int rc, sqlite3* db, std::string_view what);

// A borrowed, cached prepared statement. Resets it and clears its bindings when
// it goes out of scope, so a half-read statement never pins a read snapshot.
class Query {
 public:
  Query(sqlite3_stmt* stmt, sqlite3* db, const char* what) : stmt_(stmt), db_(db), what_(what) {}
  Query(Query&& other) noexcept;
  Query& operator=(Query&&) = delete;
  Query(const Query&) = delete;
  Query& operator=(const Query&) = delete;
  ~Query();

  // Binds parameter `index` (1-based). Keys and values bind as BLOBs, so
  // comparisons are memcmp order.
  Query& Bind(int index, int64_t value);
  Query& Bind(int index, std::string_view blob);
  Query& BindText(int index, std::string_view text);

  // Steps once: true with a row, false when done, or the error.
  Result<bool> Step();
  // Steps until done, for statements that return no rows.
  Status Run();

  int64_t Int(int column) const;
  // Valid until the next Step or reset.
  std::string_view Blob(int column) const;
  std::string String(int column) const { return std::string(Blob(column)); }

 private:
  sqlite3_stmt* stmt_;
  sqlite3* db_;
  const char* what_;
  int bind_rc_ = 0;  // first bind failure, reported by Step
};

class Connection {
 public:
  // Opens (creating if `create`) the database at `path` through `vfs` (empty:
  // the default VFS). Sets a busy timeout so that readers ride out brief locks.
  static Result<std::unique_ptr<Connection>> Open(const std::string& path, bool create,
                                                  const std::string& vfs);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Runs one or more statements without results. `what` names them in errors.
  Status Exec(const char* sql, std::string_view what);
  // Runs a statement that returns one text value (a PRAGMA), returning it.
  Result<std::string> ExecText(const char* sql, std::string_view what);

  // The cached statement for `sql`, which must be a string with static storage
  // (statements are cached by its address). `what` names it in errors.
  Result<Query> Prepare(const char* sql, const char* what);

  // True while a transaction is open (after a failed COMMIT SQLite may or may
  // not have rolled back by itself).
  bool InTransaction() const;

  // Rows changed by the last INSERT, UPDATE or DELETE.
  int64_t Changes() const;

  sqlite3* Handle() const { return db_; }
  const std::string& Path() const { return path_; }

 private:
  Connection(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}

  sqlite3* db_;
  std::string path_;
  std::unordered_map<const char*, sqlite3_stmt*> statements_;
};

// A read transaction: one consistent snapshot across several statements. Ends
// the transaction when it goes out of scope (readers must not pin old WAL
// frames, or checkpoints cannot finish).
class ReadTransaction {
 public:
  explicit ReadTransaction(Connection& conn) : conn_(conn) {}
  ~ReadTransaction();
  ReadTransaction(const ReadTransaction&) = delete;
  ReadTransaction& operator=(const ReadTransaction&) = delete;

  Status Begin();

 private:
  Connection& conn_;
  bool open_ = false;
};

}  // namespace lintel::store::sqlite
