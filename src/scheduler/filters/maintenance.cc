#include "scheduler/filters/maintenance.h"

namespace lintel::scheduler {

Reason MaintenanceFilter(const HostInfo& host) {
  return host.unschedulable ? kUnschedulable : kPass;
}

}  // namespace lintel::scheduler
