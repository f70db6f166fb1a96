// Host selector and required host affinity: every hostSelector pair must be a label of
// the host, and when required host affinity terms are given, at least one of them (ORed;
// each a selector with In/NotIn/Exists/DoesNotExist/Gt/Lt) must match the host's labels.
// Pure; any thread.
#pragma once

#include "scheduler/filters/filter.h"
#include "scheduler/model.h"

namespace lintel::scheduler {

inline constexpr Reason kHostSelectorMismatch = "host selector";
inline constexpr Reason kHostAffinityMismatch = "host affinity";

Reason HostSelectorFilter(const HostInfo& host, const WorkloadInfo& w);

}  // namespace lintel::scheduler
