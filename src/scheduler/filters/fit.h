// Fit: the workload's charge on the host (model.h, "Accounting") must fit in what the
// host has free, for pods and vms counts, cpu and memory; the first that does not is the
// reason. Pure; any thread.
#pragma once

#include "scheduler/filters/filter.h"
#include "scheduler/model.h"

namespace lintel::scheduler {

inline constexpr Reason kTooManyPods = "too many pods";
inline constexpr Reason kTooManyVms = "too many vms";
inline constexpr Reason kInsufficientCpu = "insufficient cpu";
inline constexpr Reason kInsufficientMemory = "insufficient memory";

Reason FitFilter(const Resources& charge, const Resources& free);

}  // namespace lintel::scheduler
