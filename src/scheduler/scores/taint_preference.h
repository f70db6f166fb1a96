// PreferNoSchedule taints: the number the workload does not tolerate (raw; normalized in
// reverse over the candidates, so the host with the fewest scores kMaxScore, as kube's
// TaintToleration does). Pure.
#pragma once

#include <cstdint>

#include "scheduler/model.h"

namespace lintel::scheduler {

int64_t UntoleratedPreferNoSchedule(const HostInfo& host, const WorkloadInfo& w);

}  // namespace lintel::scheduler
