#include "scheduler/filters/capability.h"

namespace lintel::scheduler {

Reason CapabilityFilter(const HostInfo& host, const WorkloadInfo& w) {
  if (w.kind == WorkloadKind::kVirtualMachine && host.accelerator == Accelerator::kNone) {
    return kNoVmSupport;
  }
  if (w.requires_kvm && host.accelerator != Accelerator::kKvm) {
    return kKvmRequired;
  }
  if (w.needs_sandbox && !host.sandbox) {
    return kSandboxRequired;
  }
  return kPass;
}

}  // namespace lintel::scheduler
