// Preemption: when no host can take a workload, find one where evicting workloads of
// lower priority makes room. Only Pods are evicted, unless the policy allows evicting
// VirtualMachines too (allow_vm_preemption): a VM is a pet, and restarting it is an
// outage, not a reschedule.
//
// Per host (pinned/static filters must pass; the lower-priority workloads there must free
// enough resources): evict every candidate in simulation, check that the workload then
// passes all filters, and put back ("reprieve") as many as still allow it, highest
// priority first, as kube does. Among the hosts that work, the one whose victims have the
// lowest highest priority wins, then the fewest victims, then the lowest sum of
// priorities, then the earliest in index order.
//
// The simulation uses Forget/Assume on the snapshot and leaves it as it found it. O(hosts
// + workloads on candidate hosts); the slow path. One thread per Snapshot.
#pragma once

#include <memory>
#include <optional>
#include <vector>

#include "scheduler/snapshot.h"

namespace lintel::scheduler {

struct PreemptionOptions {
  bool allow_vm_preemption = false;
};

struct PreemptionPlan {
  HostId host = kNoHost;
  // Lowest priority first.
  std::vector<std::shared_ptr<const WorkloadInfo>> victims;
};

std::optional<PreemptionPlan> FindPreemption(Snapshot& snapshot, const WorkloadInfo& w,
                                             const PreemptionOptions& options);

}  // namespace lintel::scheduler
