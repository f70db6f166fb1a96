#include "scheduler/scores/workload_affinity.h"

namespace lintel::scheduler {

int64_t WorkloadAffinityRaw(const Snapshot& snapshot, const AffinityState& state, HostId host) {
  int64_t sum = 0;
  for (const WeightedDomains& d : state.preferred) {
    if (auto value = snapshot.DomainOf(host, d.key)) {
      sum += d.WeightOf(*value);
    }
  }
  return sum;
}

}  // namespace lintel::scheduler
