#include "scheduler/filters/workload_anti_affinity.h"

namespace lintel::scheduler {

Reason AntiAffinityFilter(const Snapshot& snapshot, const AffinityState& state, HostId host) {
  for (const DomainSet& forbidden : state.forbidden) {
    auto value = snapshot.DomainOf(host, forbidden.key);
    if (value && forbidden.Contains(*value)) {
      return kAntiAffinityConflict;
    }
  }
  return kPass;
}

}  // namespace lintel::scheduler
