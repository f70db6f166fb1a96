// Store: the ordered, versioned key-value interface the API server persists
// objects through. Two implementations pass one conformance suite
// (tests/unit/store/store_conformance.h): SqliteStore (embedded default) and,
// later, an etcd v3 store. The interface is etcd's model, so that the etcd
// implementation is a thin mapping:
//
//   - Every successful write (create, update, delete, lease expiry) bumps one
//     global, strictly increasing revision. A key's mod_revision is the revision
//     of its last write; create_revision the revision of its creation.
//   - Reads may be served at a past revision (List with `revision`) until that
//     revision is compacted away; then they fail with Gone.
//   - A watch replays every event after a given revision, in revision order,
//     then follows live events, until cancelled.
//   - Leases have a TTL; a key attached to a lease is deleted (with a delete
//     event) when the lease expires or is revoked.
//
// Keys are byte strings compared with memcmp order. Values are opaque bytes.
//
// Threading: every method is thread-safe and may block on I/O (writes wait for
// their group commit to be durable). Watch callbacks run on a store-owned
// thread, in revision order, never concurrently for one watch; they must not
// call back into the store synchronously with long work (hand off instead).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace lintel::store {

using Revision = int64_t;
using LeaseId = int64_t;

struct KeyValue {
  std::string key;
  std::string value;
  Revision create_revision = 0;
  Revision mod_revision = 0;
  LeaseId lease = 0;  // 0 = none
};

enum class EventType : uint8_t { kPut, kDelete };

struct Event {
  EventType type = EventType::kPut;
  // For kPut: the new state. For kDelete: key, with mod_revision set to the
  // revision of the deletion, value empty.
  KeyValue kv;
  // The state before this event; absent for a create. Always present for a
  // delete (the last state of the key).
  std::optional<KeyValue> prev;
  Revision revision() const { return kv.mod_revision; }
};

struct ListOptions {
  // Keys in [prefix + start_after) exclusive; empty = from the start of prefix.
  // Paging passes the last key of the previous page here.
  std::string start_after;
  // At most this many keys (0 = no limit). ListResult::more says if more remain.
  int64_t limit = 0;
  // Read as of this revision (0 = latest). Gone if compacted; a revision above the
  // current one is InvalidArgument-like: BadRequest("revision N is in the future").
  Revision revision = 0;
  // Count the matching keys only (kvs stays empty).
  bool count_only = false;
};

struct ListResult {
  std::vector<KeyValue> kvs;   // ascending by key
  bool more = false;           // more keys remain after the last one returned
  int64_t count = 0;           // total keys under prefix at `revision` (only with count_only)
  Revision revision = 0;       // the revision the list was read at
};

// A live watch. Destroying it cancels it: after the destructor returns, its
// callbacks are not running and will not be called again.
class Watch {
 public:
  virtual ~Watch() = default;
};

struct WatchCallbacks {
  // Receives events in revision order, possibly several per call (one group
  // commit). Never called concurrently for one watch.
  std::function<void(std::vector<Event>&& events)> on_events;
  // Called at most once, after which no more events come: the watch fell
  // behind compaction or the store is closing. Optional.
  std::function<void(const Status& status)> on_error;
};

class Store {
 public:
  virtual ~Store() = default;

  // Creates `key`. AlreadyExists if it exists. Returns the new revision.
  // `lease` (if not 0) must be a live lease: NotFound otherwise.
  virtual Result<Revision> Create(std::string_view key, std::string_view value,
                                  LeaseId lease = 0) = 0;

  // Replaces the value of an existing key if its mod_revision equals
  // `expected` (0 = unconditionally). NotFound if absent; Conflict if the
  // revision differs. The key's lease becomes `lease`. Returns the new revision.
  virtual Result<Revision> Update(std::string_view key, std::string_view value,
                                  Revision expected, LeaseId lease = 0) = 0;

  // Deletes `key` if its mod_revision equals `expected` (0 = unconditionally).
  // NotFound if absent; Conflict if the revision differs. Returns the revision
  // of the deletion.
  virtual Result<Revision> Delete(std::string_view key, Revision expected = 0) = 0;

  // The current state of `key`. NotFound if absent.
  virtual Result<KeyValue> Get(std::string_view key) = 0;

  // Keys with the given prefix, ascending. See ListOptions.
  virtual Result<ListResult> List(std::string_view prefix, const ListOptions& options) = 0;

  // The revision of the latest committed write (0 for an empty new store).
  virtual Result<Revision> CurrentRevision() = 0;

  // Watches keys with `prefix`, delivering every event with revision > `after`.
  // Gone if `after` < CompactedRevision(). `after` above the current revision
  // simply waits for it.
  virtual Result<std::unique_ptr<Watch>> WatchPrefix(std::string_view prefix, Revision after,
                                                     WatchCallbacks callbacks) = 0;

  // Forgets history at and below `revision`: lists at those revisions and watches
  // from before them then answer Gone. The current state is kept.
  // BadRequest if `revision` > current revision; a no-op if already compacted.
  virtual Status Compact(Revision revision) = 0;
  virtual Result<Revision> CompactedRevision() = 0;

  // Grants a lease that expires `ttl` after its grant or last KeepAlive.
  virtual Result<LeaseId> GrantLease(std::chrono::milliseconds ttl) = 0;
  // Renews a lease. NotFound if it expired or was revoked.
  virtual Status KeepAlive(LeaseId lease) = 0;
  // Revokes a lease now, deleting its keys. NotFound if unknown.
  virtual Status RevokeLease(LeaseId lease) = 0;
};

}  // namespace lintel::store
