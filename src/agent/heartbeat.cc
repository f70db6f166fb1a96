// Heartbeats: a fresh Ready condition in the Host's status every interval,
// so that the server's host lifecycle controller keeps the host Ready. Runs
// on a status writer thread (key "host/NAME", so never beside a registration).
#include <spdlog/spdlog.h>

#include "agent/host_agent.h"
#include "common/time_format.h"

namespace lintel::agent {

Json HostAgent::ReadyCondition(Clock::WallTime now) const {
  return {{"type", "Ready"},
          {"status", "True"},
          {"reason", "AgentReady"},
          {"message", "lintel agent is posting heartbeats"},
          {"lastHeartbeatTime", FormatRfc3339(now)},
          {"lastTransitionTime", FormatRfc3339(ready_since_)}};
}

void HostAgent::SubmitHeartbeat() {
  if (!registered_) return;
  ctx_->writer->Submit(
      "host/" + name(), [this] { return Heartbeat(); }, Priority::kHigh);
}

Status HostAgent::Heartbeat() {
  Clock::WallTime now = ctx_->clock->Now();
  // Silent for longer than the server's grace (40s by default: four
  // intervals): it will have marked us NotReady, so Ready starts again now.
  if (now - last_heartbeat_ok_ > 4 * ctx_->heartbeat) ready_since_ = now;
  Json patch = {{"status", {{"conditions", Json::array({ReadyCondition(now)})}}}};
  auto r = ctx_->client->Patch(HostsResource(), "", name(), client::PatchType::kMerge, patch, {},
                               "status");
  if (r.ok()) {
    last_heartbeat_ok_ = now;
    return Status();
  }
  if (r.error().code() == Code::kNotFound) {
    // Deleted by an operator: register again (runs right after this job).
    spdlog::warn("agent: host {} was deleted; registering it again", name());
    registered_ = false;
    SubmitRegistration();
    return Status();
  }
  Status s = r.error().Wrap("heartbeat of host " + name());
  s.SetRetryable();
  return s;
}

}  // namespace lintel::agent
