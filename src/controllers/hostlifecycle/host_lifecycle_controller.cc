#include "controllers/hostlifecycle/host_lifecycle_controller.h"

#include <spdlog/spdlog.h>

#include <vector>

#include "api/kind.h"
#include "common/time_format.h"

namespace lintel::controllers {

HostLifecycleController::HostLifecycleController(std::shared_ptr<client::Client> client,
                                                 HostLifecycleOptions options)
    : client_(std::move(client)),
      options_(options),
      hosts_{"lintel.dev", "v1alpha1", "hosts", false},
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
  informer_->Start();
  if (!informer_->WaitForSync(std::chrono::seconds(60))) {
    return Unavailable("host lifecycle: hosts did not sync");
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
      seen.heartbeat_text = c.value("lastHeartbeatTime", "");
      auto t = ParseRfc3339(seen.heartbeat_text);
      if (t) seen.heartbeat = *t;
    }
  }
  const Json& rv = api::At(obj, "/metadata/resourceVersion");
  if (rv.is_string()) seen.resource_version = rv.get<std::string>();
  hosts_seen_[name.get<std::string>()] = seen;
}

void HostLifecycleController::CheckOnce() {
  const auto now = options_.clock->Now();
  struct Stale {
    std::string name, resource_version, heartbeat;
  };
  std::vector<Stale> stale;
  {
    std::lock_guard<std::mutex> l(mu_);
    for (auto& [name, seen] : hosts_seen_) {
      if (seen.ready && now - seen.heartbeat > options_.grace) {
        stale.push_back({name, seen.resource_version, seen.heartbeat_text});
        seen.ready = false;  // the watch confirms it
      }
    }
  }
  for (const auto& [name, resource_version, heartbeat] : stale) {
    const std::string msg = "The agent has not posted a heartbeat for more than " +
                            std::to_string(options_.grace.count()) + "s.";
    Json ready = {{"type", "Ready"},
                  {"status", "Unknown"},
                  {"reason", "AgentStoppedHeartbeating"},
                  {"message", msg},
                  {"lastTransitionTime", FormatRfc3339(now)}};
    if (!heartbeat.empty()) ready["lastHeartbeatTime"] = heartbeat;
    // Only over the Host as seen: a heartbeat that landed since (and that
    // the watch has not delivered yet) wins with a Conflict.
    Json patch = {{"metadata", {{"resourceVersion", resource_version}}},
                  {"status", {{"conditions", Json::array({ready})}}}};
    auto r = client_->Patch(hosts_, "", name, client::PatchType::kMerge, patch, {}, "status");
    if (!r.ok()) {
      if (r.error().code() == Code::kConflict) {
        spdlog::debug("host lifecycle: {} changed since seen; not marking it NotReady", name);
      } else {
        spdlog::warn("host lifecycle: mark {} NotReady: {}", name, r.error().ToString());
      }
      continue;
    }
    spdlog::info("host lifecycle: host {} is NotReady: {}", name, msg);
    events_.Record(*r, "Warning", "HostNotReady", msg);
  }
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
