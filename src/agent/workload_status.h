// What the agent tells the API about a workload, computed from its driver's
// status: the /status fields for a Pod (phase, startTime, containerStatuses)
// or a VirtualMachine (phase, startTime, accelerator, lastExitReason) and the
// Ready condition. Pure functions; any thread.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/json.h"
#include "drivers/driver.h"

namespace lintel::agent {

struct WorkloadReport {
  std::string phase;  // Running; Succeeded or Failed (Pods); Stopped or Failed (VMs)
  bool ready = false;
  // Names the transition: a report equal to the last one written is not
  // written again ("Running", "Failed/StartError", ...).
  std::string digest;
  Json status = Json::object();  // the fields besides conditions
  Json ready_condition;          // {type: Ready, status, reason, message, lastTransitionTime}
};

// nullopt while Starting (nothing worth a write yet).
std::optional<WorkloadReport> ReportFor(drivers::WorkloadKind kind,
                                        const drivers::WorkloadStatus& status);

// A workload whose Start failed for good, with the driver's message.
WorkloadReport StartFailedReport(drivers::WorkloadKind kind, const drivers::WorkloadSpec& spec,
                                 const std::string& message, Clock::WallTime now);

// An Event a transition deserves, as the kubelet records them.
struct WorkloadEvent {
  std::string type;  // Normal or Warning
  std::string reason;
  std::string message;
  bool operator==(const WorkloadEvent&) const = default;
};

// The Events between two reports' statuses (`before` null: the first report):
// per container, Started (running since a new time), Failed (ErrImagePull,
// with the registry's message), BackOff (ImagePullBackOff, CrashLoopBackOff),
// OOMKilled and Terminated (a non-zero exit); for the workload, Failed
// (StartError and other failures with a reason) and, for VMs, Started and
// Stopped.
std::vector<WorkloadEvent> EventsBetween(drivers::WorkloadKind kind, const Json& before,
                                         const Json& after);

// Whether a Pod's or VM's phase means it ended (and must not be started again).
bool IsTerminalPhase(drivers::WorkloadKind kind, const std::string& phase);

}  // namespace lintel::agent
