#include "controllers/gc/garbage_collector.h"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace lintel::controllers {

namespace {

constexpr char kForeground[] = "foregroundDeletion";
constexpr char kOrphan[] = "orphan";

bool Has(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

}  // namespace

GcPlan PlanFor(const GraphNode& node, const std::set<std::string>& existing,
               const std::vector<std::string>& dependents) {
  GcPlan plan;
  if (node.deleting && Has(node.finalizers, kOrphan)) {
    plan.orphan_dependents = dependents;
    if (dependents.empty()) plan.remove_finalizer = kOrphan;
    return plan;
  }
  if (node.deleting && Has(node.finalizers, kForeground)) {
    plan.delete_dependents = dependents;
    if (dependents.empty()) plan.remove_finalizer = kForeground;
    return plan;
  }
  if (node.owners.empty() || node.deleting) return plan;
  for (const auto& o : node.owners) {
    if (!existing.count(o.uid)) plan.dangling_owners.push_back(o.uid);
  }
  plan.delete_object = plan.dangling_owners.size() == node.owners.size();
  if (plan.delete_object) plan.dangling_owners.clear();
  return plan;
}

GarbageCollector::GarbageCollector(std::shared_ptr<client::Client> client,
                                   const api::Registry& registry)
    : client_(std::move(client)),
      registry_(registry),
      queue_([this](const std::string& uid) { return Process(uid); }) {}

GarbageCollector::~GarbageCollector() { Stop(); }

client::Resource GarbageCollector::ResourceOf(const api::KindInfo& kind) const {
  return client::Resource{kind.group, kind.version, kind.plural, kind.namespaced};
}

Status GarbageCollector::Start() {
  for (const auto& k : registry_.kinds()) {
    const api::KindInfo* kind = &k;
    InformerHandlers h;
    h.on_add = [this, kind](const Json& o) { Upsert(kind, o); };
    h.on_update = [this, kind](const Json&, const Json& o) { Upsert(kind, o); };
    h.on_delete = [this](const Json& o) { Remove(o); };
    h.transform = IdentityOnly;  // the GC needs identity and ownership only
    h.keep_objects = false;      // and keeps its own graph (nodes_)
    informers_.push_back(std::make_unique<Informer>(client_, ResourceOf(k), std::move(h)));
    informers_.back()->Start();
  }
  for (auto& inf : informers_) {
    if (!inf->WaitForSync(std::chrono::seconds(30))) {
      return Unavailable("garbage collector: informers did not sync");
    }
  }
  // Only now is "absent from the graph" meaningful: start deciding.
  queue_.Start();
  std::lock_guard<std::mutex> l(mu_);
  started_ = true;
  for (const auto& [uid, node] : nodes_) {
    if (!node.owners.empty() || node.deleting) queue_.Add(uid);
  }
  return Status();
}

void GarbageCollector::Stop() {
  queue_.Stop();
  for (auto& inf : informers_) inf->Stop();
  informers_.clear();
}

void GarbageCollector::Upsert(const api::KindInfo* kind, const Json& obj) {
  GraphNode n;
  n.kind = kind;
  const Json& meta = obj["metadata"];
  n.ns = meta.value("namespace", "");
  n.name = meta.value("name", "");
  n.uid = meta.value("uid", "");
  n.resource_version = meta.value("resourceVersion", "");
  n.deleting = meta.contains("deletionTimestamp");
  if (meta.contains("finalizers") && meta["finalizers"].is_array()) {
    for (const auto& f : meta["finalizers"]) {
      if (f.is_string()) n.finalizers.push_back(f);
    }
  }
  if (meta.contains("ownerReferences") && meta["ownerReferences"].is_array()) {
    for (const auto& r : meta["ownerReferences"]) {
      n.owners.push_back(OwnerRef{r.value("apiVersion", ""), r.value("kind", ""),
                                  r.value("name", ""), r.value("uid", "")});
    }
  }
  if (n.uid.empty()) return;
  std::lock_guard<std::mutex> l(mu_);
  auto it = nodes_.find(n.uid);
  // Owners before and after: either may be waiting on this dependent.
  std::vector<OwnerRef> owners = n.owners;
  if (it != nodes_.end()) {
    for (const auto& o : it->second.owners) {
      dependents_[o.uid].erase(n.uid);
      owners.push_back(o);
    }
  }
  for (const auto& o : n.owners) dependents_[o.uid].insert(n.uid);
  bool interesting = !n.owners.empty() || n.deleting;
  std::string uid = n.uid;
  nodes_[uid] = std::move(n);
  if (!started_) return;
  if (interesting) queue_.Add(uid);
  // An owner whose work might now be complete.
  for (const auto& o : owners) {
    auto own = nodes_.find(o.uid);
    if (own != nodes_.end() && own->second.deleting) queue_.Add(o.uid);
  }
}

void GarbageCollector::Remove(const Json& obj) {
  std::string uid = obj["metadata"].value("uid", "");
  std::lock_guard<std::mutex> l(mu_);
  auto it = nodes_.find(uid);
  if (it == nodes_.end()) return;
  for (const auto& o : it->second.owners) {
    dependents_[o.uid].erase(uid);
    if (started_) queue_.Add(o.uid);  // an owner waiting for its dependents
  }
  nodes_.erase(it);
  auto deps = dependents_.find(uid);
  if (deps != dependents_.end() && started_) {
    for (const auto& d : deps->second) queue_.Add(d);
  }
}

std::chrono::milliseconds GarbageCollector::Process(const std::string& uid) {
  GraphNode node;
  GcPlan plan;
  {
    std::lock_guard<std::mutex> l(mu_);
    auto it = nodes_.find(uid);
    if (it == nodes_.end()) return std::chrono::milliseconds(0);
    node = it->second;
    std::set<std::string> existing;
    for (const auto& o : node.owners) {
      if (nodes_.count(o.uid)) existing.insert(o.uid);
    }
    std::vector<std::string> deps;
    if (auto d = dependents_.find(uid); d != dependents_.end()) {
      deps.assign(d->second.begin(), d->second.end());
    }
    plan = PlanFor(node, existing, deps);
  }
  Status s = Apply(node, plan);
  if (!s.ok()) {
    spdlog::warn("garbage collector: {}/{}: {}", node.ns, node.name, s.ToString());
    return std::chrono::seconds(1);
  }
  return std::chrono::milliseconds(0);
}

Result<bool> GarbageCollector::OwnerGoneLive(const GraphNode& node, const OwnerRef& ref) {
  const api::KindInfo* kind = registry_.ByKind(ref.api_version, ref.kind);
  if (!kind) return false;  // an owner kind we do not serve: never assume it is gone
  auto owner = client_->Get(ResourceOf(*kind), kind->namespaced ? node.ns : "", ref.name);
  if (!owner.ok()) {
    if (owner.error().code() == Code::kNotFound) return true;
    return owner.error();
  }
  return api::At(*owner, "/metadata/uid") != ref.uid;
}

Status GarbageCollector::Apply(const GraphNode& node, const GcPlan& plan) {
  const client::Resource res = ResourceOf(*node.kind);
  if (plan.delete_object) {
    for (const auto& o : node.owners) {
      LINTEL_ASSIGN_OR_RETURN(bool gone, OwnerGoneLive(node, o));
      if (!gone) return Status();  // the graph was behind; the owner is there
    }
    client::DeleteOptions d;
    d.precondition_uid = node.uid;
    d.propagation_policy = "Background";
    auto r = client_->Delete(res, node.ns, node.name, d);
    if (!r.ok() && r.error().code() != Code::kNotFound && r.error().code() != Code::kConflict) {
      return r.error();
    }
    spdlog::info("garbage collector: deleted {} {}/{} (owner gone)", node.kind->kind, node.ns,
                 node.name);
    return Status();
  }
  if (!plan.dangling_owners.empty()) {
    auto obj = client_->Get(res, node.ns, node.name);
    if (!obj.ok()) return obj.error().code() == Code::kNotFound ? Status() : obj.error();
    Json refs = Json::array();
    for (const auto& r : (*obj)["metadata"].value("ownerReferences", Json::array())) {
      if (!Has(plan.dangling_owners, r.value("uid", ""))) refs.push_back(r);
    }
    Json patch = {{"metadata",
                   {{"ownerReferences", refs},
                    {"resourceVersion", (*obj)["metadata"]["resourceVersion"]}}}};
    auto r = client_->Patch(res, node.ns, node.name, client::PatchType::kMerge, patch);
    if (!r.ok() && r.error().code() != Code::kNotFound) return r.error();
  }
  std::vector<GraphNode> deps;
  {
    std::lock_guard<std::mutex> l(mu_);
    for (const auto& uid : plan.delete_dependents) {
      if (auto it = nodes_.find(uid); it != nodes_.end()) deps.push_back(it->second);
    }
    for (const auto& uid : plan.orphan_dependents) {
      if (auto it = nodes_.find(uid); it != nodes_.end()) deps.push_back(it->second);
    }
  }
  for (const auto& d : deps) {
    client::Resource dres = ResourceOf(*d.kind);
    if (!plan.delete_dependents.empty()) {
      if (d.deleting) continue;
      client::DeleteOptions opts;
      opts.precondition_uid = d.uid;
      opts.propagation_policy = "Foreground";
      auto r = client_->Delete(dres, d.ns, d.name, opts);
      if (!r.ok() && r.error().code() != Code::kNotFound) return r.error();
    } else {
      auto obj = client_->Get(dres, d.ns, d.name);
      if (!obj.ok()) continue;
      Json refs = Json::array();
      for (const auto& r : (*obj)["metadata"].value("ownerReferences", Json::array())) {
        if (r.value("uid", "") != node.uid) refs.push_back(r);
      }
      Json patch = {{"metadata",
                     {{"ownerReferences", refs},
                      {"resourceVersion", (*obj)["metadata"]["resourceVersion"]}}}};
      auto r = client_->Patch(dres, d.ns, d.name, client::PatchType::kMerge, patch);
      if (!r.ok() && r.error().code() != Code::kNotFound) return r.error();
    }
  }
  if (!plan.remove_finalizer.empty()) {
    auto obj = client_->Get(res, node.ns, node.name);
    if (!obj.ok()) return obj.error().code() == Code::kNotFound ? Status() : obj.error();
    Json fins = Json::array();
    for (const auto& f : (*obj)["metadata"].value("finalizers", Json::array())) {
      if (f != plan.remove_finalizer) fins.push_back(f);
    }
    Json patch = {{"metadata",
                   {{"finalizers", fins},
                    {"resourceVersion", (*obj)["metadata"]["resourceVersion"]}}}};
    auto r = client_->Patch(res, node.ns, node.name, client::PatchType::kMerge, patch);
    if (!r.ok() && r.error().code() != Code::kNotFound) return r.error();
  }
  return Status();
}

}  // namespace lintel::controllers

