// Hollow hosts: N Hosts in one `lintel agent --driver=fake --hosts N`
// process, each registering, heartbeating and running its bound workloads
// through the same API and the same agent loop a real host uses, with a
// FakeDriver each. A test double for the control plane (scheduler, host
// lifecycle, scale benchmarks), not a runtime.
//
// What they share (see agent.h): the two watches, the driver pool, the status
// writer, the heartbeat thread, and one fake Timers thread; per host there is
// only a HostAgent and a FakeDriver (a few hundred bytes each when idle).
//
// Threading: build before Agent::Start, from one thread.
#pragma once

#include <string>

#include "agent/agent.h"
#include "drivers/fake/fake_driver.h"

namespace lintel::agent {

struct HollowOptions {
  int hosts = 1;
  std::string name_prefix = "hollow-";
  // Labels, capacity, allocatable and agent version for every host; the
  // name and addresses are set per host.
  HostConfig host;
  // run_delay, accelerator, sandbox and clock for every host's driver.
  drivers::fake::FakeOptions fake;
};

// prefix + the index in five digits ("hollow-00042"), so that names sort.
std::string HollowHostName(const std::string& prefix, int index);

// Adds options.hosts hollow hosts to `agent`.
void AddHollowHosts(Agent& agent, const HollowOptions& options);

}  // namespace lintel::agent
