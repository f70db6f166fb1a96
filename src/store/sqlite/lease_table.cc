#include "store/sqlite/lease_table.h"

#include <algorithm>
#include <string>

namespace lintel::store::sqlite {

void LeaseTable::Add(LeaseId id, std::chrono::milliseconds ttl) {
  std::lock_guard<std::mutex> l(mu_);
  leases_[id] = Entry{ttl, clock_.Monotonic() + ttl};
}

void LeaseTable::Remove(LeaseId id) {
  std::lock_guard<std::mutex> l(mu_);
  leases_.erase(id);
}

bool LeaseTable::Known(LeaseId id) const {
  std::lock_guard<std::mutex> l(mu_);
  return leases_.count(id) != 0;
}

bool LeaseTable::Live(LeaseId id) const {
  std::lock_guard<std::mutex> l(mu_);
  auto it = leases_.find(id);
  return it != leases_.end() && !it->second.expiring && clock_.Monotonic() < it->second.deadline;
}

Status LeaseTable::KeepAlive(LeaseId id) {
  std::lock_guard<std::mutex> l(mu_);
  auto it = leases_.find(id);
  Clock::MonoTime now = clock_.Monotonic();
  if (it == leases_.end() || it->second.expiring || now >= it->second.deadline) {
    return NotFound("lease " + std::to_string(id) + " not found or expired");
  }
  it->second.deadline = now + it->second.ttl;
  return Status::Ok();
}

std::vector<LeaseId> LeaseTable::TakeExpired() {
  std::lock_guard<std::mutex> l(mu_);
  std::vector<LeaseId> expired;
  Clock::MonoTime now = clock_.Monotonic();
  for (auto& [id, entry] : leases_) {
    if (entry.expiring || now >= entry.deadline) {
      entry.expiring = true;
      expired.push_back(id);
    }
  }
  std::sort(expired.begin(), expired.end());  // revoke in a stable order
  return expired;
}

}  // namespace lintel::store::sqlite
