// LeaseTable: the in-memory deadlines of live leases, against Clock::Monotonic().
//
// The lease table on disk holds each lease's TTL; this holds when it runs out.
// The writer adds a lease after its grant commits and removes it after its
// revoke commits; KeepAlive only moves a deadline, so it never touches disk.
//
//   live --deadline passes, TakeExpired--> expiring --revoke commits--> (removed)
//     ^--KeepAlive                           | KeepAlive: NotFound
//                                            '--revoke fails: retried at the next sweep
//
// Thread-safe: callers (KeepAlive) and the writer.
#pragma once

#include <chrono>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "common/thread_annotations.h"
#include "store/store.h"

namespace lintel::store::sqlite {

class LeaseTable {
 public:
  explicit LeaseTable(Clock& clock) : clock_(clock) {}

  // Starts (or restarts) `id` with a full TTL from now.
  void Add(LeaseId id, std::chrono::milliseconds ttl);
  void Remove(LeaseId id);
  // Known at all (live or expiring): revocable.
  bool Known(LeaseId id) const;
  // Live and not past its deadline: keys may be attached to it.
  bool Live(LeaseId id) const;
  // Restarts the TTL. NotFound if unknown, expiring or past its deadline.
  Status KeepAlive(LeaseId id);
  // Leases past their deadline, now marked expiring, plus those still expiring
  // from an earlier sweep whose revoke did not commit.
  std::vector<LeaseId> TakeExpired();

 private:
  struct Entry {
    std::chrono::milliseconds ttl;
    Clock::MonoTime deadline;
    bool expiring = false;
  };

  Clock& clock_;
  mutable std::mutex mu_;
  std::unordered_map<LeaseId, Entry> leases_ LINTEL_GUARDED_BY(mu_);
};

}  // namespace lintel::store::sqlite
