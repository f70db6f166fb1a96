#include "store/sqlite/schema.h"

#include <string>

namespace lintel::store::sqlite {
namespace {

constexpr int64_t kSchemaVersion = 1;

// Small columns come before `value` so scans that skip values never walk
// overflow pages.
constexpr const char* kSchema = R"sql(
BEGIN IMMEDIATE;
CREATE TABLE IF NOT EXISTS meta(name TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS history(
  rev INTEGER PRIMARY KEY,
  key BLOB NOT NULL,
  deleted INTEGER NOT NULL,
  create_rev INTEGER NOT NULL,
  lease INTEGER NOT NULL,
  prev_rev INTEGER NOT NULL,
  value BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS kv(
  key BLOB PRIMARY KEY,
  mod_rev INTEGER NOT NULL,
  lease INTEGER NOT NULL,
  deleted INTEGER NOT NULL) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS kv_by_lease ON kv(lease) WHERE lease <> 0;
CREATE TABLE IF NOT EXISTS lease(id INTEGER PRIMARY KEY, ttl_ms INTEGER NOT NULL);
INSERT OR IGNORE INTO meta(name, value) VALUES
  ('schema_version', 1), ('revision', 0), ('compacted', 0), ('compact_done', 0),
  ('lease_seq', 0);
COMMIT;
)sql";

}  // namespace

Status ConfigureWriter(Connection& conn, bool full_sync, size_t cache_kib) {
  LINTEL_ASSIGN_OR_RETURN(std::string mode,
                          conn.ExecText("PRAGMA journal_mode=WAL", "set journal_mode"));
  if (mode != "wal") {
    return Unavailable("sqlite: set journal_mode: WAL not supported here (got \"" + mode + "\")");
  }
  LINTEL_RETURN_IF_ERROR(conn.Exec(
      full_sync ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL", "set synchronous"));
  std::string cache = "PRAGMA cache_size=-" + std::to_string(cache_kib);
  LINTEL_RETURN_IF_ERROR(conn.Exec(cache.c_str(), "set cache_size"));
  LINTEL_RETURN_IF_ERROR(conn.Exec("PRAGMA temp_store=MEMORY", "set temp_store"));
  // Checkpoints run on the checkpointer's own thread (checkpointer.h).
  LINTEL_RETURN_IF_ERROR(conn.Exec("PRAGMA wal_autocheckpoint=0", "set wal_autocheckpoint"));
  // After a checkpoint, truncate a WAL that grew during a burst back to 64 MiB.
  return conn.Exec("PRAGMA journal_size_limit=67108864", "set journal_size_limit");
}

Status ConfigureReader(Connection& conn, size_t cache_kib) {
  std::string cache = "PRAGMA cache_size=-" + std::to_string(cache_kib);
  LINTEL_RETURN_IF_ERROR(conn.Exec(cache.c_str(), "set cache_size"));
  return conn.Exec("PRAGMA query_only=1", "set query_only");
}

Status EnsureSchema(Connection& conn) {
  Status s = conn.Exec(kSchema, "create schema");
  if (!s.ok()) {
    if (conn.InTransaction()) {
      (void)conn.Exec("ROLLBACK", "rollback schema");
    }
    return s;
  }
  LINTEL_ASSIGN_OR_RETURN(
      std::string version,
      conn.ExecText("SELECT value FROM meta WHERE name = 'schema_version'", "read schema version"));
  if (version != std::to_string(kSchemaVersion)) {
    return Internal("sqlite: " + conn.Path() + ": unsupported schema version " + version +
                    " (want " + std::to_string(kSchemaVersion) + ")");
  }
  return Status::Ok();
}

Result<StoredState> LoadState(Connection& conn) {
  StoredState state;
  {
    LINTEL_ASSIGN_OR_RETURN(Query q, conn.Prepare("SELECT name, value FROM meta", "load meta"));
    while (true) {
      LINTEL_ASSIGN_OR_RETURN(bool row, q.Step());
      if (!row) {
        break;
      }
      std::string_view name = q.Blob(0);
      int64_t value = q.Int(1);
      if (name == "revision") {
        state.revision = value;
      }
      if (name == "compacted") {
        state.compacted = value;
      }
      if (name == "compact_done") {
        state.compact_done = value;
      }
      if (name == "lease_seq") {
        state.lease_seq = value;
      }
    }
  }
  LINTEL_ASSIGN_OR_RETURN(Query q, conn.Prepare("SELECT id, ttl_ms FROM lease", "load leases"));
  while (true) {
    LINTEL_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) {
      break;
    }
    state.leases.push_back({q.Int(0), std::chrono::milliseconds(q.Int(1))});
  }
  return state;
}

}  // namespace lintel::store::sqlite
