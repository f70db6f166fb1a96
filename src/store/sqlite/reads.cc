#include "store/sqlite/reads.h"

#include <string>

namespace lintel::store::sqlite {
namespace {

struct Meta {
  Revision revision = 0;
  Revision compacted = 0;
};

constexpr const char* kReadMeta =
    "SELECT (SELECT value FROM meta WHERE name = 'revision'),"
    "       (SELECT value FROM meta WHERE name = 'compacted')";

// CROSS JOIN fixes the join order: walk kv by key, look values up by rev.
constexpr const char* kReadCurrent =
    "SELECT h.value, h.create_rev, kv.mod_rev, kv.lease FROM kv CROSS JOIN history h"
    " ON h.rev = kv.mod_rev WHERE kv.key = ?1 AND kv.deleted = 0";

constexpr const char* kListLatestBounded =
    "SELECT kv.key, h.value, h.create_rev, kv.mod_rev, kv.lease FROM kv CROSS JOIN history h"
    " ON h.rev = kv.mod_rev WHERE kv.key >= ?1 AND kv.key < ?2 AND kv.deleted = 0"
    " ORDER BY kv.key LIMIT ?3";
constexpr const char* kListLatestUnbounded =
    "SELECT kv.key, h.value, h.create_rev, kv.mod_rev, kv.lease FROM kv CROSS JOIN history h"
    " ON h.rev = kv.mod_rev WHERE kv.key >= ?1 AND kv.deleted = 0 ORDER BY kv.key LIMIT ?3";
constexpr const char* kCountLatestBounded =
    "SELECT count(*) FROM kv WHERE key >= ?1 AND key < ?2 AND deleted = 0";
constexpr const char* kCountLatestUnbounded =
    "SELECT count(*) FROM kv WHERE key >= ?1 AND deleted = 0";

// A past state: every key that has a kv row (tombstones included), walked back
// along prev_rev to its newest history row at or below the revision.
constexpr const char* kScanKvBounded =
    "SELECT key, mod_rev, deleted FROM kv WHERE key >= ?1 AND key < ?2 ORDER BY key";
constexpr const char* kScanKvUnbounded =
    "SELECT key, mod_rev, deleted FROM kv WHERE key >= ?1 ORDER BY key";
constexpr const char* kReadLink = "SELECT prev_rev, deleted FROM history WHERE rev = ?1";

constexpr const char* kReadRevision =
    "SELECT key, value, create_rev, lease, deleted FROM history WHERE rev = ?1";

// Replay walks history by revision (NOT INDEXED keeps it on the rowid) and
// filters keys; key precedes value in the row, so skipped rows cost no value reads.
constexpr const char* kReadEvents =
    "SELECT rev, key, deleted, create_rev, lease, prev_rev, value FROM history NOT INDEXED"
    " WHERE rev > ?1 AND rev <= ?2 AND key >= ?3 AND (?5 = 0 OR key < ?4)"
    " ORDER BY rev LIMIT ?6";

Result<Meta> ReadMeta(Connection& conn) {
  LINTEL_ASSIGN_OR_RETURN(Query q, conn.Prepare(kReadMeta, "read meta"));
  LINTEL_ASSIGN_OR_RETURN(bool row, q.Step());
  if (!row) {
    return Internal("sqlite: read meta: no row");
  }
  return Meta{q.Int(0), q.Int(1)};
}

// The history row `rev` as the KeyValue it wrote; nullopt if compacted away
// or a tombstone.
Result<std::optional<KeyValue>> ReadRevision(Connection& conn, Revision rev) {
  LINTEL_ASSIGN_OR_RETURN(Query q, conn.Prepare(kReadRevision, "read revision"));
  q.Bind(1, rev);
  LINTEL_ASSIGN_OR_RETURN(bool row, q.Step());
  if (!row || q.Int(4) != 0) {
    return std::optional<KeyValue>();
  }
  return std::optional<KeyValue>(KeyValue{q.String(0), q.String(1), q.Int(2), rev, q.Int(3)});
}

Status ListLatest(Connection& conn, const KeyRange& range, const ListOptions& options,
                  ListResult& out) {
  if (options.count_only) {
    LINTEL_ASSIGN_OR_RETURN(
        Query q,
        conn.Prepare(range.bounded ? kCountLatestBounded : kCountLatestUnbounded, "count keys"));
    q.Bind(1, range.begin);
    if (range.bounded) {
      q.Bind(2, range.end);
    }
    LINTEL_ASSIGN_OR_RETURN(bool row, q.Step());
    out.count = row ? q.Int(0) : 0;
    return Status::Ok();
  }
  LINTEL_ASSIGN_OR_RETURN(
      Query q,
      conn.Prepare(range.bounded ? kListLatestBounded : kListLatestUnbounded, "list keys"));
  q.Bind(1, range.begin);
  if (range.bounded) {
    q.Bind(2, range.end);
  }
  // One extra row tells whether more remain.
  q.Bind(3, options.limit > 0 ? options.limit + 1 : int64_t{-1});
  while (true) {
    LINTEL_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) {
      break;
    }
    if (options.limit > 0 && static_cast<int64_t>(out.kvs.size()) == options.limit) {
      out.more = true;
      break;
    }
    out.kvs.push_back(KeyValue{q.String(0), q.String(1), q.Int(2), q.Int(3), q.Int(4)});
  }
  return Status::Ok();
}

struct Link {
  Revision prev_rev;
  bool deleted;
};

Result<std::optional<Link>> ReadLink(Connection& conn, Revision rev) {
  LINTEL_ASSIGN_OR_RETURN(Query q, conn.Prepare(kReadLink, "read history link"));
  q.Bind(1, rev);
  LINTEL_ASSIGN_OR_RETURN(bool row, q.Step());
  if (!row) {
    return std::optional<Link>();
  }
  return std::optional<Link>(Link{q.Int(0), q.Int(1) != 0});
}

// The revision of the key's live state at `at`, given its newest write; 0 if
// the key did not exist then. Rows missing along the way were compacted: the
// newest row at or below the compacted revision is kept unless it is a
// tombstone, so a missing row means the key was absent.
Result<Revision> StateAt(Connection& conn, Revision mod_rev, bool deleted, Revision at) {
  Revision rev = mod_rev;
  while (rev > at) {
    LINTEL_ASSIGN_OR_RETURN(std::optional<Link> link, ReadLink(conn, rev));
    if (!link) {
      return Revision{0};
    }
    rev = link->prev_rev;
  }
  if (rev == 0) {
    return Revision{0};
  }
  if (rev != mod_rev) {
    LINTEL_ASSIGN_OR_RETURN(std::optional<Link> link, ReadLink(conn, rev));
    if (!link) {
      return Revision{0};
    }
    deleted = link->deleted;
  }
  return deleted ? Revision{0} : rev;
}

Status ListAt(Connection& conn, const KeyRange& range, Revision revision,
              const ListOptions& options, ListResult& out) {
  std::vector<Revision> picked;
  int64_t count = 0;
  {
    LINTEL_ASSIGN_OR_RETURN(
        Query q, conn.Prepare(range.bounded ? kScanKvBounded : kScanKvUnbounded, "list history"));
    q.Bind(1, range.begin);
    if (range.bounded) {
      q.Bind(2, range.end);
    }
    while (true) {
      LINTEL_ASSIGN_OR_RETURN(bool row, q.Step());
      if (!row) {
        break;
      }
      LINTEL_ASSIGN_OR_RETURN(Revision rev, StateAt(conn, q.Int(1), q.Int(2) != 0, revision));
      if (rev == 0) {
        continue;
      }
      ++count;
      if (options.count_only) {
        continue;
      }
      if (options.limit > 0 && static_cast<int64_t>(picked.size()) == options.limit) {
        out.more = true;
        break;
      }
      picked.push_back(rev);
    }
  }
  out.count = options.count_only ? count : 0;
  out.kvs.reserve(picked.size());
  for (Revision rev : picked) {
    LINTEL_ASSIGN_OR_RETURN(std::optional<KeyValue> kv, ReadRevision(conn, rev));
    if (!kv) {
      return Internal("sqlite: list: history row " + std::to_string(rev) + " vanished");
    }
    out.kvs.push_back(std::move(*kv));
  }
  return Status::Ok();
}

}  // namespace

