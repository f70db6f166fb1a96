// A Deployment's status, computed from the facts of its Pods as observed
// (not counting what the sync is about to create or delete): the counts
// kubectl prints and three conditions. Pure functions; any thread.
//
//   Available       True  MinimumReplicasAvailable    available >= replicas - maxUnavailable
//                   False MinimumReplicasUnavailable  (Recreate: all of them)
//   Progressing     True  NewPodsAvailable            every replica new, and available
//                   True  PodsUpdating                a count moved the right way, the
//                                                     template or the spec changed (the
//                                                     condition's lastUpdateTime is then now)
//                   False ProgressDeadlineExceeded    PodsUpdating with no progress for
//                                                     progressDeadlineSeconds
//                   Unknown DeploymentPaused          spec.paused
//   ReplicaFailure  True  FailedCreate                the last Pod create failed (its error);
//                                                     removed once a create succeeds or no
//                                                     Pod is missing
//
// lastTransitionTime moves only when a condition's status changes.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "common/json.h"
#include "controllers/deployment/deployment_plan.h"

namespace lintel::controllers::deployment {

// What the sync did, as far as the status tells.
struct SyncOutcome {
  bool new_revision = false;  // the template changed and the revision was bumped
  int64_t created = 0;
  std::string create_error;  // the message of a failed create, "" if none failed
};

Json ComputeStatus(const DeploymentFacts& d, const std::vector<PodFacts>& pods,
                   const Json& old_status, const SyncOutcome& outcome, WallTime now);

// How long until the progress deadline of `status` passes; nullopt when none
// is running (or it has passed).
std::optional<std::chrono::milliseconds> UntilProgressDeadline(const DeploymentFacts& d,
                                                               const Json& status, WallTime now);

// The condition of `type` in status.conditions, or null.
const Json& ConditionOf(const Json& status, const std::string& type);

}  // namespace lintel::controllers::deployment
