// Required workload affinity: for each required term, the host's domain (its value of the
// term's topologyKey) must hold a workload the term selects; a host without the label
// fails. The first workload of a group that selects itself may go anywhere when nothing
// matches yet (AffinityState::first_of_group), as in kube. Pure; one thread per Snapshot.
#pragma once

#include "scheduler/affinity_state.h"
#include "scheduler/filters/filter.h"
#include "scheduler/snapshot.h"

namespace lintel::scheduler {

inline constexpr Reason kAffinityMismatch = "affinity";

Reason AffinityFilter(const Snapshot& snapshot, const AffinityState& state, HostId host);

}  // namespace lintel::scheduler
