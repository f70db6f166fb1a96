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

// The heartbeat renews the host's Lease: a write of a few hundred bytes that
// only the host lifecycle controller watches (a Host status write is ten
// times the size and every Host watcher, the scheduler first, would see it).
// Ready stays as registration wrote it; the host lifecycle controller turns
// it Unknown when the Lease lapses and True again when renewals resume.
Status HostAgent::Heartbeat() {
  Clock::WallTime now = ctx_->clock->Now();
  Json patch = {{"spec", {{"renewTime", FormatRfc3339Micro(now)}}}};
  auto r = ctx_->client->Patch(LeasesResource(), kHostLeaseNamespace, name(),
                               client::PatchType::kMerge, patch);
  if (r.ok()) {
    last_heartbeat_ok_ = now;
    return Status();
  }
  if (r.error().code() == Code::kNotFound) {
    // The Lease went, with its Host (deleted by an operator: the Lease is
    // owned by it), or alone: register again (runs right after this job).
    spdlog::warn("agent: the lease of host {} is gone; registering the host again", name());
    registered_ = false;
    SubmitRegistration();
    return Status();
  }
  Status s = r.error().Wrap("heartbeat of host " + name());
  s.SetRetryable();
  return s;
}

}  // namespace lintel::agent
