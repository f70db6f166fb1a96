#include "controllers/network/endpoints_controller.h"

#include <spdlog/spdlog.h>

#include "api/kind.h"
#include "common/time_format.h"
#include "controllers/network/object_fields.h"

namespace lintel::controllers::network {

namespace {

using std::chrono::milliseconds;

constexpr int kWriteAttempts = 3;
constexpr milliseconds kRetryDelay{1000};

void Keep(Json& from, Json& to, std::initializer_list<const char*> fields) {
  for (const char* f : fields) {
    auto it = from.find(f);
    if (it != from.end()) to[f] = std::move(*it);
  }
}

Json KeepMetadata(Json& obj, std::initializer_list<const char*> fields) {
  Json out = Json::object();
  if (auto m = obj.find("metadata"); m != obj.end() && m->is_object()) {
    Keep(*m, out["metadata"], fields);
  }
  return out;
}

// What of each kind the facts read, so that informers keep no more.
Json ServiceEssentials(Json&& svc) {
  if (!svc.is_object()) return std::move(svc);
  Json out =
      KeepMetadata(svc, {"name", "namespace", "uid", "resourceVersion", "deletionTimestamp"});
  if (auto s = svc.find("spec"); s != svc.end() && s->is_object()) {
    Keep(*s, out["spec"], {"selector", "ports"});
  }
  if (auto s = svc.find("status"); s != svc.end()) out["status"] = std::move(*s);
  return out;
}

Json PodEssentials(Json&& pod) {
  if (!pod.is_object()) return std::move(pod);
  Json out = KeepMetadata(pod, {"name", "namespace", "uid", "labels", "deletionTimestamp"});
  if (const Json& cs = api::At(pod, "/spec/containers"); cs.is_array()) {
    Json& containers = out["spec"]["containers"] = Json::array();
    for (const auto& c : cs) {
      const Json& ports = api::At(c, "/ports");
      if (ports.is_array()) containers.push_back({{"ports", ports}});
    }
  }
  if (auto s = pod.find("status"); s != pod.end() && s->is_object()) {
    Keep(*s, out["status"], {"podIP", "host", "phase", "conditions"});
  }
  return out;
}

Json VmEssentials(Json&& vm) {
  if (!vm.is_object()) return std::move(vm);
  Json out = KeepMetadata(vm, {"name", "namespace", "uid", "labels", "deletionTimestamp"});
  if (const Json& a = api::At(vm, "/metadata/annotations"); a.is_object()) {
    const std::string_view prefix = kPortAnnotationPrefix;
    for (auto it = a.begin(); it != a.end(); ++it) {
      if (it.key().compare(0, prefix.size(), prefix) == 0) {
        out["metadata"]["annotations"][it.key()] = *it;
      }
    }
  }
  if (auto s = vm.find("status"); s != vm.end() && s->is_object()) {
    Keep(*s, out["status"], {"ip", "host", "conditions"});
  }
  return out;
}

}  // namespace

EndpointsController::EndpointsController(std::shared_ptr<client::Client> client,
                                         EndpointsOptions options)
    : client_(std::move(client)),
      options_(options),
      services_res_{api::kGroup, api::kVersion, "services", true},
      pods_res_{api::kGroup, api::kVersion, "pods", true},
      vms_res_{api::kGroup, api::kVersion, "virtualmachines", true},
      hosts_res_{api::kGroup, api::kVersion, "hosts", false},
      queue_([this](const std::string& key) { return Process(key); }) {}

EndpointsController::~EndpointsController() { Stop(); }

Status EndpointsController::Start() {
  auto make = [this](const client::Resource& r, std::function<void(const Json&, bool)> on,
                     std::function<Json(Json &&)> transform) {
    InformerHandlers h;
    h.on_add = [on](const Json& o) { on(o, false); };
    h.on_update = [on](const Json&, const Json& o) { on(o, false); };
    h.on_delete = [on](const Json& o) { on(o, true); };
    h.transform = std::move(transform);
    h.keep_objects = false;  // the facts are kept here
    return std::make_unique<Informer>(client_, r, std::move(h));
  };
  pods_informer_ = make(
      pods_res_, [this](const Json& o, bool deleted) { OnWorkload(o, false, deleted); },
      PodEssentials);
  vms_informer_ = make(
      vms_res_, [this](const Json& o, bool deleted) { OnWorkload(o, true, deleted); },
      VmEssentials);
  services_informer_ = make(
      services_res_, [this](const Json& o, bool deleted) { OnService(o, deleted); },
      ServiceEssentials);
  hosts_informer_ = make(
      hosts_res_, [this](const Json& o, bool deleted) { OnHost(o, deleted); }, nullptr);
  hosts_informer_->Start();
  pods_informer_->Start();
  vms_informer_->Start();
  services_informer_->Start();
  for (Informer* i : {hosts_informer_.get(), pods_informer_.get(), vms_informer_.get(),
                      services_informer_.get()}) {
    if (!i->WaitForSync(std::chrono::seconds(60))) {
      return Unavailable("endpoints: hosts, services, pods or virtual machines did not sync");
    }
  }
  // Every Service is queued (on_add), with every workload known.
  queue_.Start();
  return Status();
}

void EndpointsController::Stop() {
  queue_.Stop();
  for (auto* i : {&services_informer_, &pods_informer_, &vms_informer_, &hosts_informer_}) {
    if (*i) (*i)->Stop();
  }
}

bool EndpointsController::ObserveServiceLocked(const Json& obj) {
  const std::string key = Informer::KeyOf(obj);
  const std::string& uid = Str(obj, "/metadata/uid");
  const int64_t rv = RevisionOf(obj);
  ServiceState& st = services_[key];
  if (st.uid == uid && rv <= st.rv) return false;  // our own write, or older
  st.uid = uid;
  st.rv = rv;
  st.facts = FactsOfService(obj);
  const Json& status = api::At(obj, "/status");
  st.status = status.is_object() ? status : Json::object();
  st.deleting = !api::At(obj, "/metadata/deletionTimestamp").is_null();
  services_by_ns_[st.facts.ns].insert(key);
  return true;
}

void EndpointsController::OnService(const Json& obj, bool deleted) {
  const std::string key = Informer::KeyOf(obj);
  std::lock_guard<std::mutex> l(mu_);
  if (deleted) {
    auto it = services_.find(key);
    const std::string& uid = Str(obj, "/metadata/uid");
    if (it == services_.end() || (!uid.empty() && it->second.uid != uid)) return;
    auto ns = services_by_ns_.find(it->second.facts.ns);
    if (ns != services_by_ns_.end()) {
      ns->second.erase(key);
      if (ns->second.empty()) services_by_ns_.erase(ns);
    }
    services_.erase(it);
    return;
  }
  if (ObserveServiceLocked(obj)) queue_.Add(key);
}

void EndpointsController::OnWorkload(const Json& obj, bool vm, bool deleted) {
  WorkloadFacts facts = vm ? FactsOfVm(obj) : FactsOfPod(obj);
  if (facts.name.empty()) return;
  const std::string id = facts.kind + "/" + facts.name;
  std::lock_guard<std::mutex> l(mu_);
  auto& in_ns = workloads_[facts.ns];
  auto it = in_ns.find(id);
  const WorkloadFacts* was = it == in_ns.end() ? nullptr : &it->second;
  if (!deleted && was && *was == facts) return;  // nothing endpoints read changed
  if (auto keys = services_by_ns_.find(facts.ns); keys != services_by_ns_.end()) {
    for (const auto& key : keys->second) {
      auto svc = services_.find(key);
      if (svc == services_.end()) continue;
      const ServiceFacts& f = svc->second.facts;
      if ((was && Selects(f, was->labels)) || (!deleted && Selects(f, facts.labels))) {
        queue_.Add(key);
      }
    }
  }
  if (deleted) {
    if (was) in_ns.erase(it);
    if (in_ns.empty()) workloads_.erase(facts.ns);
  } else {
    in_ns[id] = std::move(facts);
  }
}

void EndpointsController::OnHost(const Json& obj, bool deleted) {
  const std::string& name = Str(obj, "/metadata/name");
  // A deleted Host's workloads go with their own events; one without a Ready
  // condition has not said anything yet.
  bool ready = true;
  const Json& conditions = api::At(obj, "/status/conditions");
  if (!deleted && conditions.is_array()) {
    for (const auto& c : conditions) {
      if (c.is_object() && c.value("type", "") == "Ready") ready = c.value("status", "") == "True";
    }
  }
  std::lock_guard<std::mutex> l(mu_);
  const bool was_ready = hosts_not_ready_.count(name) == 0;
  if (ready == was_ready) return;
  if (ready) {
    hosts_not_ready_.erase(name);
  } else {
    hosts_not_ready_.insert(name);
  }
  for (const auto& [key, st] : services_) queue_.Add(key);
}

milliseconds EndpointsController::Process(const std::string& key) {
  for (int attempt = 0; attempt < kWriteAttempts; ++attempt) {
    ServiceFacts facts;
    Json old_status;
    int64_t rv = 0;
    std::vector<WorkloadFacts> selected;
    {
      std::lock_guard<std::mutex> l(mu_);
      auto it = services_.find(key);
      if (it == services_.end() || it->second.deleting) return milliseconds(0);
      facts = it->second.facts;
      old_status = it->second.status;
      rv = it->second.rv;
      if (auto ws = workloads_.find(facts.ns); ws != workloads_.end() && facts.has_selector) {
        for (const auto& [id, w] : ws->second) {
          if (!w.serving || !Selects(facts, w.labels)) continue;
          selected.push_back(w);
          if (hosts_not_ready_.count(w.host)) selected.back().ready = false;
        }
      }
    }
    const Json endpoints = EndpointsOf(facts, selected);
    Json status =
        EndpointsStatus(facts, endpoints, old_status, FormatRfc3339(options_.clock->Now()));
    if (!StatusDiffers(status, old_status)) return milliseconds(0);
    Json patch = {{"metadata", {{"resourceVersion", std::to_string(rv)}}},
                  {"status",
                   {{"endpoints", status["endpoints"]},
                    {"readyEndpoints", status["readyEndpoints"]},
                    {"conditions", status["conditions"]}}}};
    auto r = client_->Patch(services_res_, facts.ns, facts.name, client::PatchType::kMerge, patch,
                            {}, "status");
    if (r.ok()) {
      std::lock_guard<std::mutex> l(mu_);
      ObserveServiceLocked(ServiceEssentials(std::move(*r)));
      return milliseconds(0);
    }
    const Code code = r.error().code();
    if (code == Code::kNotFound) return milliseconds(0);
    if (code != Code::kConflict) {
      spdlog::warn("endpoints: service {}: {}", key, r.error().ToString());
      return kRetryDelay;
    }
    // Changed since seen: read it again and compute again.
    auto fresh = client_->Get(services_res_, facts.ns, facts.name);
    if (!fresh.ok()) {
      return fresh.error().code() == Code::kNotFound ? milliseconds(0) : kRetryDelay;
    }
    std::lock_guard<std::mutex> l(mu_);
    ObserveServiceLocked(ServiceEssentials(std::move(*fresh)));
  }
  return milliseconds(50);
}

}  // namespace lintel::controllers::network
