#include "controllers/hostlifecycle/host_lifecycle_controller.h"

#include <spdlog/spdlog.h>

#include <vector>

#include "api/kind.h"
#include "common/time_format.h"

namespace lintel::controllers {

namespace {
constexpr char kStoppedHeartbeating[] = "AgentStoppedHeartbeating";
constexpr char kHostLeaseNamespace[] = "lintel-host-leases";
}  // namespace

HostLifecycleController::HostLifecycleController(std::shared_ptr<client::Client> client,
                                                 HostLifecycleOptions options)
    : client_(std::move(client)),
      options_(options),
      hosts_{"lintel.dev", "v1alpha1", "hosts", false},
      leases_{"lintel.dev", "v1alpha1", "leases", true},
      events_(client_, "lintel-host-lifecycle") {}

HostLifecycleController::~HostLifecycleController() { Stop(); }

Status HostLifecycleController::Start() {
  {
    std::lock_guard<std::mutex> l(mu_);
    stop_ = false;
  }
  InformerHandlers h;
  h.on_add = [this](const Json& o) { OnHost(o, false); };
  h.on_update = [this](const Json&, const Json& o) { OnHost(o, false); };
  h.on_delete = [this](const Json& o) { OnHost(o, true); };
  h.keep_objects = false;
  informer_ = std::make_unique<Informer>(client_, hosts_, std::move(h));
  InformerHandlers lh;
  lh.on_add = [this](const Json& o) { OnLease(o, false); };
  lh.on_update = [this](const Json&, const Json& o) { OnLease(o, false); };
  lh.on_delete = [this](const Json& o) { OnLease(o, true); };
  lh.keep_objects = false;
  client::ListOptions in_namespace;
  in_namespace.field_selector = std::string("metadata.namespace=") + kHostLeaseNamespace;
  lease_informer_ = std::make_unique<Informer>(client_, leases_, std::move(lh), in_namespace);
  lease_informer_->Start();
  informer_->Start();
  if (!lease_informer_->WaitForSync(std::chrono::seconds(60)) ||
      !informer_->WaitForSync(std::chrono::seconds(60))) {
    return Unavailable("host lifecycle: hosts or leases did not sync");
  }
  thread_ = std::thread([this] { Loop(); });
  return Status();
}

void HostLifecycleController::Stop() {
  {
    std::lock_guard<std::mutex> l(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  if (informer_) informer_->Stop();
  informer_.reset();
  if (lease_informer_) lease_informer_->Stop();
  lease_informer_.reset();
}

void HostLifecycleController::OnHost(const Json& obj, bool deleted) {
  const Json& name = api::At(obj, "/metadata/name");
  if (!name.is_string()) return;
  std::lock_guard<std::mutex> l(mu_);
  if (deleted) {
    hosts_seen_.erase(name.get<std::string>());
    return;
  }
  Seen seen;
  const Json& conds = api::At(obj, "/status/conditions");
  if (conds.is_array()) {
    for (const auto& c : conds) {
      if (!c.is_object() || c.value("type", "") != "Ready") continue;
      seen.ready = c.value("status", "") == "True";
      seen.marked_by_us = c.value("status", "") == "Unknown" &&
                          c.value("reason", "") == kStoppedHeartbeating;
      if (auto t = ParseRfc3339(c.value("lastTransitionTime", ""))) seen.transition = *t;
      seen.heartbeat_text = c.value("lastHeartbeatTime", "");
      auto t = ParseRfc3339(seen.heartbeat_text);
      if (t) seen.heartbeat = *t;
    }
  }
  const Json& rv = api::At(obj, "/metadata/resourceVersion");
  if (rv.is_string()) seen.resource_version = rv.get<std::string>();
  if (auto it = renewals_.find(name.get<std::string>()); it != renewals_.end()) {
    seen.renewed = it->second;
  }
  hosts_seen_[name.get<std::string>()] = seen;
}

void HostLifecycleController::OnLease(const Json& obj, bool deleted) {
  const Json& ns = api::At(obj, "/metadata/namespace");
  const Json& name = api::At(obj, "/metadata/name");
  if (!name.is_string() || ns != kHostLeaseNamespace) return;
  std::lock_guard<std::mutex> l(mu_);
  const std::string& host = name.get_ref<const std::string&>();
  if (deleted) {
    renewals_.erase(host);
    return;
  }
  auto t = ParseRfc3339(api::At(obj, "/spec/renewTime").is_string()
                            ? api::At(obj, "/spec/renewTime").get<std::string>()
                            : "");
  if (!t) return;
  renewals_[host] = *t;
  if (auto it = hosts_seen_.find(host); it != hosts_seen_.end()) it->second.renewed = *t;
}

std::optional<std::chrono::system_clock::time_point> HostLifecycleController::LastRenewal(
    const std::string& host) {
  std::lock_guard<std::mutex> l(mu_);
  auto it = renewals_.find(host);
  if (it == renewals_.end()) return std::nullopt;
  return it->second;
}

void HostLifecycleController::CheckOnce() {
  const auto now = options_.clock->Now();
  struct Change {
    std::string name, resource_version, heartbeat;
    bool ready = false;
  };
  std::vector<Change> changes;
  {
    std::lock_guard<std::mutex> l(mu_);
    for (auto& [name, seen] : hosts_seen_) {
      // The last sign of life: the Lease's renewal, or for an agent without
      // one the Ready condition's heartbeat.
      const auto last = std::max(seen.renewed, seen.heartbeat);
      if (seen.ready && now - last > options_.grace) {
        changes.push_back({name, seen.resource_version, seen.heartbeat_text, false});
        seen.ready = false;  // the watch confirms it
      } else if (seen.marked_by_us && seen.renewed > seen.transition &&
                 now - seen.renewed <= options_.grace) {
        changes.push_back({name, seen.resource_version, seen.heartbeat_text, true});
        seen.marked_by_us = false;
      }
    }
  }
  for (const auto& c : changes) {
    if (!c.ready && RenewedSinceSeen(c.name, now)) continue;
    MarkHost(c.name, c.resource_version, c.ready, c.heartbeat, now);
  }
}

bool HostLifecycleController::RenewedSinceSeen(const std::string& host,
                                               std::chrono::system_clock::time_point now) {
  // Under load the watch delivers renewals late (tens of seconds at 10,000
  // hosts and a flood of creates); the Host's resourceVersion no longer
  // guards that (renewals do not touch the Host), so the Lease is read
  // before a host is declared dead.
  auto lease = client_->Get(leases_, kHostLeaseNamespace, host);
  if (!lease.ok()) return false;
  const Json& renew = api::At(*lease, "/spec/renewTime");
  auto t = ParseRfc3339(renew.is_string() ? renew.get<std::string>() : "");
  if (!t || now - *t > options_.grace) return false;
  std::lock_guard<std::mutex> l(mu_);
  renewals_[host] = std::max(renewals_[host], *t);
  if (auto it = hosts_seen_.find(host); it != hosts_seen_.end()) {
    it->second.renewed = std::max(it->second.renewed, *t);
    it->second.ready = true;  // not marked after all
  }
  spdlog::debug("host lifecycle: {} renewed its lease at {}; the watch is behind",
                host, renew.get<std::string>());
  return true;
}

void HostLifecycleController::MarkHost(const std::string& name,
                                       const std::string& resource_version, bool ready,
                                       const std::string& heartbeat,
                                       std::chrono::system_clock::time_point now) {
  const std::string msg = ready ? "The agent's heartbeats resumed."
                                : "The agent has not posted a heartbeat for more than " +
                                      std::to_string(options_.grace.count()) + "s.";
  Json cond = {{"type", "Ready"},
               {"status", ready ? "True" : "Unknown"},
               {"reason", ready ? "AgentReady" : kStoppedHeartbeating},
               {"message", msg},
               {"lastTransitionTime", FormatRfc3339(now)}};
  if (!heartbeat.empty()) cond["lastHeartbeatTime"] = heartbeat;
  // Only over the Host as seen: a write that landed since (and that the
  // watch has not delivered yet) wins with a Conflict.
  Json patch = {{"metadata", {{"resourceVersion", resource_version}}},
                {"status", {{"conditions", Json::array({cond})}}}};
  auto r = client_->Patch(hosts_, "", name, client::PatchType::kMerge, patch, {}, "status");
  if (!r.ok()) {
    if (r.error().code() == Code::kConflict) {
      spdlog::debug("host lifecycle: {} changed since seen; not marking it", name);
    } else {
      spdlog::warn("host lifecycle: mark {} {}: {}", name, ready ? "Ready" : "NotReady",
                   r.error().ToString());
    }
    return;
  }
  spdlog::info("host lifecycle: host {} is {}: {}", name, ready ? "Ready" : "NotReady", msg);
  events_.Record(*r, ready ? "Normal" : "Warning", ready ? "HostReady" : "HostNotReady", msg);
}

void HostLifecycleController::Loop() {
  std::unique_lock<std::mutex> l(mu_);
  while (!stop_) {
    cv_.wait_for(l, options_.period, [this] { return stop_; });
    if (stop_) break;
    l.unlock();
    CheckOnce();
    l.lock();
  }
}

}  // namespace lintel::controllers
