#include "scheduler/filters/readiness.h"

namespace lintel::scheduler {

Reason ReadinessFilter(const HostInfo& host) { return host.ready ? kPass : kNotReady; }

}  // namespace lintel::scheduler
