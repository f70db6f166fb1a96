#include "controllers/deployment/deployment_status.h"

#include <algorithm>

#include "common/time_format.h"

namespace lintel::controllers::deployment {

namespace {

constexpr char kProgressing[] = "Progressing";
constexpr char kPodsUpdating[] = "PodsUpdating";

int64_t IntAt(const Json& obj, const char* key) {
  if (!obj.is_object()) return 0;
  auto it = obj.find(key);
  return it != obj.end() && it->is_number_integer() ? it->get<int64_t>() : 0;
}

std::string StrAt(const Json& obj, const char* key) {
  if (!obj.is_object()) return "";
  auto it = obj.find(key);
  return it != obj.end() && it->is_string() ? it->get<std::string>() : "";
}

// A condition as kube writes it, keeping `prev`'s times where nothing moved;
// `touch` sets lastUpdateTime even so (progress was made).
Json MakeCondition(const Json& prev, const std::string& type, const std::string& status,
                   const std::string& reason, const std::string& message, const std::string& now,
                   bool touch = false) {
  const bool same_status = StrAt(prev, "status") == status;
  const bool same = same_status && StrAt(prev, "reason") == reason &&
                    StrAt(prev, "message") == message;
  std::string transition = StrAt(prev, "lastTransitionTime");
  std::string update = StrAt(prev, "lastUpdateTime");
  return {{"type", type},
          {"status", status},
          {"lastUpdateTime", same && !touch && !update.empty() ? update : now},
          {"lastTransitionTime", same_status && !transition.empty() ? transition : now},
          {"reason", reason},
          {"message", message}};
}

}  // namespace

const Json& ConditionOf(const Json& status, const std::string& type) {
  static const Json kNone;
  if (!status.is_object()) return kNone;
  auto conds = status.find("conditions");
  if (conds == status.end() || !conds->is_array()) return kNone;
  for (const auto& c : *conds) {
    if (c.is_object() && StrAt(c, "type") == type) return c;
  }
  return kNone;
}

Json ComputeStatus(const DeploymentFacts& d, const std::vector<PodFacts>& pods,
                   const Json& old_status, const SyncOutcome& outcome, WallTime now) {
  int64_t replicas = 0, updated = 0, ready = 0, available = 0;
  for (const auto& p : pods) {
    if (!IsActive(p)) continue;
    ++replicas;
    if (p.hash == d.hash) ++updated;
    if (p.ready) ++ready;
    if (IsAvailable(p, d.min_ready_seconds, now)) ++available;
  }
  Json status = {{"observedGeneration", d.generation},
                 {"replicas", replicas},
                 {"updatedReplicas", updated},
                 {"readyReplicas", ready},
                 {"availableReplicas", available},
                 {"unavailableReplicas", std::max<int64_t>(0, d.replicas - available)}};
  const std::string now_text = FormatRfc3339(now);
  const std::string quoted = "Deployment \"" + d.name + "\"";
  Json conds = Json::array();

  const int64_t min_available =
      d.strategy == Strategy::kRecreate
          ? d.replicas
          : d.replicas - ResolveFenceposts(d.max_surge, d.max_unavailable, d.replicas).unavailable;
  const Json& prev_available = ConditionOf(old_status, "Available");
  if (available >= min_available) {
    conds.push_back(MakeCondition(prev_available, "Available", "True", "MinimumReplicasAvailable",
                                  "Deployment has minimum availability.", now_text));
  } else {
    conds.push_back(MakeCondition(prev_available, "Available", "False",
                                  "MinimumReplicasUnavailable",
                                  "Deployment does not have minimum availability.", now_text));
  }

  const Json& prev = ConditionOf(old_status, kProgressing);
  const std::string prev_reason = StrAt(prev, "reason");
  const int64_t old_updated = IntAt(old_status, "updatedReplicas");
  const bool progressed =
      outcome.new_revision || d.generation > IntAt(old_status, "observedGeneration") ||
      updated > old_updated || ready > IntAt(old_status, "readyReplicas") ||
      available > IntAt(old_status, "availableReplicas") ||
      replicas - updated < IntAt(old_status, "replicas") - old_updated;
  const bool complete = updated == d.replicas && replicas == d.replicas && available == d.replicas;
  if (d.paused) {
    conds.push_back(MakeCondition(prev, kProgressing, "Unknown", "DeploymentPaused",
                                  "Deployment is paused.", now_text));
  } else if (complete) {
    conds.push_back(MakeCondition(prev, kProgressing, "True", "NewPodsAvailable",
                                  quoted + " has successfully progressed.", now_text));
  } else if (progressed || prev.is_null() || prev_reason == "DeploymentPaused" ||
             prev_reason == "NewPodsAvailable") {
    conds.push_back(MakeCondition(prev, kProgressing, "True", kPodsUpdating,
                                  quoted + " is progressing.", now_text, /*touch=*/true));
  } else if (prev_reason == kPodsUpdating && !UntilProgressDeadline(d, old_status, now)) {
    conds.push_back(MakeCondition(prev, kProgressing, "False", "ProgressDeadlineExceeded",
                                  quoted + " has timed out progressing.", now_text));
  } else {
    conds.push_back(prev);
  }

  const Json& prev_failure = ConditionOf(old_status, "ReplicaFailure");
  if (!outcome.create_error.empty()) {
    conds.push_back(MakeCondition(prev_failure, "ReplicaFailure", "True", "FailedCreate",
                                  outcome.create_error, now_text));
  } else if (!prev_failure.is_null() && outcome.created == 0 && replicas < d.replicas) {
    conds.push_back(prev_failure);
  }
  status["conditions"] = std::move(conds);
  return status;
}

std::optional<std::chrono::milliseconds> UntilProgressDeadline(const DeploymentFacts& d,
                                                               const Json& status, WallTime now) {
  if (d.paused) return std::nullopt;
  const Json& c = ConditionOf(status, kProgressing);
  if (StrAt(c, "status") != "True" || StrAt(c, "reason") != kPodsUpdating) return std::nullopt;
  auto since = ParseRfc3339(StrAt(c, "lastUpdateTime"));
  if (!since) return std::nullopt;
  const WallTime deadline = *since + std::chrono::seconds(d.progress_deadline_seconds);
  if (deadline <= now) return std::nullopt;
  return std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now);
}

}  // namespace lintel::controllers::deployment
