#include "controllers/deployment/deployment_controller.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "api/kind.h"

namespace lintel::controllers::deployment {

namespace {

using std::chrono::milliseconds;
using SteadyClock = std::chrono::steady_clock;

constexpr char kFieldManager[] = "deployment-controller";
constexpr milliseconds kMaxRetryDelay{std::chrono::minutes(5)};

const std::string& Str(const Json& obj, const char* pointer) {
  static const std::string empty;
  const Json& v = api::At(obj, pointer);
  return v.is_string() ? v.get_ref<const std::string&>() : empty;
}

Json WithoutManagedFields(Json&& obj) {
  auto meta = obj.find("metadata");
  if (meta != obj.end() && meta->is_object()) meta->erase("managedFields");
  return std::move(obj);
}

void Keep(Json& from, Json& to, std::initializer_list<const char*> fields) {
  for (const char* f : fields) {
    auto it = from.find(f);
    if (it != from.end()) to[f] = std::move(*it);
  }
}

// What of a Pod the index reads (IndexedPodOf), so that the informer hands on
// no more than that.
Json PodEssentials(Json&& pod) {
  if (!pod.is_object()) return std::move(pod);
  Json out = Json::object();
  if (auto m = pod.find("metadata"); m != pod.end() && m->is_object()) {
    Keep(*m, out["metadata"], {"name", "namespace", "uid", "labels", "ownerReferences",
                               "creationTimestamp", "deletionTimestamp"});
  }
  if (auto s = pod.find("status"); s != pod.end() && s->is_object()) {
    Keep(*s, out["status"], {"phase", "host", "conditions"});
  }
  return out;
}

// The sooner of two waits, where zero means "no wait".
milliseconds Sooner(milliseconds a, milliseconds b) {
  if (a.count() <= 0) return b;
  if (b.count() <= 0) return a;
  return std::min(a, b);
}

}  // namespace

DeploymentController::DeploymentController(std::shared_ptr<client::Client> client,
                                           DeploymentOptions options)
    : client_(std::move(client)),
      options_(options),
      deployments_res_{api::kGroup, api::kVersion, "deployments", true},
      pods_res_{api::kGroup, api::kVersion, "pods", true},
      events_(client_, kFieldManager),
      queue_([this](const std::string& key) { return Process(key); }),
      expectations_(options_.expectations_ttl) {}

DeploymentController::~DeploymentController() { Stop(); }

Status DeploymentController::Start() {
  InformerHandlers ph;
  ph.on_add = [this](const Json& o) { OnPod(o, false); };
  ph.on_update = [this](const Json&, const Json& o) { OnPod(o, false); };
  ph.on_delete = [this](const Json& o) { OnPod(o, true); };
  ph.transform = PodEssentials;
  ph.keep_objects = false;  // the index (pods_) keeps the facts
  pods_informer_ = std::make_unique<Informer>(client_, pods_res_, std::move(ph));
  InformerHandlers dh;
  dh.on_add = [this](const Json& o) { OnDeployment(o, false); };
  dh.on_update = [this](const Json&, const Json& o) { OnDeployment(o, false); };
  dh.on_delete = [this](const Json& o) { OnDeployment(o, true); };
  dh.transform = WithoutManagedFields;
  deployments_ = std::make_unique<Informer>(client_, deployments_res_, std::move(dh));
  pods_informer_->Start();
  deployments_->Start();
  if (!pods_informer_->WaitForSync(std::chrono::seconds(60)) ||
      !deployments_->WaitForSync(std::chrono::seconds(60))) {
    return Unavailable("deployment controller: informers did not sync");
  }
  // Every Deployment is queued by now (on_add): plan them with all Pods known.
  queue_.Start();
  return Status();
}

void DeploymentController::Stop() {
  queue_.Stop();
  if (deployments_) deployments_->Stop();
  if (pods_informer_) pods_informer_->Stop();
}

void DeploymentController::OnDeployment(const Json& obj, bool deleted) {
  const std::string key = Informer::KeyOf(obj);
  const std::string& uid = Str(obj, "/metadata/uid");
  {
    std::lock_guard<std::mutex> l(mu_);
    auto it = owners_.find(key);
    if (it != owners_.end() && (deleted || it->second.uid != uid)) {
      key_by_uid_.erase(it->second.uid);
      owners_by_ns_[it->second.ns].erase(key);
      owners_.erase(it);
    }
    if (deleted) {
      expectations_.Forget(key);
      backoff_.erase(key);
      retries_.erase(key);
    } else {
      Owner o;
      o.key = key;
      o.ns = Str(obj, "/metadata/namespace");
      o.uid = uid;
      auto selector = apimachinery::LabelSelector::FromJson(api::At(obj, "/spec/selector"));
      o.selector = selector.ok() ? *selector : apimachinery::LabelSelector::Nothing();
      key_by_uid_[uid] = key;
      owners_by_ns_[o.ns].insert(key);
      owners_[key] = std::move(o);
    }
  }
  queue_.Add(key);
}

void DeploymentController::OnPod(const Json& obj, bool deleted) {
  IndexedPod pod = deleted ? IndexedPod{} : IndexedPodOf(obj);
  const std::string uid = deleted ? Str(obj, "/metadata/uid") : pod.facts.uid;
  if (uid.empty()) return;
  std::lock_guard<std::mutex> l(mu_);
  auto it = pods_.find(uid);
  std::string met;  // an owner whose expectations this event met
  if (deleted) {
    met = expectations_.ObservedDelete(uid);
    if (it != pods_.end()) {
      QueueOwnersLocked(it->second);
      UnindexLocked(it->second);
      pods_.erase(it);
    }
  } else {
    if (it != pods_.end() && it->second == pod) return;  // nothing planning reads changed
    if (it == pods_.end()) met = expectations_.ObservedCreate(uid);
    if (pod.facts.deleting) {
      std::string m = expectations_.ObservedDelete(uid);
      if (!m.empty()) met = std::move(m);
    }
    if (it != pods_.end()) {
      QueueOwnersLocked(it->second);  // an owner it leaves
      UnindexLocked(it->second);
    }
    if (pod.controller_uid.empty()) {
      orphans_[pod.ns].insert(uid);
    } else {
      by_owner_[pod.controller_uid].insert(uid);
    }
    IndexedPod& stored = pods_[uid];
    stored = std::move(pod);
    QueueOwnersLocked(stored);
  }
  if (!met.empty()) queue_.Add(met);
}

void DeploymentController::UnindexLocked(const IndexedPod& pod) {
  auto& index = pod.controller_uid.empty() ? orphans_ : by_owner_;
  auto set = index.find(pod.controller_uid.empty() ? pod.ns : pod.controller_uid);
  if (set == index.end()) return;
  set->second.erase(pod.facts.uid);
  if (set->second.empty()) index.erase(set);
}

void DeploymentController::QueueOwnersLocked(const IndexedPod& pod) {
  if (!pod.controller_uid.empty()) {
    auto key = key_by_uid_.find(pod.controller_uid);
    if (key != key_by_uid_.end()) queue_.Add(key->second);
    return;
  }
  if (!IsActive(pod.facts)) return;  // never adopted
  // An orphan: the Deployments of its namespace that select it may adopt it.
  auto keys = owners_by_ns_.find(pod.ns);
  if (keys == owners_by_ns_.end()) return;
  for (const auto& key : keys->second) {
    auto o = owners_.find(key);
    if (o != owners_.end() && o->second.selector.Matches(pod.labels)) queue_.Add(key);
  }
}

milliseconds DeploymentController::RetryDelay(const std::string& key, bool failed) {
  std::lock_guard<std::mutex> l(mu_);
  if (!failed) {
    retries_.erase(key);
    return milliseconds(0);
  }
  int& n = retries_[key];
  n = std::min(n + 1, 20);
  return std::min<milliseconds>(milliseconds(500) * (int64_t{1} << (n - 1)), kMaxRetryDelay);
}

Status DeploymentController::SetControllerRef(const std::string& ns, const std::string& name,
                                              const std::string& pod_uid, const Json& deployment,
                                              const apimachinery::LabelSelector* adopt_for) {
  auto pod = client_->Get(pods_res_, ns, name);
  if (!pod.ok()) return pod.error();
  if (Str(*pod, "/metadata/uid") != pod_uid) return NotFound("pod " + name + " was replaced");
  const std::string& owner_uid = Str(deployment, "/metadata/uid");
  Json refs = Json::array();
  const Json& current = api::At(*pod, "/metadata/ownerReferences");
  if (current.is_array()) {
    for (const auto& r : current) {
      if (adopt_for != nullptr && r.value("controller", false)) {
        return Conflict("pod " + name + " has a controller already");
      }
      if (adopt_for == nullptr && r.value("uid", "") == owner_uid) continue;
      refs.push_back(r);
    }
  }
  if (adopt_for != nullptr) {
    if (!adopt_for->Matches(api::At(*pod, "/metadata/labels"))) {
      return Conflict("pod " + name + " no longer matches");
    }
    refs.push_back(ControllerRef(deployment));
  }
  Json patch = {{"metadata",
                 {{"ownerReferences", std::move(refs)},
                  {"resourceVersion", Str(*pod, "/metadata/resourceVersion")}}}};
  client::WriteOptions opts;
  opts.field_manager = kFieldManager;
  auto r = client_->Patch(pods_res_, ns, name, client::PatchType::kMerge, patch, opts);
  return r.ok() ? Status() : r.error();
}

Result<bool> DeploymentController::ClaimPods(const Json& deployment, const std::string& key) {
  const std::string& uid = Str(deployment, "/metadata/uid");
  const std::string& ns = Str(deployment, "/metadata/namespace");
  std::vector<PodRef> adopt, release;
  apimachinery::LabelSelector selector;
  {
    std::lock_guard<std::mutex> l(mu_);
    auto o = owners_.find(key);
    if (o == owners_.end() || o->second.uid != uid) return false;
    selector = o->second.selector;
    if (auto orphans = orphans_.find(ns); orphans != orphans_.end()) {
      for (const auto& pod_uid : orphans->second) {
        const IndexedPod& p = pods_.at(pod_uid);
        if (IsActive(p.facts) && selector.Matches(p.labels)) adopt.push_back({p.facts.name, pod_uid});
      }
    }
    if (auto owned = by_owner_.find(uid); owned != by_owner_.end()) {
      for (const auto& pod_uid : owned->second) {
        const IndexedPod& p = pods_.at(pod_uid);
        if (IsActive(p.facts) && !selector.Matches(p.labels)) {
          release.push_back({p.facts.name, pod_uid});
        }
      }
    }
  }
  Status failed;
  auto check = [&](const Status& s, const PodRef& ref, const char* what) {
    if (s.ok() || s.code() == Code::kNotFound || s.code() == Code::kConflict) return;
    spdlog::warn("deployment {}: {} pod {}: {}", key, what, ref.name, s.ToString());
    failed = s;
  };
  for (const auto& ref : adopt) {
    check(SetControllerRef(ns, ref.name, ref.uid, deployment, &selector), ref, "adopt");
  }
  for (const auto& ref : release) {
    check(SetControllerRef(ns, ref.name, ref.uid, deployment, nullptr), ref, "release");
  }
  if (!failed.ok()) return failed;
  return !adopt.empty() || !release.empty();
}

Result<bool> DeploymentController::SyncRevision(Json* deployment, DeploymentFacts* facts) {
  if (facts->revision > 0 && RevisionHashOf(*deployment) == facts->hash) return false;
  const int64_t next = facts->revision + 1;
  // With the resourceVersion we read: a template changed meanwhile is a
  // Conflict, not a revision for the wrong hash.
  Json patch = {{"metadata",
                 {{"resourceVersion", Str(*deployment, "/metadata/resourceVersion")},
                  {"annotations",
                   {{kRevisionAnnotation, std::to_string(next)},
                    {kRevisionHashAnnotation, facts->hash}}}}}};
  client::WriteOptions opts;
  opts.field_manager = kFieldManager;
  auto r = client_->Patch(deployments_res_, Str(*deployment, "/metadata/namespace"),
                          Str(*deployment, "/metadata/name"), client::PatchType::kMerge, patch,
                          opts);
  if (!r.ok()) return r.error();
  *deployment = WithoutManagedFields(std::move(*r));
  facts->revision = next;
  return true;
}

DeploymentController::Applied DeploymentController::Apply(const std::string& key,
                                                          const Json& deployment,
                                                          const DeploymentFacts& facts,
                                                          const std::vector<PodFacts>& pods,
                                                          const Plan& plan) {
  Applied a;
  const std::string& ns = Str(deployment, "/metadata/namespace");
  for (const PodRef& ref : plan.deletes) {
    client::DeleteOptions opts;
    opts.precondition_uid = ref.uid;
    auto r = client_->Delete(pods_res_, ns, ref.name, opts);
    if (!r.ok() && r.error().code() != Code::kNotFound && r.error().code() != Code::kConflict) {
      spdlog::warn("deployment {}: delete pod {}: {}", key, ref.name, r.error().ToString());
      a.failed = true;
      return a;  // creates wait: the plan counted on these deletes
    }
    if (r.ok()) {
      std::lock_guard<std::mutex> l(mu_);
      auto it = pods_.find(ref.uid);
      if (it != pods_.end() && !it->second.facts.deleting) {
        expectations_.ExpectDelete(key, ref.uid, SteadyClock::now());
      }
    }
    auto p = std::find_if(pods.begin(), pods.end(),
                          [&](const PodFacts& f) { return f.uid == ref.uid; });
    if (p == pods.end() || !IsActive(*p)) continue;
    ++(p->hash == facts.hash ? a.deleted_new : a.deleted_old);
  }
  client::WriteOptions opts;
  opts.field_manager = kFieldManager;
  for (int64_t i = 0; i < plan.creates; ++i) {
    auto r = client_->Create(pods_res_, ns, PodFromTemplate(deployment, facts.hash, facts.revision),
                             opts);
    if (!r.ok()) {
      // Stop at the first failure: the rest would fail alike (quota, validation).
      a.outcome.create_error = r.error().message();
      a.failed = true;
      events_.Record(deployment, "Warning", "FailedCreate",
                     "Error creating: " + r.error().message());
      break;
    }
    const std::string& uid = Str(*r, "/metadata/uid");
    std::lock_guard<std::mutex> l(mu_);
    if (!pods_.count(uid)) expectations_.ExpectCreate(key, uid, SteadyClock::now());
    ++a.outcome.created;
  }
  return a;
}

void DeploymentController::RecordEvents(const Json& deployment, const DeploymentFacts& facts,
                                        const std::vector<PodFacts>& pods, const Plan& plan,
                                        const Applied& applied) {
  int64_t n_new = 0, n_old = 0;
  for (const auto& p : pods) {
    if (IsActive(p)) ++(p.hash == facts.hash ? n_new : n_old);
  }
  const int64_t new_after = n_new + applied.outcome.created - applied.deleted_new;
  const std::string revision = "revision " + std::to_string(facts.revision) + " ";
  if (applied.outcome.created > 0) {
    events_.Record(deployment, "Normal", "ScalingUp",
                   "Scaled up " + (n_old == 0 ? "" : revision) + "to " +
                       std::to_string(new_after));
  }
  if (applied.deleted_new > 0) {
    events_.Record(deployment, "Normal", "ScalingDown",
                   "Scaled down " + (n_old == 0 ? "" : revision) + "to " +
                       std::to_string(new_after));
  }
  if (applied.deleted_old > 0) {
    events_.Record(deployment, "Normal", "ScalingDown",
                   "Scaled down old revisions to " + std::to_string(n_old - applied.deleted_old));
  }
  if (plan.ended.empty()) return;
  bool any_failed = false;
  for (const auto& p : pods) {
    for (const auto& e : plan.ended) any_failed = any_failed || (p.uid == e.uid && p.failed);
  }
  const std::string message =
      plan.ended.size() == 1
          ? "Pod " + plan.ended[0].name + " ended (" + (any_failed ? "Failed" : "Succeeded") +
                "); replacing it"
          : std::to_string(plan.ended.size()) + " Pods ended; replacing them";
  events_.Record(deployment, any_failed ? "Warning" : "Normal", "PodEnded", message);
}

milliseconds DeploymentController::Process(const std::string& key) {
  std::optional<Json> got = deployments_->Get(key);
  if (!got) {
    std::lock_guard<std::mutex> l(mu_);
    expectations_.Forget(key);
    backoff_.erase(key);
    retries_.erase(key);
    return milliseconds(0);
  }
  Json deployment = std::move(*got);
  // Being deleted: the garbage collector takes its Pods.
  if (!api::At(deployment, "/metadata/deletionTimestamp").is_null()) return milliseconds(0);
  auto facts = DeploymentFactsOf(deployment);
  if (!facts.ok()) {
    spdlog::warn("deployment {}: {}", key, facts.error().ToString());
    return milliseconds(0);
  }
  {
    std::lock_guard<std::mutex> l(mu_);
    const auto now = SteadyClock::now();
    // Our own writes are not all seen yet; the events that meet them queue us.
    if (!expectations_.Satisfied(key, now)) return expectations_.UntilExpiry(key, now);
  }
  auto claimed = ClaimPods(deployment, key);
  if (!claimed.ok()) return RetryDelay(key, true);
  if (*claimed) return milliseconds(0);  // the Pods' updates queue us again
  auto revised = SyncRevision(&deployment, &*facts);
  if (!revised.ok()) {
    if (revised.error().code() == Code::kConflict) return milliseconds(0);  // an update comes
    spdlog::warn("deployment {}: revision: {}", key, revised.error().ToString());
    return RetryDelay(key, true);
  }

  std::vector<PodFacts> pods;
  {
    std::lock_guard<std::mutex> l(mu_);
    if (auto owned = by_owner_.find(Str(deployment, "/metadata/uid")); owned != by_owner_.end()) {
      pods.reserve(owned->second.size());
      for (const auto& uid : owned->second) pods.push_back(pods_.at(uid).facts);
    }
    if (auto b = backoff_.find(key); b != backoff_.end()) facts->backoff = b->second;
  }
  const WallTime now = options_.clock->Now();
  const Plan plan = PlanSync(*facts, pods, now);
  Applied applied = Apply(key, deployment, *facts, pods, plan);
  applied.outcome.new_revision = *revised;
  RecordEvents(deployment, *facts, pods, plan, applied);
  if (plan.failed_fast > 0) {
    {
      std::lock_guard<std::mutex> l(mu_);
      backoff_[key] = plan.backoff;
    }
    if (plan.backoff.until > now) {
      const auto wait = std::chrono::duration_cast<std::chrono::seconds>(plan.backoff.until - now);
      events_.Record(deployment, "Warning", "BackOff",
                     "Pods keep ending soon after they start: back-off " +
                         std::to_string(wait.count()) + "s before replacing them");
    }
  }

  const Json& old_status = api::At(deployment, "/status");
  Json status = ComputeStatus(*facts, pods, old_status, applied.outcome, now);
  bool failed = applied.failed;
  if (status != old_status) {
    auto r = client_->Patch(deployments_res_, Str(deployment, "/metadata/namespace"),
                            facts->name, client::PatchType::kMerge, {{"status", status}}, {},
                            "status");
    if (!r.ok() && r.error().code() != Code::kNotFound) {
      spdlog::warn("deployment {}: status: {}", key, r.error().ToString());
      failed = true;
    }
  }
  milliseconds again = plan.requeue_after;
  if (auto left = UntilProgressDeadline(*facts, status, now)) {
    again = Sooner(again, *left + milliseconds(10));
  }
  return Sooner(again, RetryDelay(key, failed));
}

}  // namespace lintel::controllers::deployment
