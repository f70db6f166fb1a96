// Preferred host affinity: the sum of the weights of the preferred terms whose selector
// matches the host's labels (raw; normalized by the maximum over the candidates, as kube's
// NodeAffinity does). Pure.
#pragma once

#include <cstdint>

#include "scheduler/model.h"

namespace lintel::scheduler {

int64_t HostAffinityRaw(const HostInfo& host, const WorkloadInfo& w);

}  // namespace lintel::scheduler
