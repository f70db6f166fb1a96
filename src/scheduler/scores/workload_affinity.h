// Preferred workload affinity and anti-affinity: for each topology key, the weight
// AffinityState::preferred holds for the host's domain (+weight per selected workload
// there for affinity, -weight for anti-affinity), summed (raw; min-max normalized over the
// candidates, as kube's InterPodAffinity does). One thread per Snapshot.
#pragma once

#include <cstdint>

#include "scheduler/affinity_state.h"
#include "scheduler/snapshot.h"

namespace lintel::scheduler {

int64_t WorkloadAffinityRaw(const Snapshot& snapshot, const AffinityState& state, HostId host);

}  // namespace lintel::scheduler
