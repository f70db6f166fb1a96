#include "scheduler/filters/host_selector.h"

namespace lintel::scheduler {

Reason HostSelectorFilter(const HostInfo& host, const WorkloadInfo& w) {
  for (const auto& [key, value] : w.host_selector) {
    auto v = FindLabel(host.labels, key);
    if (!v || *v != value) {
      return kHostSelectorMismatch;
    }
  }
  if (w.required_host_terms.empty()) {
    return kPass;
  }
  for (const auto& term : w.required_host_terms) {
    if (term.Matches(host.labels)) {
      return kPass;
    }
  }
  return kHostAffinityMismatch;
}

}  // namespace lintel::scheduler
