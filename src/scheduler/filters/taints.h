// Taints and tolerations: a NoSchedule or NoExecute taint the workload does not tolerate
// keeps it off the host. PreferNoSchedule only lowers the score (scores/taint_preference.h).
// Pure; any thread.
#pragma once

#include "scheduler/filters/filter.h"
#include "scheduler/model.h"

namespace lintel::scheduler {

inline constexpr Reason kUntoleratedTaint = "untolerated taint";

Reason TaintFilter(const HostInfo& host, const WorkloadInfo& w);

}  // namespace lintel::scheduler
