// Writer: the one thread that writes the database, with group commit.
//
// Callers queue a WriteOp and block on it. The writer takes everything queued
// (up to max_batch), applies it in queue order inside one transaction (each
// op's precondition is checked against the state the ops before it left, so a
// failed op fails alone), commits once, publishes the batch's events to the
// WatchHub in revision order, then wakes every caller in the batch:
//
//   callers ──Submit──> queue_ ──take all──> BEGIN; apply op1..opN; COMMIT (fsync)
//                                              │
//            <──done.release() each op───── Publish(events) to WatchHub
//
// An SQLite error anywhere in a batch rolls it all back and fails every op in
// it with that error; in-memory state (revision, lease ids) is restored too.
// Between batches the writer expires leases (LeaseTable) and trims compacted
// history a page at a time, each step in its own small transaction.
//
// Thread-safety: Submit from any thread; the rest is the writer thread's.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <set>
#include <string_view>
#include <thread>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "common/thread_annotations.h"
#include "store/sqlite/connection.h"
#include "store/sqlite/lease_table.h"
#include "store/sqlite/schema.h"
#include "store/sqlite/sqlite_store.h"
#include "store/sqlite/watch_hub.h"

namespace lintel::store::sqlite {

// Wakes one blocked caller. Not a std::binary_semaphore: libstdc++'s spins
// with sched_yield before sleeping, which burns the CPU that the writer needs
// when dozens of callers wait.
class Completion {
 public:
  void Wait() {
    std::unique_lock<std::mutex> l(mu_);
    cv_.wait(l, [&] { return done_; });
  }
  // Notifies under the lock: once Wait can return the op may be gone.
  void Signal() {
    std::lock_guard<std::mutex> l(mu_);
    done_ = true;
    cv_.notify_one();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false;
};

// One write. The caller owns it (usually on its stack) and the bytes its views
// point at; it blocks in Submit until the writer has filled in the result.
struct WriteOp {
  enum class Kind : uint8_t { kCreate, kUpdate, kDelete, kGrant, kRevoke, kCompact };

  explicit WriteOp(Kind k) : kind(k) {}

  Kind kind;
  std::string_view key;
  std::string_view value;
  Revision expected = 0;  // kUpdate/kDelete precondition; kCompact: the revision
  LeaseId lease = 0;      // kCreate/kUpdate: attach; kRevoke: the lease
  std::chrono::milliseconds ttl{0};

  // Results.
  Status status;
  Revision revision = 0;  // the write's revision
  LeaseId granted = 0;    // kGrant
  Completion done;
};

class Writer {
 public:
  struct Config {
    size_t max_batch = 1024;
    std::chrono::milliseconds lease_sweep_interval{500};
  };

  Writer(std::unique_ptr<Connection> conn, const StoredState& state, const Config& config,
         LeaseTable& leases, WatchHub& hub);
  ~Writer();
  Writer(const Writer&) = delete;
  Writer& operator=(const Writer&) = delete;

  void Start();
  // Queues `op` and blocks until its batch has committed (durably) or failed.
  // Unavailable("store closing") once Close has begun.
  void Submit(WriteOp& op);
  // Lets the batch in flight finish, fails what is still queued and stops the
  // thread. Later Submits fail with Unavailable.
  void Close();
  // Closes the database connection (after Close). Closed last, it checkpoints
  // the WAL into the database file and removes it.
  void CloseDatabase();

  Revision CommittedRevision() const { return committed_revision_.load(std::memory_order_acquire); }
  Revision CompactedRevision() const {
    return committed_compacted_.load(std::memory_order_acquire);
  }
  Stats GetStats() const;

 private:
  // What one batch changed besides the database, applied only if it commits.
  struct Batch {
    std::vector<Event> events;
    std::vector<StoredState::Lease> granted;
    std::set<LeaseId> revoked;
  };

  void Run();
  void CommitBatch(const std::vector<WriteOp*>& ops, const std::vector<LeaseId>& expired);
  Status ApplyAll(const std::vector<WriteOp*>& ops, const std::vector<LeaseId>& expired, Batch& b);
  // Each returns an SQLite error (the batch fails) or OK with op.status set.
  Status Apply(WriteOp& op, Batch& b);
  Status ApplyCreate(WriteOp& op, Batch& b);
  Status ApplyUpdate(WriteOp& op, Batch& b);
  Status ApplyDelete(WriteOp& op, Batch& b);
  Status ApplyGrant(WriteOp& op, Batch& b);
  Status ApplyCompact(WriteOp& op);
  // Deletes the lease's keys (one revision each) and the lease.
  Status RevokeLease(LeaseId id, Batch& b);
  Status DeleteKey(KeyValue&& current, Batch& b, Revision* revision);
  Status InsertHistory(Revision rev, std::string_view key, bool deleted, Revision create_rev,
                       LeaseId lease, Revision prev_rev, std::string_view value);
  Status SetMeta(const char* name, int64_t value);
  bool LeaseUsable(LeaseId id, const Batch& b) const;
  // Trims one page of compacted history; returns false if it failed.
  bool CompactStep();

  std::unique_ptr<Connection> conn_;  // closed by CloseDatabase
  const Config config_;
  LeaseTable& leases_;
  WatchHub& hub_;
  std::thread thread_;

  // Writer-thread state.
  Revision revision_;
  Revision compacted_;
  Revision compact_done_;
  LeaseId lease_seq_;

  std::atomic<Revision> committed_revision_;
  std::atomic<Revision> committed_compacted_;
  std::atomic<uint64_t> commits_{0};
  std::atomic<uint64_t> ops_{0};
  std::atomic<uint64_t> failed_batches_{0};
  std::atomic<uint64_t> largest_batch_{0};

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<WriteOp*> queue_ LINTEL_GUARDED_BY(mu_);
  bool closing_ LINTEL_GUARDED_BY(mu_) = false;
  bool waiting_ LINTEL_GUARDED_BY(mu_) = false;  // the writer sleeps on cv_
};

}  // namespace lintel::store::sqlite
