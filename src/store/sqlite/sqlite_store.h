// SqliteStore: the embedded Store, one SQLite database file in WAL mode.
//
// Threads (see src/store/README.md):
//   - callers: any thread. Get and List run on a small pool of read
//     connections (WAL snapshots) and never wait for the writer;
//     CurrentRevision and CompactedRevision read the last committed values
//     from memory. Writes queue an operation and block until the group commit
//     holding it is durable (or failed).
//   - writer thread: applies every queued write in one transaction per batch
//     (group commit), in queue order, commits once, publishes the batch's
//     events, then wakes the callers. It also expires leases and trims
//     compacted history in small steps.
//   - watch dispatch thread: replays history for new watches and delivers
//     buffered live events; all watch callbacks run here.
//
// Durability: Sync::kFull fsyncs the WAL at every commit, so an acknowledged
// write survives power loss; kNormal survives a process crash only.
//
// Leases: deadlines live in memory and are measured with options.clock's
// Monotonic(). A lease's TTL is persisted, not its deadline, so after a reopen
// every lease gets its full TTL again, counted from the reopen.
//
// Where store.h leaves room: ListOptions::start_after is a full key (the last
// key of the previous page); count_only counts every key under the prefix,
// ignoring start_after and limit; a lease's expiry or revoke deletes each of
// its keys at a revision of its own.
//
// One process may open a given path at a time (an flock on "<path>.lock").
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "common/clock.h"
#include "common/status.h"
#include "store/store.h"

namespace lintel::store::sqlite {

class Checkpointer;
class LeaseTable;
class ReaderPool;
class WatchHub;
class Writer;

struct Options {
  enum class Sync : uint8_t { kFull, kNormal };

  std::string path;  // the database file; its directory must exist
  Sync sync = Sync::kFull;
  Clock* clock = &Clock::Real();  // lease deadlines; not owned, must outlive the store
  // Most writes applied in one transaction.
  size_t max_batch = 1024;
  // Page-cache budget shared by all connections (half for the writer). The API
  // server reads through its watch cache, so the store's cache mostly holds
  // b-tree interior pages: 16 MiB covers millions of keys.
  size_t cache_bytes = size_t{16} << 20;
  // How often (real time) the writer looks for expired leases.
  std::chrono::milliseconds lease_sweep_interval{500};
  // Read connections; readers beyond this wait for a free one.
  size_t max_readers = 8;
  // Events buffered for one watch before it is ended with Unavailable.
  size_t watch_buffer_limit = 10000;
  // WAL pages (4 KiB) after which the checkpointer copies the WAL into the
  // database file (checkpointer.h). 4096 = 16 MiB: hot pages are copied once
  // per round, and the database file is fsynced a quarter as often as with
  // SQLite's default of 1000.
  int checkpoint_pages = 4096;
  // SQLite VFS name; empty = the default. Tests inject I/O faults with it.
  // With Sync::kFull the writer's connection wraps it (coalescing_vfs.h).
  std::string vfs;
};

// Counters for tests and metrics. Monotonic; read with relaxed ordering.
struct Stats {
  uint64_t commits = 0;         // transactions committed by the writer (batches)
  uint64_t ops = 0;             // operations in committed batches (successful or not)
  uint64_t failed_batches = 0;  // batches rolled back after an SQLite error
  uint64_t largest_batch = 0;   // most operations seen in one batch
};

class SqliteStore final : public Store {
 public:
  // Opens or creates the store at options.path. Unavailable if the file cannot
  // be opened or is locked by another process; Internal if it is not a Lintel
  // store (corrupt, or another schema). Blocks on I/O.
  static Result<std::unique_ptr<SqliteStore>> Open(Options options);

  // Close()s.
  ~SqliteStore() override;
  SqliteStore(const SqliteStore&) = delete;
  SqliteStore& operator=(const SqliteStore&) = delete;

  // Finishes the batch being committed, fails queued and later writes with
  // Unavailable("store closing"), ends every watch with on_error(Unavailable),
  // stops the threads and closes the database. Idempotent. Must not be called
  // from a watch callback.
  void Close();

  Stats GetStats() const;

  Result<Revision> Create(std::string_view key, std::string_view value, LeaseId lease = 0) override;
  Result<Revision> Update(std::string_view key, std::string_view value, Revision expected,
                          LeaseId lease = 0) override;
  Result<Revision> Delete(std::string_view key, Revision expected = 0) override;
  Result<KeyValue> Get(std::string_view key) override;
  Result<ListResult> List(std::string_view prefix, const ListOptions& options) override;
  Result<Revision> CurrentRevision() override;
  Result<std::unique_ptr<Watch>> WatchPrefix(std::string_view prefix, Revision after,
                                             WatchCallbacks callbacks) override;
  Status Compact(Revision revision) override;
  Result<Revision> CompactedRevision() override;
  Result<LeaseId> GrantLease(std::chrono::milliseconds ttl) override;
  Status KeepAlive(LeaseId lease) override;
  Status RevokeLease(LeaseId lease) override;

 private:
  SqliteStore(Options options, int lock_fd);

  const Options options_;
  int lock_fd_;
  std::atomic<bool> closed_{false};
  std::unique_ptr<LeaseTable> leases_;
  std::unique_ptr<ReaderPool> readers_;
  std::shared_ptr<WatchHub> hub_;  // shared with Watch handles, which may outlive us
  std::unique_ptr<Checkpointer> checkpointer_;  // declared before writer_: outlives its hook
  std::unique_ptr<Writer> writer_;
};

}  // namespace lintel::store::sqlite
