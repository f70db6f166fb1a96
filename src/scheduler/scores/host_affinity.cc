#include "scheduler/scores/host_affinity.h"

namespace lintel::scheduler {

int64_t HostAffinityRaw(const HostInfo& host, const WorkloadInfo& w) {
  int64_t sum = 0;
  for (const auto& term : w.preferred_host_terms) {
    if (term.preference.Matches(host.labels)) {
      sum += term.weight;
    }
  }
  return sum;
}

}  // namespace lintel::scheduler
