#include "scheduler/filters/workload_affinity.h"

namespace lintel::scheduler {

Reason AffinityFilter(const Snapshot& snapshot, const AffinityState& state, HostId host) {
  for (const DomainSet& term : state.required) {
    auto value = snapshot.DomainOf(host, term.key);
    if (!value) {
      return kAffinityMismatch;
    }
    if (!state.first_of_group && !term.Contains(*value)) {
      return kAffinityMismatch;
    }
  }
  return kPass;
}

}  // namespace lintel::scheduler
