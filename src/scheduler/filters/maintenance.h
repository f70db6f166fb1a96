// Maintenance: a host with spec.unschedulable (cordoned, draining) gets nothing new;
// pinned workloads included, unlike kube's DaemonSets. Pure; any thread.
#pragma once

#include "scheduler/filters/filter.h"
#include "scheduler/model.h"

namespace lintel::scheduler {

inline constexpr Reason kUnschedulable = "unschedulable";

Reason MaintenanceFilter(const HostInfo& host);

}  // namespace lintel::scheduler
