#include "store/sqlite/connection.h"

#include <sqlite3.h>

#include <utility>

namespace lintel::store::sqlite {

Status SqliteStatus(int rc, sqlite3* db, std::string_view what) {
  // sqlite3_errmsg describes the connection's latest failure; fall back to the
  // generic text when there is no connection or it reports something else.
  const char* detail = sqlite3_errstr(rc);
  if (db != nullptr && sqlite3_extended_errcode(db) == rc) {
    detail = sqlite3_errmsg(db);
  }
  std::string message = "sqlite: " + std::string(what) + ": " + detail;
  switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_FULL:
    case SQLITE_IOERR:
    case SQLITE_CANTOPEN:
    case SQLITE_READONLY:
    case SQLITE_PERM:
    case SQLITE_NOMEM:
    case SQLITE_PROTOCOL:
      return Unavailable(std::move(message));
    default:
      return Internal(std::move(message));
  }
}

Query::Query(Query&& other) noexcept
    : stmt_(std::exchange(other.stmt_, nullptr)),
      db_(other.db_),
      what_(other.what_),
      bind_rc_(other.bind_rc_) {}

Query::~Query() {
  if (stmt_ == nullptr) {
    return;
  }
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

Query& Query::Bind(int index, int64_t value) {
  int rc = sqlite3_bind_int64(stmt_, index, value);
  if (rc != SQLITE_OK && bind_rc_ == SQLITE_OK) {
    bind_rc_ = rc;
  }
  return *this;
}

Query& Query::Bind(int index, std::string_view blob) {
  // A zero-length blob must still be a BLOB (not NULL): bind through a
  // non-null pointer. SQLITE_TRANSIENT copies; the bytes need not outlive us.
  static constexpr char kEmpty = 0;
  const char* data = blob.empty() ? &kEmpty : blob.data();
  int rc = sqlite3_bind_blob64(stmt_, index, data, blob.size(), SQLITE_TRANSIENT);
  if (rc != SQLITE_OK && bind_rc_ == SQLITE_OK) {
    bind_rc_ = rc;
  }
  return *this;
}

Query& Query::BindText(int index, std::string_view text) {
  int rc =
      sqlite3_bind_text64(stmt_, index, text.data(), text.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
  if (rc != SQLITE_OK && bind_rc_ == SQLITE_OK) {
    bind_rc_ = rc;
  }
  return *this;
}

Result<bool> Query::Step() {
  if (bind_rc_ != SQLITE_OK) {
    return SqliteStatus(bind_rc_, db_, std::string(what_) + ": bind");
  }
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) {
    return true;
  }
  if (rc == SQLITE_DONE) {
    return false;
  }
  return SqliteStatus(rc, db_, what_);
}

Status Query::Run() {
  while (true) {
    Result<bool> row = Step();
    if (!row.ok()) {
      return row.error();
    }
    if (!*row) {
      return Status::Ok();
    }
  }
}

int64_t Query::Int(int column) const { return sqlite3_column_int64(stmt_, column); }

std::string_view Query::Blob(int column) const {
  const void* data = sqlite3_column_blob(stmt_, column);
  int size = sqlite3_column_bytes(stmt_, column);
  if (data == nullptr || size <= 0) {
    return {};
  }
  return std::string_view(static_cast<const char*>(data), static_cast<size_t>(size));
}

Result<std::unique_ptr<Connection>> Connection::Open(const std::string& path, bool create,
                                                     const std::string& vfs) {
  sqlite3* db = nullptr;
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | (create ? SQLITE_OPEN_CREATE : 0);
  int rc = sqlite3_open_v2(path.c_str(), &db, flags, vfs.empty() ? nullptr : vfs.c_str());
  if (rc != SQLITE_OK) {
    Status s = SqliteStatus(rc, db, "open");
    sqlite3_close_v2(db);  // a handle is returned even on failure
    return s;
  }
  sqlite3_extended_result_codes(db, 1);
  // Readers may briefly meet a lock while the WAL index is rebuilt or reset.
  sqlite3_busy_timeout(db, 5000);
  return std::unique_ptr<Connection>(new Connection(db, path));
}

Connection::~Connection() {
  for (auto& [sql, stmt] : statements_) {
    sqlite3_finalize(stmt);
  }
  sqlite3_close_v2(db_);
}

Status Connection::Exec(const char* sql, std::string_view what) {
  int rc = sqlite3_exec(db_, sql, nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) {
    return SqliteStatus(rc, db_, what);
  }
  return Status::Ok();
}

Result<std::string> Connection::ExecText(const char* sql, std::string_view what) {
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v2(db_, sql, -1, &stmt, nullptr);
  if (rc != SQLITE_OK) {
    return SqliteStatus(rc, db_, what);
  }
  std::string text;
  rc = sqlite3_step(stmt);
  if (rc == SQLITE_ROW) {
    const unsigned char* t = sqlite3_column_text(stmt, 0);
    if (t != nullptr) {
      text = reinterpret_cast<const char*>(t);
    }
    rc = sqlite3_step(stmt);
  }
  if (rc != SQLITE_DONE) {
    Status s = SqliteStatus(rc, db_, what);
    sqlite3_finalize(stmt);
    return s;
  }
  sqlite3_finalize(stmt);
  return text;
}

Result<Query> Connection::Prepare(const char* sql, const char* what) {
  auto it = statements_.find(sql);
  if (it == statements_.end()) {
    sqlite3_stmt* stmt = nullptr;
    int rc = sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
    if (rc != SQLITE_OK) {
      return SqliteStatus(rc, db_, std::string("prepare ") + what);
    }
    it = statements_.emplace(sql, stmt).first;
  }
  return Query(it->second, db_, what);
}

int64_t Connection::Changes() const { return sqlite3_changes64(db_); }

bool Connection::InTransaction() const { return sqlite3_get_autocommit(db_) == 0; }

ReadTransaction::~ReadTransaction() {
  if (!open_) {
    return;
  }
  // Ending a read-only transaction cannot lose data; if COMMIT fails, roll back.
  if (!conn_.Exec("COMMIT", "end read").ok() && conn_.InTransaction()) {
    (void)conn_.Exec("ROLLBACK", "end read");
  }
}

Status ReadTransaction::Begin() {
  LINTEL_RETURN_IF_ERROR(conn_.Exec("BEGIN", "begin read"));
  open_ = true;
  return Status::Ok();
}

}  // namespace lintel::store::sqlite
