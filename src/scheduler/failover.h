// Failover capacity, the question HA admission control asks: if a host fails, can its
// VirtualMachines restart elsewhere? Both functions simulate on a private copy of the
// snapshot with the same filters and scores as the scheduler (no preemption: a failover
// must not evict anyone), placing the displaced VMs highest priority first, then largest
// memory first (first-fit decreasing packs best). Pods are not re-placed: their
// controllers recreate them, and they may wait.
//
// A VM pinned to a failed host (spec.host) cannot move and counts as unplaced.
// Pure with respect to the argument; O(copy + displaced VMs * decision). Any thread, on
// a Snapshot no other thread is changing.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "scheduler/scheduler.h"
#include "scheduler/snapshot.h"

namespace lintel::scheduler {

struct FailoverResult {
  bool ok = false;                                          // every displaced VM was placed
  std::vector<std::pair<std::string, std::string>> placed;  // VM key -> new host
  std::vector<std::string> unplaced;                        // VM keys
  std::string message;  // "3 VMs restart elsewhere" or the first unplaced VM's reason
};

// Whether the VMs on `host` could all be placed on the remaining ready hosts.
FailoverResult CanFailover(const Snapshot& snapshot, HostId host,
                           const SchedulerOptions& options = {});

struct ReserveResult {
  bool ok = false;   // `w` fits and the VMs of the failed hosts can still restart
  std::string host;  // where `w` would go (empty: it does not fit at all)
  std::vector<std::string> failed_hosts;  // the worst case simulated
  std::vector<std::string> unplaced;      // VM keys without room in that case
  std::string message;
};

// An admission check: after admitting `w`, could the VMs of any `n` hosts restart on the
// rest? Approximation: instead of all C(hosts, n) subsets, the worst case is taken to be
// the n ready hosts with the most VM memory charged (then cpu), with `w` on the host the
// scheduler picks; placement is greedy, so the answer can err both ways near the limit.
ReserveResult ReserveForFailures(const Snapshot& snapshot, const WorkloadInfo& w, int n,
                                 const SchedulerOptions& options = {});

}  // namespace lintel::scheduler
