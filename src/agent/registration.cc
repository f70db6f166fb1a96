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

// Whether `host` says Ready True (and since when): an agent that restarts
// while its host is still Ready keeps the transition time.
bool StillReady(const Json& host, Clock::WallTime* since) {
  auto status = host.find("status");
  if (status == host.end() || !status->is_object()) return false;
  auto conds = status->find("conditions");
  if (conds == status->end() || !conds->is_array()) return false;
  for (const auto& c : *conds) {
    if (!c.is_object() || c.value("type", "") != "Ready" || c.value("status", "") != "True") {
      continue;
    }
    auto trans = ParseRfc3339(c.value("lastTransitionTime", ""));
    if (!trans) return false;
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
  Json status = {
      {"capacity", config_.capacity},
      {"allocatable", config_.allocatable.is_null() ? config_.capacity : config_.allocatable},
      {"runtime", std::move(runtime)},
      {"addresses", config_.addresses},
      {"conditions", Json::array({ReadyCondition(now)})}};
  // Null when there is none: a merge patch removes one an earlier run left.
  status["agentEndpoint"] = config_.agent_endpoint;
  return status;
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

  // A host still Ready (the agent restarted) stays Ready since then;
  // otherwise it becomes Ready now.
  Clock::WallTime now = ctx_->clock->Now();
  Clock::WallTime since;
  ready_since_ = StillReady(*got, &since) ? since : now;
  auto r = c.Patch(HostsResource(), "", name(), client::PatchType::kMerge,
                   {{"status", HostStatus(now)}}, {}, "status");
  if (!r.ok()) return Retry(r.error(), what + ": status");
  if (Status s = EnsureLease(*got, now); !s.ok()) return Retry(s, what + ": lease");
  last_heartbeat_ok_ = now;
  if (!registered_.exchange(true)) {
    spdlog::debug("agent: host {} registered", name());
    if (ctx_->on_registered) ctx_->on_registered(name());
  }
  return Status();
}

Status HostAgent::EnsureLease(const Json& host, Clock::WallTime now) {
  client::Client& c = *ctx_->client;
  const std::string renew = FormatRfc3339Micro(now);
  const auto duration = std::chrono::duration_cast<std::chrono::seconds>(4 * ctx_->heartbeat);
  Json lease = {
      {"apiVersion", "lintel.dev/v1alpha1"},
      {"kind", "Lease"},
      {"metadata",
       {{"name", name()},
        {"namespace", kHostLeaseNamespace},
        {"ownerReferences", Json::array({{{"apiVersion", "lintel.dev/v1alpha1"},
                                          {"kind", "Host"},
                                          {"name", name()},
                                          {"uid", host.value("metadata", Json::object()).value("uid", "")}}})}}},
      {"spec",
       {{"holderIdentity", name()},
        {"leaseDurationSeconds", std::max<int64_t>(1, duration.count())},
        {"acquireTime", renew},
        {"renewTime", renew}}}};
  auto r = c.Create(LeasesResource(), kHostLeaseNamespace, lease);
  if (r.ok()) return Status();
  if (r.error().code() != Code::kAlreadyExists) return r.error();
  // Ours from before (or from another incarnation of the Host: the owner is
  // corrected too).
  Json patch = {{"metadata", {{"ownerReferences", lease["metadata"]["ownerReferences"]}}},
                {"spec", {{"holderIdentity", name()}, {"renewTime", renew}}}};
  auto p = c.Patch(LeasesResource(), kHostLeaseNamespace, name(), client::PatchType::kMerge,
                   patch);
  return p.ok() ? Status() : p.error();
}

}  // namespace lintel::agent
