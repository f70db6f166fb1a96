#include "scheduler/filters/chain.h"

#include "scheduler/filters/capability.h"
#include "scheduler/filters/fit.h"
#include "scheduler/filters/host_selector.h"
#include "scheduler/filters/maintenance.h"
#include "scheduler/filters/pinned.h"
#include "scheduler/filters/readiness.h"
#include "scheduler/filters/taints.h"
#include "scheduler/filters/workload_affinity.h"
#include "scheduler/filters/workload_anti_affinity.h"

namespace lintel::scheduler {

Reason StaticFilters(const HostInfo& host, const WorkloadInfo& w) {
  if (Reason r = ReadinessFilter(host); !r.empty()) {
    return r;
  }
  if (Reason r = MaintenanceFilter(host); !r.empty()) {
    return r;
  }
  if (Reason r = TaintFilter(host, w); !r.empty()) {
    return r;
  }
  if (Reason r = HostSelectorFilter(host, w); !r.empty()) {
    return r;
  }
  return CapabilityFilter(host, w);
}

Reason DynamicFilters(const Snapshot& snapshot, const WorkloadInfo& w,
                      const AffinityState& affinity, HostId host) {
  if (Reason r = FitFilter(snapshot.ChargeOn(w, host), snapshot.free(host)); !r.empty()) {
    return r;
  }
  if (Reason r = AffinityFilter(snapshot, affinity, host); !r.empty()) {
    return r;
  }
  return AntiAffinityFilter(snapshot, affinity, host);
}

Reason RunFilters(const Snapshot& snapshot, const WorkloadInfo& w, const AffinityState& affinity,
                  HostId host) {
  if (Reason r = PinnedFilter(snapshot.host(host), w); !r.empty()) {
    return r;
  }
  if (Reason r = StaticFilters(snapshot.host(host), w); !r.empty()) {
    return r;
  }
  return DynamicFilters(snapshot, w, affinity, host);
}

}  // namespace lintel::scheduler
