#include "controllers/scheduling/scheduling_controller.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "api/kind.h"
#include "common/time_format.h"
#include "scheduler/failover.h"
#include "scheduler/from_json.h"

namespace lintel::controllers {

namespace {

using Clock = std::chrono::steady_clock;

std::string Now() { return FormatRfc3339(std::chrono::system_clock::now()); }

const std::string& Str(const Json& obj, const char* pointer) {
  static const std::string empty;
  const Json& v = api::At(obj, pointer);
  return v.is_string() ? v.get_ref<const std::string&>() : empty;
}

// What of a Host the scheduler reads; heartbeats (lastHeartbeatTime) leave it
// unchanged, so they do not invalidate the scheduler's host index.
std::string HostFingerprint(const Json& host) {
  Json f = Json::array();
  f.push_back(api::At(host, "/metadata/labels"));
  f.push_back(api::At(host, "/spec"));
  f.push_back(api::At(host, "/status/allocatable"));
  f.push_back(api::At(host, "/status/capacity"));
  f.push_back(api::At(host, "/status/runtime"));
  const Json& conds = api::At(host, "/status/conditions");
  if (conds.is_array()) {
    for (const auto& c : conds) {
      if (c.is_object() && c.value("type", "") == "Ready") f.push_back(c.value("status", ""));
    }
  }
  return f.dump();
}

}  // namespace

SchedulingController::SchedulingController(std::shared_ptr<client::Client> client,
                                           const api::Registry& registry,
                                           SchedulingOptions options)
    : client_(std::move(client)),
      registry_(registry),
      options_(std::move(options)),
      hosts_{"lintel.dev", "v1alpha1", "hosts", false},
      pods_{"lintel.dev", "v1alpha1", "pods", true},
      vms_{"lintel.dev", "v1alpha1", "virtualmachines", true},
      events_(client_, "lintel-scheduler"),
      algorithm_(options_.algorithm) {}

SchedulingController::~SchedulingController() { Stop(); }

const client::Resource& SchedulingController::ResourceOf(Kind kind) const {
  return kind == Kind::kPod ? pods_ : vms_;
}

Status SchedulingController::Start() {
  {
    std::lock_guard<std::mutex> l(mu_);
    stop_ = false;
    next_retry_ = Clock::now() + options_.retry_interval;
    next_failover_ = options_.failover_interval.count() > 0
                         ? Clock::now() + options_.failover_interval
                         : Clock::time_point::max();
  }
  {
    std::lock_guard<std::mutex> l(jobs_mu_);
    jobs_stop_ = false;
  }
  // Hosts first, so that the first workloads find them.
  InformerHandlers hh;
  hh.on_add = [this](const Json& o) { OnHost(o, false); };
  hh.on_update = [this](const Json&, const Json& o) { OnHost(o, false); };
  hh.on_delete = [this](const Json& o) { OnHost(o, true); };
  hh.keep_objects = false;  // the snapshot is the index
  informers_.push_back(std::make_unique<Informer>(client_, hosts_, std::move(hh)));
  informers_.back()->Start();
  if (!informers_.back()->WaitForSync(std::chrono::seconds(60))) {
    return Unavailable("scheduler: hosts did not sync");
  }
  for (Kind kind : {Kind::kPod, Kind::kVm}) {
    InformerHandlers h;
    h.on_add = [this, kind](const Json& o) { OnWorkload(kind, o, false); };
    h.on_update = [this, kind](const Json&, const Json& o) { OnWorkload(kind, o, false); };
    h.on_delete = [this, kind](const Json& o) { OnWorkload(kind, o, true); };
    h.keep_objects = false;
    informers_.push_back(std::make_unique<Informer>(client_, ResourceOf(kind), std::move(h)));
    informers_.back()->Start();
  }
  for (auto& inf : informers_) {
    if (!inf->WaitForSync(std::chrono::seconds(60))) {
      return Unavailable("scheduler: informers did not sync");
    }
  }
  for (int i = 0; i < std::max(options_.binders, 1); ++i) {
    binders_.emplace_back([this] { BinderLoop(); });
  }
  loop_ = std::thread([this] { Loop(); });
  if (options_.failover_interval.count() > 0) {
    failover_loop_ = std::thread([this] { FailoverLoop(); });
  }
  return Status();
}

void SchedulingController::FailoverLoop() {
  std::unique_lock<std::mutex> l(mu_);
  while (!stop_) {
    failover_cv_.wait_until(l, next_failover_, [this] { return stop_; });
    if (stop_) break;
    if (Clock::now() < next_failover_) continue;
    l.unlock();
    CheckFailover();
    l.lock();
    next_failover_ = Clock::now() + options_.failover_interval;
  }
}

void SchedulingController::Stop() {
  {
    std::lock_guard<std::mutex> l(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  failover_cv_.notify_all();
  if (loop_.joinable()) loop_.join();
  if (failover_loop_.joinable()) failover_loop_.join();
  {
    std::lock_guard<std::mutex> l(jobs_mu_);
    jobs_stop_ = true;
  }
  jobs_cv_.notify_all();
  for (auto& t : binders_) t.join();
  binders_.clear();
  for (auto& inf : informers_) inf->Stop();
  informers_.clear();
}

SchedulingStats SchedulingController::stats() const {
  std::lock_guard<std::mutex> l(mu_);
  SchedulingStats s = stats_;
  s.pending = pending_.size();
  s.parked = parked_.size();
  return s;
}

std::optional<bool> SchedulingController::HostReady(const std::string& name) const {
  std::lock_guard<std::mutex> l(mu_);
  std::optional<scheduler::HostId> id = snapshot_.FindHost(name);
  if (!id) return std::nullopt;
  return snapshot_.host(*id).ready;
}

void SchedulingController::OnHost(const Json& obj, bool deleted) {
  const std::string& name = Str(obj, "/metadata/name");
  if (name.empty()) return;
  std::string fp = deleted ? std::string("deleted") : HostFingerprint(obj);
  {
    // Heartbeats change nothing the scheduler reads: skip them before parsing
    // (10,000 hosts beat about 1,000 times a second). Host events come from
    // one informer thread, so nothing changes the entry between here and below.
    std::lock_guard<std::mutex> l(mu_);
    auto prev = host_fingerprints_.find(name);
    if (prev != host_fingerprints_.end() && prev->second == fp) return;
  }
  scheduler::HostInfo info;
  if (deleted) {
    // Keep what is placed there in the books; nothing new goes there.
    info.name = name;
    info.ready = false;
    info.unschedulable = true;
  } else {
    auto parsed = scheduler::HostFromJson(obj);
    if (!parsed.ok()) {
      spdlog::warn("scheduler: host {}: {}", name, parsed.error().ToString());
      info.name = name;
      info.ready = false;
    } else {
      info = std::move(*parsed);
    }
  }
  std::lock_guard<std::mutex> l(mu_);
  if (deleted) failover_written_.erase(name);
  auto id = snapshot_.FindHost(name);
  Status s = id ? snapshot_.UpdateHost(*id, std::move(info))
                : snapshot_.AddHost(std::move(info)).status();
  if (!s.ok()) {
    spdlog::warn("scheduler: host {}: {}", name, s.ToString());
    return;
  }
  host_fingerprints_[name] = std::move(fp);
  WakeParkedLocked();
}

void SchedulingController::OnWorkload(Kind kind, const Json& obj, bool deleted) {
  const Json& meta = api::At(obj, "/metadata");
  const std::string uid = meta.value("uid", "");
  if (uid.empty()) return;
  const std::string& phase = Str(obj, "/status/phase");
  const bool gone = deleted || meta.contains("deletionTimestamp") ||
                    (kind == Kind::kPod && (phase == "Succeeded" || phase == "Failed"));
  const std::string& host = Str(obj, "/status/host");

  std::unique_lock<std::mutex> l(mu_);
  if (gone) {
    pending_.erase(uid);
    parked_.erase(uid);
    if (snapshot_.Find(uid) != nullptr) {
      (void)snapshot_.Forget(uid);
      WakeParkedLocked();
    }
    return;
  }
  if (!host.empty()) {
    pending_.erase(uid);
    parked_.erase(uid);
    const scheduler::Placement* p = snapshot_.Find(uid);
    if (p != nullptr && snapshot_.host(p->host).name == host) return;
    auto info = scheduler::WorkloadFromJson(obj);
    if (!info.ok()) {
      spdlog::warn("scheduler: {}/{}: {}", meta.value("namespace", ""), meta.value("name", ""),
                   info.error().ToString());
      return;
    }
    if (p != nullptr) (void)snapshot_.Forget(uid);
    auto hid = snapshot_.FindHost(host);
    if (!hid) {
      // Bound to a host not (yet) registered: keep the books, place nothing new there.
      scheduler::HostInfo placeholder;
      placeholder.name = host;
      placeholder.ready = false;
      auto added = snapshot_.AddHost(std::move(placeholder));
      if (!added.ok()) return;
      hid = *added;
    }
    (void)snapshot_.Assume(std::move(*info), *hid);
    return;
  }
  // Unbound.
  if (inflight_.count(uid) || snapshot_.Find(uid) != nullptr) return;  // our decision
  const std::string rv = meta.value("resourceVersion", "");
  const int64_t generation = meta.value("generation", int64_t{0});
  auto parked = parked_.find(uid);
  if (parked != parked_.end()) {
    parked->second.rv = rv;
    if (parked->second.generation == generation) return;  // our own condition write
    parked_.erase(parked);
  }
  auto info = scheduler::WorkloadFromJson(obj);
  if (!info.ok()) {
    spdlog::warn("scheduler: {}/{}: {}", meta.value("namespace", ""), meta.value("name", ""),
                 info.error().ToString());
    return;
  }
  auto [it, inserted] = pending_.try_emplace(uid);
  it->second.kind = kind;
  it->second.info = std::make_shared<const scheduler::WorkloadInfo>(std::move(*info));
  it->second.rv = rv;
  it->second.generation = generation;
  if (inserted) {
    order_.push_back(uid);
    l.unlock();
    cv_.notify_one();
  }
}

void SchedulingController::WakeParkedLocked() {
  if (parked_.empty()) return;
  for (auto& [uid, p] : parked_) {
    if (pending_.try_emplace(uid, std::move(p)).second) order_.push_back(uid);
  }
  parked_.clear();
  cv_.notify_one();
}

void SchedulingController::Loop() {
  std::unique_lock<std::mutex> l(mu_);
  while (!stop_) {
    cv_.wait_until(l, next_retry_, [this] { return stop_ || !order_.empty(); });
    if (stop_) break;
    const auto now = Clock::now();
    if (now >= next_retry_) {
      WakeParkedLocked();
      next_retry_ = now + options_.retry_interval;
    }
    std::vector<scheduler::WorkloadInfo> batch;
    std::vector<Pending> taken;
    while (!order_.empty() && batch.size() < options_.batch) {
      std::string uid = std::move(order_.front());
      order_.pop_front();
      auto it = pending_.find(uid);
      if (it == pending_.end()) continue;
      batch.push_back(*it->second.info);
      taken.push_back(std::move(it->second));
      pending_.erase(it);
    }
    if (batch.empty()) continue;
    std::vector<scheduler::Decision> decisions = Decide(batch);
    stats_.decisions += decisions.size();
    std::vector<BindJob> jobs;
    jobs.reserve(decisions.size());
    for (size_t i = 0; i < decisions.size(); ++i) {
      scheduler::Decision& d = decisions[i];
      Pending& p = taken[i];
      const scheduler::WorkloadInfo& w = *p.info;
      BindJob job;
      job.kind = p.kind;
      job.uid = w.uid;
      job.ns = w.ns;
      job.name = w.name;
      job.rv = p.rv;
      job.object_ref = {{"apiVersion", "lintel.dev/v1alpha1"},
                        {"kind", p.kind == Kind::kPod ? "Pod" : "VirtualMachine"},
                        {"metadata", {{"name", w.name}, {"namespace", w.ns}, {"uid", w.uid}}}};
      if (d.scheduled()) {
        if (d.message == "already placed") continue;
        inflight_.insert(w.uid);
        job.host = std::move(d.host);
        job.victims = std::move(d.victims);
        job.message = std::move(d.message);
        jobs.push_back(std::move(job));
        continue;
      }
      ++stats_.unschedulable;
      const bool changed = d.message != p.last_message;
      p.last_message = d.message;
      parked_[w.uid] = std::move(p);
      if (changed) {
        job.unschedulable = true;
        job.message = std::move(d.message);
        jobs.push_back(std::move(job));
      }
    }
    l.unlock();
    {
      std::lock_guard<std::mutex> jl(jobs_mu_);
      for (auto& j : jobs) jobs_.push_back(std::move(j));
    }
    jobs_cv_.notify_all();
    l.lock();
  }
}

std::vector<scheduler::Decision> SchedulingController::Decide(
    const std::vector<scheduler::WorkloadInfo>& batch) {
  if (options_.reserve_host_failures <= 0) return algorithm_.ScheduleBatch(snapshot_, batch);
  // HA admission: Pods in one batch, then each VM only if the reserve holds
  // with it placed (and with everything decided before it).
  std::vector<scheduler::WorkloadInfo> pods;
  std::vector<size_t> pod_index, vm_index;
  for (size_t i = 0; i < batch.size(); ++i) {
    if (batch[i].kind == scheduler::WorkloadKind::kVirtualMachine) {
      vm_index.push_back(i);
    } else {
      pod_index.push_back(i);
      pods.push_back(batch[i]);
    }
  }
  std::vector<scheduler::Decision> out(batch.size());
  std::vector<scheduler::Decision> pod_decisions = algorithm_.ScheduleBatch(snapshot_, pods);
  for (size_t j = 0; j < pod_decisions.size(); ++j) out[pod_index[j]] = std::move(pod_decisions[j]);
  for (size_t i : vm_index) {
    const scheduler::WorkloadInfo& w = batch[i];
    scheduler::ReserveResult r = scheduler::ReserveForFailures(
        snapshot_, w, options_.reserve_host_failures, options_.algorithm);
    if (r.ok || r.host.empty()) {
      // Admitted, or it fits nowhere anyway: the scheduler says why.
      out[i] = std::move(algorithm_.ScheduleBatch(snapshot_, std::span(&w, 1)).front());
      continue;
    }
    out[i].uid = w.uid;
    out[i].key = w.ns + "/" + w.name;
    out[i].message = "HA admission: placing it would leave no room to restart the VMs of " +
                     std::to_string(options_.reserve_host_failures) + " failed host(s) (" +
                     r.message + ").";
  }
  return out;
}

void SchedulingController::BinderLoop() {
  for (;;) {
    BindJob job;
    {
      std::unique_lock<std::mutex> l(jobs_mu_);
      jobs_cv_.wait(l, [this] { return jobs_stop_ || !jobs_.empty(); });
      if (jobs_.empty()) return;  // stopping, and nothing left
      job = std::move(jobs_.front());
      jobs_.pop_front();
    }
    RunJob(job);
  }
}

void SchedulingController::RunJob(BindJob& job) {
  if (job.unschedulable) {
    WriteUnschedulable(job);
  } else {
    Bind(job);
  }
}

void SchedulingController::Bind(BindJob& job) {
  for (const auto& v : job.victims) {
    auto slash = v.key.find('/');
    std::string vns = v.key.substr(0, slash);
    std::string vname = slash == std::string::npos ? v.key : v.key.substr(slash + 1);
    const client::Resource& res =
        v.kind == scheduler::WorkloadKind::kPod ? pods_ : vms_;
    auto deleted = client_->Delete(res, vns, vname);
    if (!deleted.ok() && deleted.error().code() != Code::kNotFound) {
      spdlog::warn("scheduler: preempt {} for {}/{}: {}", v.key, job.ns, job.name,
                   deleted.error().ToString());
      Requeue(job);
      return;
    }
    if (deleted.ok()) {
      events_.Record(*deleted, "Warning", "Preempted",
                     "Preempted by " + job.ns + "/" + job.name + " on host " + job.host);
      std::lock_guard<std::mutex> l(mu_);
      ++stats_.preempted;
    }
  }
  Json status = {{"host", job.host},
                 {"conditions",
                  Json::array({{{"type", "Scheduled"},
                                {"status", "True"},
                                {"reason", "Scheduled"},
                                {"lastTransitionTime", Now()}}})}};
  if (job.kind == Kind::kVm) status["phase"] = "Scheduled";
  Json patch = {{"metadata", {{"resourceVersion", job.rv}}}, {"status", std::move(status)}};
  auto r = client_->Patch(ResourceOf(job.kind), job.ns, job.name, client::PatchType::kMerge,
                          patch, {}, "status");
  if (r.ok()) {
    std::lock_guard<std::mutex> l(mu_);
    inflight_.erase(job.uid);
    ++stats_.bound;
    return;
  }
  if (r.error().code() == Code::kConflict) {
    std::lock_guard<std::mutex> l(mu_);
    ++stats_.conflicts;
  } else if (r.error().code() != Code::kNotFound) {
    spdlog::warn("scheduler: bind {}/{} to {}: {}", job.ns, job.name, job.host,
                 r.error().ToString());
  }
  Requeue(job);
}

void SchedulingController::Requeue(const BindJob& job) {
  auto fresh = client_->Get(ResourceOf(job.kind), job.ns, job.name);
  std::lock_guard<std::mutex> l(mu_);
  inflight_.erase(job.uid);
  const scheduler::Placement* p = snapshot_.Find(job.uid);
  if (!fresh.ok() || Str(*fresh, "/metadata/uid") != job.uid) {
    // Gone (or replaced by another object of the same name): drop our assumption.
    if (p != nullptr && snapshot_.host(p->host).name == job.host) (void)snapshot_.Forget(job.uid);
    return;
  }
  if (!Str(*fresh, "/status/host").empty()) return;  // bound by someone else: the watch has it
  if (p != nullptr) (void)snapshot_.Forget(job.uid);
  auto info = scheduler::WorkloadFromJson(*fresh);
  if (!info.ok()) return;
  auto [it, inserted] = pending_.try_emplace(job.uid);
  it->second.kind = job.kind;
  it->second.info = std::make_shared<const scheduler::WorkloadInfo>(std::move(*info));
  it->second.rv = Str(*fresh, "/metadata/resourceVersion");
  it->second.generation = api::At(*fresh, "/metadata/generation").is_number_integer()
                              ? api::At(*fresh, "/metadata/generation").get<int64_t>()
                              : 0;
  if (inserted) order_.push_back(job.uid);
  cv_.notify_one();
}

void SchedulingController::WriteUnschedulable(BindJob& job) {
  Json patch = {{"status",
                 {{"phase", "Pending"},
                  {"conditions", Json::array({{{"type", "Scheduled"},
                                               {"status", "False"},
                                               {"reason", "Unschedulable"},
                                               {"message", job.message},
                                               {"lastTransitionTime", Now()}}})}}}};
  auto r = client_->Patch(ResourceOf(job.kind), job.ns, job.name, client::PatchType::kMerge,
                          patch, {}, "status");
  if (!r.ok() && r.error().code() != Code::kNotFound) {
    spdlog::warn("scheduler: status of {}/{}: {}", job.ns, job.name, r.error().ToString());
  }
  events_.Record(r.ok() ? *r : job.object_ref, "Warning", "FailedScheduling", job.message);
}

void SchedulingController::CheckFailover() {
  // On its own thread and a copy, so that scheduling goes on meanwhile; a
  // bounded number of hosts per round, rotating, and at most about a second
  // of work (each check replays the host's VMs on a copy of the snapshot: at
  // a million workloads one check takes tens of milliseconds).
  constexpr size_t kHostsPerRound = 200;
  constexpr auto kBudget = std::chrono::seconds(1);
  const auto t0 = Clock::now();
  scheduler::Snapshot copy;
  {
    std::lock_guard<std::mutex> l(mu_);
    copy = snapshot_;
  }
  std::vector<scheduler::HostId> with_vms;
  for (scheduler::HostId id = 0; id < copy.host_count(); ++id) {
    if (copy.vm_used(id).vms > 0) with_vms.push_back(id);
  }
  if (with_vms.empty()) return;
  const size_t start = failover_cursor_ % with_vms.size();
  const size_t n = std::min(kHostsPerRound, with_vms.size());
  for (size_t k = 0; k < n; ++k) {
    {
      std::lock_guard<std::mutex> l(mu_);
      if (stop_) return;
    }
    if (Clock::now() - t0 > kBudget) break;
    failover_cursor_ = start + k + 1;
    scheduler::HostId id = with_vms[(start + k) % with_vms.size()];
    const std::string name = copy.host(id).name;
    scheduler::FailoverResult fr = scheduler::CanFailover(copy, id, options_.algorithm);
    {
      std::lock_guard<std::mutex> l(mu_);
      auto& written = failover_written_[name];
      if (written == fr.message) continue;
      written = fr.message;
    }
    Json unplaced = Json::array();
    for (const auto& u : fr.unplaced) unplaced.push_back(u);
    Json patch = {{"status",
                   {{"failover",
                     {{"vmsCanRestart", fr.ok},
                      {"vms", static_cast<int64_t>(copy.vm_used(id).vms)},
                      {"unplaced", std::move(unplaced)},
                      {"message", fr.message},
                      {"checkedAt", Now()}}}}}};
    auto r = client_->Patch(hosts_, "", name, client::PatchType::kMerge, patch, {}, "status");
    if (!r.ok()) {
      spdlog::debug("scheduler: failover status of host {}: {}", name, r.error().ToString());
      std::lock_guard<std::mutex> l(mu_);
      failover_written_.erase(name);
    }
  }
}

}  // namespace lintel::controllers