Status CompactedError(Revision required, Revision compacted) {
  return Gone("required revision " + std::to_string(required) +
              " has been compacted (compacted revision " + std::to_string(compacted) + ")");
}

Result<std::optional<KeyValue>> ReadCurrent(Connection& conn, std::string_view key) {
  LINTEL_ASSIGN_OR_RETURN(Query q, conn.Prepare(kReadCurrent, "get"));
  q.Bind(1, key);
  LINTEL_ASSIGN_OR_RETURN(bool row, q.Step());
  if (!row) {
    return std::optional<KeyValue>();
  }
  return std::optional<KeyValue>(
      KeyValue{std::string(key), q.String(0), q.Int(1), q.Int(2), q.Int(3)});
}

Result<ListResult> ReadList(Connection& conn, std::string_view prefix, const ListOptions& options) {
  if (options.revision < 0) {
    return BadRequest("revision " + std::to_string(options.revision) + " is negative");
  }
  if (options.limit < 0) {
    return BadRequest("limit " + std::to_string(options.limit) + " is negative");
  }
  ReadTransaction txn(conn);
  LINTEL_RETURN_IF_ERROR(txn.Begin());
  LINTEL_ASSIGN_OR_RETURN(Meta meta, ReadMeta(conn));
  ListResult out;
  out.revision = options.revision == 0 ? meta.revision : options.revision;
  if (options.revision > meta.revision) {
    return BadRequest("revision " + std::to_string(options.revision) +
                      " is in the future (current revision " + std::to_string(meta.revision) + ")");
  }
  if (options.revision != 0 && options.revision <= meta.compacted) {
    return CompactedError(options.revision, meta.compacted);
  }
  // A count covers every key under the prefix; a page starts after start_after.
  KeyRange range =
      options.count_only ? PrefixRange(prefix) : PrefixRangeAfter(prefix, options.start_after);
  if (range.Empty()) {
    return out;
  }
  if (out.revision == meta.revision) {
    LINTEL_RETURN_IF_ERROR(ListLatest(conn, range, options, out));
  } else {
    LINTEL_RETURN_IF_ERROR(ListAt(conn, range, out.revision, options, out));
  }
  return out;
}

