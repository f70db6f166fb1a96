#include "agent/agent.h"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace lintel::agent {

namespace {

std::string HostOf(const Json& obj) {
  auto st = obj.find("status");
  if (st == obj.end() || !st->is_object()) return "";
  auto h = st->find("host");
  return h != st->end() && h->is_string() ? h->get<std::string>() : "";
}

}  // namespace

Agent::Agent(std::shared_ptr<client::Client> client, AgentOptions options)
    : client_(std::move(client)),
      options_(options),
      writer_(options.writers),
      driver_pool_("driver pool", options.driver_threads,
                   [this](const std::string& key) { return ReconcileKey(key); }) {
  ctx_.client = client_.get();
  ctx_.writer = &writer_;
  ctx_.clock = options_.clock;
  ctx_.heartbeat = options_.heartbeat;
  ctx_.reconcile = [this](const std::string& host, const std::string& uid,
                          std::chrono::milliseconds delay) {
    std::string key = host + "/" + uid;
    if (delay > std::chrono::milliseconds(0)) {
      driver_pool_.AddAfter(key, delay);
    } else {
      driver_pool_.Add(key);
    }
  };
  ctx_.on_registered = [this](const std::string&) { cv_.notify_all(); };
  if (options_.events) {
    events_ = std::make_unique<controllers::EventRecorder>(client_, "lintel-agent");
    ctx_.events = events_.get();
  }
}

Agent::~Agent() {
  Stop();
  hosts_.clear();  // detaches from the drivers before the pools go
}

HostAgent* Agent::AddHost(HostConfig config, std::unique_ptr<drivers::Driver> driver,
                          std::unique_ptr<HandleStore> handles) {
  auto h =
      std::make_unique<HostAgent>(std::move(config), std::move(driver), std::move(handles), &ctx_);
  HostAgent* raw = h.get();
  by_name_[raw->name()] = raw;
  hosts_.push_back(std::move(h));
  return raw;
}

HostAgent* Agent::host(const std::string& name) const {
  auto it = by_name_.find(name);
  return it == by_name_.end() ? nullptr : it->second;
}

Status Agent::Logs(const std::string& uid, const drivers::LogOptions& options,
                   const drivers::LogSink& sink) {
  HostAgent* h = nullptr;
  {
    std::lock_guard<std::mutex> l(placed_mu_);
    if (auto it = placed_.find(uid); it != placed_.end()) h = it->second.host;
  }
  if (!h && hosts_.size() == 1) h = hosts_.front().get();
  if (!h) return NotFound("workload " + uid + " is not on this agent's hosts");
  return h->driver().Logs(uid, options, sink);
}

Result<drivers::ExecSession> Agent::Exec(const std::string& uid,
                                         const drivers::ExecOptions& options) {
  HostAgent* h = HostOfUid(uid);
  if (!h) return NotFound("workload " + uid + " is not on this agent's hosts");
  return h->driver().Exec(uid, options);
}

Result<int> Agent::OpenConsole(const std::string& uid) {
  HostAgent* h = HostOfUid(uid);
  if (!h) return NotFound("workload " + uid + " is not on this agent's hosts");
  return h->driver().OpenConsole(uid);
}

HostAgent* Agent::HostOfUid(const std::string& uid) {
  HostAgent* h = nullptr;
  {
    std::lock_guard<std::mutex> l(placed_mu_);
    if (auto it = placed_.find(uid); it != placed_.end()) h = it->second.host;
  }
  if (!h && hosts_.size() == 1) h = hosts_.front().get();
  return h;
}

Status Agent::Start() {
  if (hosts_.empty()) return BadRequest("agent: no hosts");
  if (started_) return Status();
  started_ = true;
  writer_.Start();
  driver_pool_.Start();
  for (auto& h : hosts_) h->SubmitRegistration();

  // One host: the server's index finds its workloads. Many: one watch for
  // all bound workloads, routed here by host name.
  client::ListOptions sel;
  sel.field_selector =
      hosts_.size() == 1 ? "status.host=" + hosts_.front()->name() : "status.host!=";
  auto watch = [&](drivers::WorkloadKind kind) {
    WatchHandlers h;
    h.on_upsert = [this, kind](Json&& obj) { RouteUpsert(kind, std::move(obj)); };
    h.on_delete = [this](Json&& obj) { RouteDelete(std::move(obj)); };
    h.on_listed = [this, kind](const std::unordered_set<std::string>& uids) {
      RouteListed(kind, uids);
    };
    auto w = std::make_unique<ResourceWatch>(client_.get(), ResourceOf(kind), sel, std::move(h));
    w->Start();
    return w;
  };
  pods_ = watch(drivers::WorkloadKind::kPod);
  vms_ = watch(drivers::WorkloadKind::kVirtualMachine);
  // The first beats are due an interval from now (registration wrote one).
  auto start = options_.clock->Monotonic();
  heartbeat_thread_ = std::thread([this, start] { HeartbeatLoop(start); });
  return Status();
}

