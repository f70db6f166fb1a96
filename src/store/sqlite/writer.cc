// Writer: the thread, the queue and group commit. Applying ops: writer_ops.cc;
// trimming compacted history: writer_compaction.cc.
#include "store/sqlite/writer.h"

#include <pthread.h>
#include <spdlog/spdlog.h>

#include <exception>
#include <string>
#include <utility>

namespace lintel::store::sqlite {

Writer::Writer(std::unique_ptr<Connection> conn, const StoredState& state, const Config& config,
               LeaseTable& leases, WatchHub& hub)
    : conn_(std::move(conn)),
      config_(config),
      leases_(leases),
      hub_(hub),
      revision_(state.revision),
      compacted_(state.compacted),
      compact_done_(state.compact_done),
      lease_seq_(state.lease_seq),
      committed_revision_(state.revision),
      committed_compacted_(state.compacted) {}

Writer::~Writer() { Close(); }

void Writer::Start() {
  thread_ = std::thread([this] { Run(); });
  pthread_setname_np(thread_.native_handle(), "lintel-writer");
}

void Writer::Submit(WriteOp& op) {
  {
    std::lock_guard<std::mutex> l(mu_);
    if (closing_) {
      op.status = Unavailable("store closing");
      return;
    }
    queue_.push_back(&op);
    // A busy writer takes the queue when it finishes its batch: no wake-up.
    if (waiting_) {
      cv_.notify_one();
    }
  }
  op.done.Wait();
}

void Writer::Close() {
  {
    std::lock_guard<std::mutex> l(mu_);
    closing_ = true;
  }
  cv_.notify_one();
  if (thread_.joinable()) {
    thread_.join();
  }
  // Without a thread (never started), fail what is queued here.
  std::lock_guard<std::mutex> l(mu_);
  for (WriteOp* op : queue_) {
    op->status = Unavailable("store closing");
    op->done.Signal();
  }
  queue_.clear();
}

void Writer::CloseDatabase() {
  Close();
  conn_.reset();
}

Stats Writer::GetStats() const {
  Stats s;
  s.commits = commits_.load(std::memory_order_relaxed);
  s.ops = ops_.load(std::memory_order_relaxed);
  s.failed_batches = failed_batches_.load(std::memory_order_relaxed);
  s.largest_batch = largest_batch_.load(std::memory_order_relaxed);
  return s;
}

void Writer::Run() {
  using SteadyClock = std::chrono::steady_clock;
  // Real time paces the sweeps; lease deadlines themselves use the store's Clock.
  SteadyClock::time_point next_sweep = SteadyClock::now();
  SteadyClock::time_point next_compact = SteadyClock::now();
  std::vector<WriteOp*> ops;
  while (true) {
    ops.clear();
    {
      std::unique_lock<std::mutex> l(mu_);
      bool compacting = compact_done_ < compacted_ && SteadyClock::now() >= next_compact;
      if (!compacting) {
        SteadyClock::time_point until = next_sweep;
        if (compact_done_ < compacted_ && next_compact < until) {
          until = next_compact;
        }
        waiting_ = true;
        cv_.wait_until(l, until, [&] { return !queue_.empty() || closing_; });
        waiting_ = false;
      }
      if (closing_) {
        for (WriteOp* op : queue_) {
          op->status = Unavailable("store closing");
          op->done.Signal();
        }
        queue_.clear();
        break;
      }
      while (!queue_.empty() && ops.size() < config_.max_batch) {
        ops.push_back(queue_.front());
        queue_.pop_front();
      }
    }
    std::vector<LeaseId> expired;
    try {
      if (SteadyClock::now() >= next_sweep) {
        expired = leases_.TakeExpired();
        next_sweep = SteadyClock::now() + config_.lease_sweep_interval;
      }
    } catch (const std::exception& e) {
      spdlog::error("store writer: lease sweep: {}", e.what());
    }
    // CommitBatch completes every op, whatever happens.
    if (!ops.empty() || !expired.empty()) {
      CommitBatch(ops, expired);
    }
    bool compacted = true;
    if (compact_done_ < compacted_ && SteadyClock::now() >= next_compact) {
      try {
        compacted = CompactStep();
      } catch (const std::exception& e) {
        spdlog::error("store writer: compaction: {}", e.what());
        if (conn_->InTransaction()) {
          (void)conn_->Exec("ROLLBACK", "compact: rollback");
        }
        compacted = false;
      }
    }
    if (!compacted) {
      next_compact = SteadyClock::now() + std::chrono::seconds(1);  // back off
    }
  }
}

void Writer::CommitBatch(const std::vector<WriteOp*>& ops, const std::vector<LeaseId>& expired) {
  const Revision start_revision = revision_;
  const Revision start_compacted = compacted_;
  const LeaseId start_lease_seq = lease_seq_;
  Batch b;
  Status s;
  try {
    s = ApplyAll(ops, expired, b);
  } catch (const std::exception& e) {
    s = Internal(std::string("store writer: ") + e.what());
  } catch (...) {
    s = Internal("store writer: unknown exception");
  }
  if (s.ok()) {
    s = conn_->Exec("COMMIT", "commit");
  }
  if (!s.ok()) {
    if (conn_->InTransaction()) {
      (void)conn_->Exec("ROLLBACK", "rollback");
    }
    revision_ = start_revision;
    compacted_ = start_compacted;
    lease_seq_ = start_lease_seq;
    failed_batches_.fetch_add(1, std::memory_order_relaxed);
    spdlog::warn("store: batch of {} writes failed: {}", ops.size(), s.ToString());
    // Expired leases stay marked expiring and are retried at the next sweep.
    for (WriteOp* op : ops) {
      op->status = s;
      op->revision = 0;
      op->done.Signal();
    }
    return;
  }
  committed_revision_.store(revision_, std::memory_order_release);
  committed_compacted_.store(compacted_, std::memory_order_release);
  try {
    for (const auto& lease : b.granted) {
      leases_.Add(lease.id, lease.ttl);
    }
    for (LeaseId id : b.revoked) {
      leases_.Remove(id);
    }
    if (compacted_ != start_compacted) {
      hub_.SetCompacted(compacted_);
    }
    if (revision_ != start_revision) {
      hub_.Publish(std::move(b.events), revision_);
    }
  } catch (const std::exception& e) {
    // Only allocation can fail here; the batch is durable, so report success.
    spdlog::error("store writer: after commit at revision {}: {}", revision_, e.what());
  }
  commits_.fetch_add(1, std::memory_order_relaxed);
  ops_.fetch_add(ops.size(), std::memory_order_relaxed);
  if (ops.size() > largest_batch_.load(std::memory_order_relaxed)) {
    largest_batch_.store(ops.size(), std::memory_order_relaxed);
  }
  for (WriteOp* op : ops) {
    op->done.Signal();
  }
}

Status Writer::ApplyAll(const std::vector<WriteOp*>& ops, const std::vector<LeaseId>& expired,
                        Batch& b) {
  const Revision start_revision = revision_;
  const Revision start_compacted = compacted_;
  const LeaseId start_lease_seq = lease_seq_;
  LINTEL_RETURN_IF_ERROR(conn_->Exec("BEGIN IMMEDIATE", "begin"));
  for (LeaseId id : expired) {
    if (b.revoked.count(id) == 0) {
      LINTEL_RETURN_IF_ERROR(RevokeLease(id, b));
    }
  }
  for (WriteOp* op : ops) {
    LINTEL_RETURN_IF_ERROR(Apply(*op, b));
  }
  if (revision_ != start_revision) {
    LINTEL_RETURN_IF_ERROR(SetMeta("revision", revision_));
  }
  if (compacted_ != start_compacted) {
    LINTEL_RETURN_IF_ERROR(SetMeta("compacted", compacted_));
  }
  if (lease_seq_ != start_lease_seq) {
    LINTEL_RETURN_IF_ERROR(SetMeta("lease_seq", lease_seq_));
  }
  return Status::Ok();
}

}  // namespace lintel::store::sqlite
