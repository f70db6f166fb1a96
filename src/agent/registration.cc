// Host registration: create the Host if missing, keep its labels, write its
// whole status. Runs on a status writer thread (key "host/NAME").
#include <spdlog/spdlog.h>

#include "agent/host_agent.h"
#include "common/time_format.h"

namespace lintel::agent {

namespace {

// Any failure to register is worth another try: a host that is not
// registered is of no use.
Status Retry(const Status& s, const std::string& what) {
  Status out = s.Wrap(what);
  out.SetRetryable();
  return out;
}

// Whether `host` says Ready True with a heartbeat younger than `within`.
bool RecentlyReady(const Json& host, Clock::WallTime now, std::chrono::milliseconds within,
                   Clock::WallTime* since) {
  auto status = host.find("status");
  if (status == host.end() || !status->is_object()) return false;
  auto conds = status->find("conditions");
  if (conds == status->end() || !conds->is_array()) return false;
  for (const auto& c : *conds) {
    if (!c.is_object() || c.value("type", "") != "Ready" || c.value("status", "") != "True") {
      continue;
    }
    auto beat = ParseRfc3339(c.value("lastHeartbeatTime", ""));
    auto trans = ParseRfc3339(c.value("lastTransitionTime", ""));
    if (!beat || !trans || now - *beat > within) return false;
    *since = *trans;
    return true;
  }
  return false;
}

}  // namespace

void HostAgent::SubmitRegistration() {
  ctx_->writer->Submit(
      "host/" + name(), [this] { return Register(); }, Priority::kHigh);
}

Json HostAgent::HostStatus(Clock::WallTime now) const {
  Json runtime = {{"accelerator", caps_.accelerator},
                  {"sandbox", caps_.sandbox},
                  {"drivers", Json::array({caps_.name})}};
  if (!config_.agent_version.empty()) runtime["agentVersion"] = config_.agent_version;
  if (!caps_.oci_runtime.empty()) runtime["ociRuntime"] = caps_.oci_runtime;
  return {{"capacity", config_.capacity},
          {"allocatable", config_.allocatable.is_null() ? config_.capacity : config_.allocatable},
          {"runtime", std::move(runtime)},
          {"addresses", config_.addresses},
          {"conditions", Json::array({ReadyCondition(now)})}};
}

Status HostAgent::Register() {
  client::Client& c = *ctx_->client;
  const std::string what = "register host " + name();
  Json labels = {{kHostnameLabel, name()}};
  for (const auto& [k, v] : config_.labels) labels[k] = v;

  // Create first: on a fresh estate that is all it takes (two writes per
  // host, which matters when 10,000 hollow hosts register at once).
  Json host = {{"apiVersion", "lintel.dev/v1alpha1"},
               {"kind", "Host"},
               {"metadata", {{"name", name()}, {"labels", labels}}},
               {"spec", Json::object()}};
  auto got = c.Create(HostsResource(), "", host);
  if (!got.ok() && got.error().code() == Code::kAlreadyExists) {
    got = c.Get(HostsResource(), "", name());
  }
  if (!got.ok()) return Retry(got.error(), what);

  // Labels: ours are added or corrected; the operator's others are left alone.
  Json missing = Json::object();
  const Json have = (*got)["metadata"].value("labels", Json::object());
  for (auto it = labels.begin(); it != labels.end(); ++it) {
    if (!have.contains(it.key()) || have[it.key()] != it.value()) missing[it.key()] = it.value();
  }
  if (!missing.empty()) {
    auto r = c.Patch(HostsResource(), "", name(), client::PatchType::kMerge,
                     {{"metadata", {{"labels", missing}}}});
    if (!r.ok()) return Retry(r.error(), what + ": labels");
  }

  // A host that was Ready moments ago (the agent restarted) stays Ready since
  // then; otherwise it becomes Ready now.
  Clock::WallTime now = ctx_->clock->Now();
  Clock::WallTime since;
  ready_since_ = RecentlyReady(*got, now, 4 * ctx_->heartbeat, &since) ? since : now;
  auto r = c.Patch(HostsResource(), "", name(), client::PatchType::kMerge,
                   {{"status", HostStatus(now)}}, {}, "status");
  if (!r.ok()) return Retry(r.error(), what + ": status");
  last_heartbeat_ok_ = now;
  if (!registered_.exchange(true)) {
    spdlog::debug("agent: host {} registered", name());
    if (ctx_->on_registered) ctx_->on_registered(name());
  }
  return Status();
}

}  // namespace lintel::agent