void Agent::Stop() {
  {
    std::lock_guard<std::mutex> l(mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  cv_.notify_all();
  if (pods_) pods_->Stop();
  if (vms_) vms_->Stop();
  if (heartbeat_thread_.joinable()) heartbeat_thread_.join();
  driver_pool_.Stop();
  writer_.Stop();
}

bool Agent::WaitRegistered(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  std::unique_lock<std::mutex> l(mu_);
  // Registrations notify without the lock, so re-check now and then.
  while (registered() != hosts_.size()) {
    if (stopping_ || std::chrono::steady_clock::now() >= deadline) return false;
    cv_.wait_for(l, std::chrono::milliseconds(20));
  }
  return true;
}

bool Agent::WaitSynced(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (ResourceWatch* w : {pods_.get(), vms_.get()}) {
    if (!w) return false;
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (!w->WaitForSync(std::max(left, std::chrono::milliseconds(0)))) return false;
  }
  return true;
}

size_t Agent::registered() const {
  size_t n = 0;
  for (const auto& h : hosts_) n += h->registered() ? 1 : 0;
  return n;
}

AgentStats Agent::stats() const {
  AgentStats s;
  s.hosts = hosts_.size();
  s.registered = registered();
  for (const auto& h : hosts_) {
    s.workloads += h->workloads();
    HostCounters c = h->counters();
    s.totals.starts += c.starts;
    s.totals.recovers += c.recovers;
    s.totals.start_failures += c.start_failures;
    s.totals.stops += c.stops;
    s.totals.reports += c.reports;
  }
  s.writer = writer_.stats();
  return s;
}

void Agent::RouteUpsert(drivers::WorkloadKind kind, Json&& obj) {
  std::string uid = UidOf(obj);
  if (uid.empty()) return;
  HostAgent* to = host(HostOf(obj));
  HostAgent* from = nullptr;
  {
    std::lock_guard<std::mutex> l(placed_mu_);
    auto it = placed_.find(uid);
    if (it != placed_.end()) from = it->second.host;
    if (to) {
      placed_[uid] = Placement{to, kind};
    } else if (it != placed_.end()) {
      placed_.erase(it);
    }
  }
  if (from && from != to) from->OnWorkloadGone(uid);
  if (to) to->OnWorkload(kind, obj);
}

void Agent::RouteDelete(Json&& obj) {
  std::string uid = UidOf(obj);
  HostAgent* from = nullptr;
  {
    std::lock_guard<std::mutex> l(placed_mu_);
    auto it = placed_.find(uid);
    if (it == placed_.end()) return;
    from = it->second.host;
    placed_.erase(it);
  }
  from->OnWorkloadGone(uid);
}

void Agent::RouteListed(drivers::WorkloadKind kind, const std::unordered_set<std::string>& uids) {
  std::vector<std::pair<std::string, HostAgent*>> gone;
  bool reap = false;
  std::unordered_set<std::string> listed;
  {
    std::lock_guard<std::mutex> l(placed_mu_);
    if (!reaped_) {
      first_listed_.insert(uids.begin(), uids.end());
      kinds_listed_ |= 1 << static_cast<int>(kind);
      if (kinds_listed_ == 3) {  // Pods and VMs
        reaped_ = reap = true;
        listed.swap(first_listed_);
      }
    }
    for (auto it = placed_.begin(); it != placed_.end();) {
      if (it->second.kind == kind && !uids.count(it->first)) {
        gone.emplace_back(it->first, it->second.host);
        it = placed_.erase(it);
      } else {
        ++it;
      }
    }
  }
  for (auto& [uid, h] : gone) h->OnWorkloadGone(uid);
  if (reap) {
    for (auto& h : hosts_) h->ReapOrphans(listed);
  }
}

std::chrono::milliseconds Agent::ReconcileKey(const std::string& key) {
  size_t slash = key.find('/');
  if (slash == std::string::npos) return std::chrono::milliseconds(0);
  HostAgent* h = host(key.substr(0, slash));
  if (!h) return std::chrono::milliseconds(0);
  return h->Reconcile(key.substr(slash + 1));
}

void Agent::HeartbeatLoop(Clock::MonoTime start) {
  // Host i beats at offset interval*i/N within each interval, so that N hosts
  // make a steady N/interval writes a second rather than bursts. The first
  // beat comes within the first interval after registration: the last host
  // would otherwise be silent for almost two intervals, and the server's grace
  // may be just that.
  const auto interval = options_.heartbeat;
  const int64_t n = static_cast<int64_t>(hosts_.size());
  const auto tick =
      std::clamp(interval / 20, std::chrono::milliseconds(5), std::chrono::milliseconds(100));
  std::vector<Clock::MonoTime> due(hosts_.size());
  for (int64_t i = 0; i < n; ++i) due[i] = start + interval * (i + 1) / n;
  std::unique_lock<std::mutex> l(mu_);
  while (!stopping_) {
    cv_.wait_for(l, tick, [this] { return stopping_; });
    if (stopping_) break;
    l.unlock();
    auto now = options_.clock->Monotonic();
    for (size_t i = 0; i < due.size(); ++i) {
      if (due[i] > now) continue;
      hosts_[i]->SubmitHeartbeat();
      due[i] += interval;
      if (due[i] <= now) due[i] = now + interval;  // fell behind (or the clock jumped)
    }
    l.lock();
  }
}

}  // namespace lintel::agent
