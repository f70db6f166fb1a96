// Required workload anti-affinity, both ways: the host's domain must not hold a workload
// that the incoming workload's terms select, nor one whose own required anti-affinity
// selects the incoming workload (AffinityState::forbidden). A host without the topology
// label is not in any domain and passes. Pure; one thread per Snapshot.
#pragma once

#include "scheduler/affinity_state.h"
#include "scheduler/filters/filter.h"
#include "scheduler/snapshot.h"

namespace lintel::scheduler {

inline constexpr Reason kAntiAffinityConflict = "anti-affinity";

Reason AntiAffinityFilter(const Snapshot& snapshot, const AffinityState& state, HostId host);

}  // namespace lintel::scheduler
