// The scheduler's model from API objects (the shapes of src/api/kinds/*.cc):
//
//   HostFromJson      Host: metadata.labels, spec.unschedulable, spec.taints,
//                     spec.overcommit, status.allocatable (else status.capacity) {cpu,
//                     memory, pods, vms}, status.conditions[Ready], status.runtime
//                     {accelerator, sandbox}
//   WorkloadFromJson  Pod or VirtualMachine: metadata, spec.priority, schedulingPolicy,
//                     host, hostSelector, tolerations, affinity; a Pod's container
//                     requests (limits when a request is missing, as kube defaults them)
//                     and isolation; a VM's cpu, memory and accelerator
//
// Quantities use apimachinery's Quantity and selectors LabelSelector::FromJson. Errors are
// Invalid, with a cause naming the field ("status.allocatable.memory: quantities must
// match ..."). Absent pods/vms counts mean unlimited (kUnlimitedCount); absent cpu or
// memory mean none. Pure; any thread.
#pragma once

#include "common/json.h"
#include "common/status.h"
#include "scheduler/model.h"

namespace lintel::scheduler {

Result<HostInfo> HostFromJson(const Json& host);
Result<WorkloadInfo> WorkloadFromJson(const Json& object);

}  // namespace lintel::scheduler
