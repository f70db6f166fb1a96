// Readiness: a host that is not Ready (its agent's lease lapsed, or it reported
// NotReady) gets nothing new. Pure; any thread.
#pragma once

#include "scheduler/filters/filter.h"
#include "scheduler/model.h"

namespace lintel::scheduler {

inline constexpr Reason kNotReady = "not ready";

Reason ReadinessFilter(const HostInfo& host);

}  // namespace lintel::scheduler
