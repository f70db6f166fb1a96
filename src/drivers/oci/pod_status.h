// A Pod's WorkloadStatus, computed from what the runner records (pure, so the
// rules are table-tested):
//
//   container: waiting  (Starting: no run now; reason ContainerCreating,
//                        CrashLoopBackOff, ErrImagePull, ImagePullBackOff)
//              running  (a run started and its conmon lives)
//              terminated (Exited: its last run ended and it will not run again)
//   Pod:       Starting until every container has begun a run;
//              Running while any container runs or will run again;
//              Exited once every container is terminated: exit code and
//                reason of the first that failed (Completed when none did);
//              Failed when the sandbox could not be made (`failure`).
//   Ready:     every container running, started (startup probe) and ready
//              (readiness probe, else running).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "drivers/driver.h"
#include "drivers/oci/pod_plan.h"
#include "drivers/oci/pod_state.h"

namespace lintel::drivers::oci {

struct ContainerLive {
  bool running = false;
  bool has_readiness = false;
  bool ready = false;   // readiness result (when has_readiness)
  bool started = true;  // startup probe passed, or none
};

WorkloadStatus ComputePodStatus(const PodPlan& plan, const PodRecord& rec,
                                const std::vector<ContainerLive>& live,
                                const std::string& runtime_name, const std::string& failure);

}  // namespace lintel::drivers::oci
