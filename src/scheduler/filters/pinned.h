// Pinned host: a workload with spec.host set may only go to that host (the other filters
// still apply there). Pure; any thread.
#pragma once

#include "scheduler/filters/filter.h"
#include "scheduler/model.h"

namespace lintel::scheduler {

inline constexpr Reason kNotPinnedHost = "not the pinned host";

Reason PinnedFilter(const HostInfo& host, const WorkloadInfo& w);

}  // namespace lintel::scheduler
