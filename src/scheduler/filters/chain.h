// The filter chain, in kube's order; the first failing filter gives the host's reason.
//
//   pinned -> readiness -> maintenance -> taints -> host selector -> capability   (static)
//          -> fit -> affinity -> anti-affinity                                      (dynamic)
//
// Static filters depend only on the host's description and the workload, so the
// scheduler evaluates them once per (workload shape, host) and caches the result as a
// mask (static_masks.h). One thread per Snapshot.
#pragma once

#include "scheduler/affinity_state.h"
#include "scheduler/filters/filter.h"
#include "scheduler/model.h"
#include "scheduler/snapshot.h"

namespace lintel::scheduler {

// readiness, maintenance, taints, host selector, capability.
Reason StaticFilters(const HostInfo& host, const WorkloadInfo& w);
// fit, affinity, anti-affinity.
Reason DynamicFilters(const Snapshot& snapshot, const WorkloadInfo& w,
                      const AffinityState& affinity, HostId host);
// All of them, pinned first.
Reason RunFilters(const Snapshot& snapshot, const WorkloadInfo& w, const AffinityState& affinity,
                  HostId host);

}  // namespace lintel::scheduler
