// The on-disk layout of a SqliteStore and the state loaded from it at open.
//
//   meta(name, value)      revision, compacted, compact_done, lease_seq, schema_version
//   history(rev PK, key, deleted, create_rev, lease, prev_rev, value)
//                          one row per write, appended in revision order: the
//                          MVCC log that past reads and watch replay use
//   kv(key PK, mod_rev, lease, deleted)
//                          every key's newest write, pointing at the history
//                          row that holds the value; a deleted key stays as a
//                          tombstone (deleted = 1) until compaction passes it
//   lease(id PK, ttl_ms)   live leases (deadlines are in memory only)
//
// Keys are BLOBs (memcmp order). prev_rev links each history row to the key's
// previous row (0 for the first), so the state of a key at revision R is found
// by walking back from kv.mod_rev to the first row at or below R. History has
// no index by key: each write touches one random page (kv) and appends to
// history, instead of two random pages.
//
// Compaction removes history rows at or below `compacted` that no read above
// it needs: rows superseded by a later row at or below it, and tombstones that
// are their key's newest row (see Writer::CompactStep).
#pragma once

#include <chrono>
#include <vector>

#include "common/status.h"
#include "store/sqlite/connection.h"
#include "store/store.h"

namespace lintel::store::sqlite {

struct StoredState {
  Revision revision = 0;      // the latest committed write
  Revision compacted = 0;     // reads at or below answer Gone
  Revision compact_done = 0;  // history trimmed up to here (<= compacted)
  LeaseId lease_seq = 0;      // the last lease id handed out
  struct Lease {
    LeaseId id;
    std::chrono::milliseconds ttl;
  };
  std::vector<Lease> leases;
};

// Sets WAL mode, durability and cache size on the writer connection.
Status ConfigureWriter(Connection& conn, bool full_sync, size_t cache_kib);
// Sets cache size on a read connection and forbids writes through it.
Status ConfigureReader(Connection& conn, size_t cache_kib);
// Creates the tables if absent; Internal if the file holds another schema version.
Status EnsureSchema(Connection& conn);
Result<StoredState> LoadState(Connection& conn);

}  // namespace lintel::store::sqlite
