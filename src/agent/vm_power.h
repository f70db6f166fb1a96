// A VirtualMachine's power settings as the agent reads them: its runStrategy
// and the annotations the server's action subresources write (start, stop,
// restart, pause; server/resources_vm_actions.cc).
#pragma once

#include <string>

#include "drivers/driver.h"

namespace lintel::agent {

inline constexpr char kPower[] = "lintel.dev/power";  // Manual: "on" or "off"
inline constexpr char kStartRequested[] = "lintel.dev/start-requested";
inline constexpr char kRestartRequested[] = "lintel.dev/restart-requested";
inline constexpr char kPaused[] = "lintel.dev/paused";  // "true"

std::string AnnotationOf(const drivers::WorkloadSpec& spec, const char* key);
std::string RunStrategyOf(const drivers::WorkloadSpec& spec);
// Whether the VM should run now: Always and RerunOnFailure do (until they end
// on their own, which the driver and the agent handle), Manual when powered
// on, Halted never.
bool VmWantsRunning(const drivers::WorkloadSpec& spec);
// Everything above in one string, to notice a change.
std::string VmPowerKey(const drivers::WorkloadSpec& spec);

}  // namespace lintel::agent
