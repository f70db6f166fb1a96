// Capability: a VirtualMachine needs a host that runs VMs (accelerator kvm or tcg), and
// one asking for accelerator KVM needs kvm; an isolation: vm Pod needs a sandbox-capable
// host. Pure; any thread.
#pragma once

#include "scheduler/filters/filter.h"
#include "scheduler/model.h"

namespace lintel::scheduler {

inline constexpr Reason kNoVmSupport = "no vm support";
inline constexpr Reason kKvmRequired = "kvm required";
inline constexpr Reason kSandboxRequired = "sandbox required";

Reason CapabilityFilter(const HostInfo& host, const WorkloadInfo& w);

}  // namespace lintel::scheduler
