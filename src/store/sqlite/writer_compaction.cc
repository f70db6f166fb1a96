// Writer: trimming compacted history, one page per step.
#include <spdlog/spdlog.h>

#include <string>
#include <vector>

#include "store/sqlite/writer.h"

namespace lintel::store::sqlite {
namespace {

// Compaction, one page of history rows at a time, in revision order. Each row
// at or below `compacted` supersedes its prev_rev row, which no read above
// `compacted` can reach any more: delete it. A tombstone that is still its
// key's newest write is not needed either: delete it and its kv row. What
// stays is, per key, its newest live row at or below `compacted` (the state
// every later read and Event::prev needs), plus the odd tombstone whose
// successor is above `compacted`, which reads treat as absent.
constexpr const char* kCompactScan =
    "SELECT rev, key, deleted, prev_rev FROM history NOT INDEXED WHERE rev > ?1 AND rev <= ?2"
    " ORDER BY rev LIMIT ?3";
constexpr const char* kDeleteRev = "DELETE FROM history WHERE rev = ?1";
constexpr const char* kDeleteKvTombstone =
    "DELETE FROM kv WHERE key = ?1 AND mod_rev = ?2 AND deleted = 1";
constexpr int64_t kCompactPage = 1024;

}  // namespace

bool Writer::CompactStep() {
  Status s = [&]() -> Status {
    LINTEL_RETURN_IF_ERROR(conn_->Exec("BEGIN IMMEDIATE", "compact: begin"));
    struct Row {
      Revision rev;
      std::string key;
      bool deleted;
      Revision prev_rev;
    };
    std::vector<Row> rows;
    {
      LINTEL_ASSIGN_OR_RETURN(Query q, conn_->Prepare(kCompactScan, "compact: scan"));
      q.Bind(1, compact_done_).Bind(2, compacted_).Bind(3, kCompactPage);
      while (true) {
        LINTEL_ASSIGN_OR_RETURN(bool row, q.Step());
        if (!row) {
          break;
        }
        rows.push_back(Row{q.Int(0), q.String(1), q.Int(2) != 0, q.Int(3)});
      }
    }
    for (const Row& row : rows) {
      if (row.prev_rev != 0) {
        LINTEL_ASSIGN_OR_RETURN(Query q, conn_->Prepare(kDeleteRev, "compact: delete"));
        LINTEL_RETURN_IF_ERROR(q.Bind(1, row.prev_rev).Run());
      }
      if (!row.deleted) {
        continue;
      }
      LINTEL_ASSIGN_OR_RETURN(Query kv, conn_->Prepare(kDeleteKvTombstone, "compact: delete key"));
      LINTEL_RETURN_IF_ERROR(kv.Bind(1, row.key).Bind(2, row.rev).Run());
      if (conn_->Changes() == 0) {
        continue;  // rewritten since: keep
      }
      LINTEL_ASSIGN_OR_RETURN(Query q, conn_->Prepare(kDeleteRev, "compact: delete"));
      LINTEL_RETURN_IF_ERROR(q.Bind(1, row.rev).Run());
    }
    Revision done = static_cast<int64_t>(rows.size()) < kCompactPage ? compacted_ : rows.back().rev;
    LINTEL_RETURN_IF_ERROR(SetMeta("compact_done", done));
    LINTEL_RETURN_IF_ERROR(conn_->Exec("COMMIT", "compact: commit"));
    compact_done_ = done;
    return Status::Ok();
  }();
  if (s.ok()) {
    return true;
  }
  if (conn_->InTransaction()) {
    (void)conn_->Exec("ROLLBACK", "compact: rollback");
  }
  spdlog::warn("store: compaction step failed (will retry): {}", s.ToString());
  return false;
}

}  // namespace lintel::store::sqlite