Result<std::vector<Event>> ReadEvents(Connection& conn, const KeyRange& range, Revision after,
                                      Revision upto, size_t max) {
  std::vector<Event> events;
  ReadTransaction txn(conn);
  LINTEL_RETURN_IF_ERROR(txn.Begin());
  LINTEL_ASSIGN_OR_RETURN(Meta meta, ReadMeta(conn));
  if (after < meta.compacted) {
    return CompactedError(after + 1, meta.compacted);
  }
  std::vector<Revision> prevs;
  {
    LINTEL_ASSIGN_OR_RETURN(Query q, conn.Prepare(kReadEvents, "read events"));
    q.Bind(1, after).Bind(2, upto).Bind(3, range.begin);
    q.Bind(4, range.end).Bind(5, int64_t{range.bounded ? 1 : 0});
    q.Bind(6, static_cast<int64_t>(max));
    while (true) {
      LINTEL_ASSIGN_OR_RETURN(bool row, q.Step());
      if (!row) {
        break;
      }
      Event e;
      e.kv.key = q.String(1);
      e.kv.mod_revision = q.Int(0);
      if (q.Int(2) != 0) {
        e.type = EventType::kDelete;
      } else {
        e.type = EventType::kPut;
        e.kv.create_revision = q.Int(3);
        e.kv.lease = q.Int(4);
        e.kv.value = q.String(6);
      }
      prevs.push_back(q.Int(5));
      events.push_back(std::move(e));
    }
  }
  // Compaction keeps the newest live row at or below `compacted` of every key,
  // so the previous state of an event above it is still here. A prev_rev that
  // points at a tombstone (a create after a delete) yields no prev.
  for (size_t i = 0; i < events.size(); ++i) {
    if (prevs[i] == 0) {
      continue;
    }
    LINTEL_ASSIGN_OR_RETURN(events[i].prev, ReadRevision(conn, prevs[i]));
  }
  return events;
}

}  // namespace lintel::store::sqlite
