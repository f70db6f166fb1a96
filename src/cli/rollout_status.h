// What `rollout status` says about a Deployment, as kubectl's
// DeploymentStatusViewer says it. Pure function; any thread.
#pragma once

#include <string>

#include "common/json.h"
#include "common/status.h"

namespace lintel::cli {

struct RolloutState {
  std::string message;  // one line, without the newline
  bool done = false;
};

// Waiting (observedGeneration behind generation, updated < spec.replicas,
// old replicas left, updated ones not all available) or done. BadRequest
// ("deployment \"web\" exceeded its progress deadline") when its Progressing
// condition says ProgressDeadlineExceeded.
Result<RolloutState> DeploymentRolloutState(const Json& deployment);

}  // namespace lintel::cli
