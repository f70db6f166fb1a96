#include "scheduler/filters/pinned.h"

namespace lintel::scheduler {

Reason PinnedFilter(const HostInfo& host, const WorkloadInfo& w) {
  return w.pinned_host.empty() || w.pinned_host == host.name ? kPass : kNotPinnedHost;
}

}  // namespace lintel::scheduler
