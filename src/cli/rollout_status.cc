#include "cli/rollout_status.h"

#include "cli/errors.h"
#include "cli/text.h"

namespace lintel::cli {

namespace {

int64_t IntAt(const Json& obj, const char* pointer, int64_t fallback = 0) {
  const Json::json_pointer p(pointer);
  if (!obj.contains(p)) return fallback;
  const Json& v = obj.at(p);
  return v.is_number_integer() ? v.get<int64_t>() : fallback;
}

}  // namespace

Result<RolloutState> DeploymentRolloutState(const Json& d) {
  const std::string quoted = "deployment \"" + StringAt(d, "/metadata/name") + "\"";
  const std::string waiting = "Waiting for " + quoted + " rollout to finish: ";
  if (IntAt(d, "/metadata/generation") > IntAt(d, "/status/observedGeneration")) {
    return RolloutState{"Waiting for deployment spec update to be observed...", false};
  }
  const Json::json_pointer conditions("/status/conditions");
  const Json conds = d.contains(conditions) ? d.at(conditions) : Json();
  if (conds.is_array()) {
    for (const auto& c : conds) {
      if (c.is_object() && c.value("type", "") == "Progressing" &&
          c.value("reason", "") == "ProgressDeadlineExceeded") {
        return CliError(quoted + " exceeded its progress deadline");
      }
    }
  }
  const int64_t want = IntAt(d, "/spec/replicas", 1);
  const int64_t replicas = IntAt(d, "/status/replicas");
  const int64_t updated = IntAt(d, "/status/updatedReplicas");
  const int64_t available = IntAt(d, "/status/availableReplicas");
  if (updated < want) {
    return RolloutState{waiting + std::to_string(updated) + " out of " + std::to_string(want) +
                            " new replicas have been updated...",
                        false};
  }
  if (replicas > updated) {
    return RolloutState{
        waiting + std::to_string(replicas - updated) + " old replicas are pending termination...",
        false};
  }
  if (available < updated) {
    return RolloutState{waiting + std::to_string(available) + " of " + std::to_string(updated) +
                            " updated replicas are available...",
                        false};
  }
  return RolloutState{quoted + " successfully rolled out", true};
}

}  // namespace lintel::cli
