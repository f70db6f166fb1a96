// PodRunner: construction, adoption, the loop and its commands.
#include "drivers/oci/pod_runner.h"

#include <poll.h>
#include <spdlog/spdlog.h>
#include <sys/eventfd.h>

#include <algorithm>

#include "common/fs.h"
#include "drivers/oci/cgroups.h"
#include "drivers/oci/conmon.h"
#include "drivers/oci/k8s_log.h"
#include "drivers/oci/pod_status.h"

namespace lintel::drivers::oci {

std::string RunId(const std::string& pod_uid, const std::string& container, int run) {
  return pod_uid + "-" + container + "-" + std::to_string(run);
}

PodRunner::PodRunner(const RunnerEnv* env, PodPlan plan, std::string pod_dir)
    : env_(env),
      plan_(std::move(plan)),
      pod_dir_(std::move(pod_dir)),
      wake_fd_(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {
  std::lock_guard<std::mutex> l(mu_);
  status_.state = RunState::kStarting;
  for (const auto& c : plan_.containers) {
    ContainerStatus cs;
    cs.name = c.name;
    cs.image = c.image;
    cs.reason = "ContainerCreating";
    status_.containers.push_back(std::move(cs));
  }
}

PodRunner::~PodRunner() {
  if (thread_.joinable()) Detach();
}

namespace {

// Matches the record's containers to the plan's (by name, in plan order).
std::vector<ContainerRecord> AlignRecords(const PodPlan& plan, std::vector<ContainerRecord> old) {
  std::vector<ContainerRecord> out;
  for (const auto& c : plan.containers) {
    auto it = std::find_if(old.begin(), old.end(),
                           [&](const ContainerRecord& r) { return r.name == c.name; });
    if (it != old.end()) {
      out.push_back(std::move(*it));
    } else {
      ContainerRecord r;
      r.name = c.name;
      out.push_back(std::move(r));
    }
  }
  return out;
}

}  // namespace

Status PodRunner::Begin(const Json& spec) {
  if (Status s = MakeDirs(pod_dir_, 0700); !s.ok()) return s;
  auto sandbox = CreateSandbox({env_->ns_dir, pod_dir_}, plan_, env_->network);
  if (!sandbox.ok()) {
    (void)RemoveAll(pod_dir_);
    return sandbox.error();
  }
  sandbox_ = std::move(*sandbox);
  record_.uid = plan_.uid;
  record_.ns = plan_.ns;
  record_.name = plan_.name;
  record_.spec = spec;
  record_.containers = AlignRecords(plan_, {});
  if (Status s = SavePodRecord(RecordPath(), record_); !s.ok()) {
    (void)DestroySandbox({env_->ns_dir, pod_dir_}, plan_, env_->network);
    (void)RemoveAll(pod_dir_);
    return s;
  }
  for (auto& r : record_.containers) {
    Container c;
    c.plan = &plan_.containers[containers_.size()];
    c.rec = &r;
    containers_.push_back(std::move(c));
  }
  Publish();
  notify_enabled_ = true;
  thread_ = std::thread([this] { Loop(); });
  return Status();
}

Status PodRunner::Adopt(const Json& spec) {
  LINTEL_ASSIGN_OR_RETURN(record_, LoadPodRecord(RecordPath()));
  if (!spec.empty()) record_.spec = spec;
  record_.containers = AlignRecords(plan_, std::move(record_.containers));
  auto sandbox = CreateSandbox({env_->ns_dir, pod_dir_}, plan_, env_->network);
  if (sandbox.ok()) {
    sandbox_ = std::move(*sandbox);
  } else {
    failure_ = sandbox.error().message();
  }
  for (auto& r : record_.containers) {
    Container c;
    c.plan = &plan_.containers[containers_.size()];
    c.rec = &r;
    containers_.push_back(std::move(c));
  }
  for (auto& c : containers_) {
    if (c.rec->current) AdoptRun(c);
  }
  Publish();
  notify_enabled_ = true;
  thread_ = std::thread([this] { Loop(); });
  return Status();
}

void PodRunner::Wake() {
  uint64_t one = 1;
  ssize_t n = ::write(wake_fd_.get(), &one, sizeof(one));
  (void)n;
}

void PodRunner::Stop(std::chrono::milliseconds grace) {
  std::unique_lock<std::mutex> l(mu_);
  stop_requested_ = true;
  stop_grace_ = grace;
  stopped_ = false;
  l.unlock();
  Wake();
  l.lock();
  cv_.wait(l, [this] { return stopped_ || loop_ended_; });
}

void PodRunner::Detach() {
  {
    std::lock_guard<std::mutex> l(mu_);
    exit_requested_ = true;
  }
  Wake();
  if (thread_.joinable()) thread_.join();
}

Status PodRunner::Destroy() {
  {
    std::lock_guard<std::mutex> l(mu_);
    stop_requested_ = true;
    stop_grace_ = std::chrono::milliseconds(0);
    exit_requested_ = true;
    kill_on_exit_ = true;
  }
  Wake();
  if (thread_.joinable()) thread_.join();
  // Whatever is left (a run the loop could not end): force it.
  for (auto& c : containers_) {
    if (c.rec->current) CleanupRun(*c.rec->current, c.plan->name);
    c.rec->current.reset();
  }
  Status first;
  for (const auto& c : plan_.containers) RemoveCgroupTree(CgroupPath(c.name), CgroupPath(c.name));
  RemoveCgroupTree(env_->cgroup_root + "/pods/" + plan_.uid, env_->cgroup_root + "/pods");
  if (Status s = DestroySandbox({env_->ns_dir, pod_dir_}, plan_, env_->network); !s.ok()) first = s;
  for (const auto& m : MountsUnder(pod_dir_)) {
    if (Status s = DetachMount(m); !s.ok() && first.ok()) first = s;
  }
  if (Status s = RemoveAll(pod_dir_); !s.ok() && first.ok()) first = s;
  return first;
}

WorkloadStatus PodRunner::Snapshot() const {
  std::lock_guard<std::mutex> l(mu_);
  return status_;
}

std::optional<RunRecord> PodRunner::CurrentRun(const std::string& container) const {
  std::lock_guard<std::mutex> l(mu_);
  for (size_t i = 0; i < plan_.containers.size() && i < runs_.size(); ++i) {
    if (plan_.containers[i].name == container) return runs_[i];
  }
  return std::nullopt;
}

Result<PodRunner::LogTarget> PodRunner::LogFor(const std::string& container, bool previous) const {
  std::lock_guard<std::mutex> l(mu_);
  size_t i = 0;
  if (container.empty()) {
    if (plan_.containers.size() != 1) {
      return BadRequest("a container name must be specified for pod " + plan_.name +
                        ", choose one of the containers");
    }
  } else {
    while (i < plan_.containers.size() && plan_.containers[i].name != container) ++i;
    if (i == plan_.containers.size()) {
      return NotFound("container " + container + " is not valid for pod " + plan_.name);
    }
  }
  if (i >= run_counts_.size()) return NotFound("container has no log yet");
  int runs = run_counts_[i];
  LogTarget t;
  t.container = plan_.containers[i].name;
  t.run = previous ? runs - 2 : runs - 1;
  if (t.run < 0) {
    return NotFound(previous ? "previous terminated container \"" + t.container + "\" in pod \"" +
                                   plan_.name + "\" not found"
                             : "container \"" + t.container + "\" in pod \"" + plan_.name +
                                   "\" has not started yet");
  }
  t.path = RunLogPath(LogDir(t.container), t.run);
  t.active = !previous && runs_[i] && runs_[i]->run == t.run;
  return t;
}

bool PodRunner::RunActive(const std::string& container, int run) const {
  std::lock_guard<std::mutex> l(mu_);
  for (size_t i = 0; i < plan_.containers.size() && i < runs_.size(); ++i) {
    if (plan_.containers[i].name == container) return runs_[i] && runs_[i]->run == run;
  }
  return false;
}

void PodRunner::Save() {
  if (Status s = SavePodRecord(RecordPath(), record_); !s.ok()) {
    spdlog::warn("oci: pod {}/{}: save state: {}", plan_.ns, plan_.name, s.ToString());
  }
}

void PodRunner::Publish() {
  std::vector<ContainerLive> live;
  for (const auto& c : containers_) {
    ContainerLive l;
    l.running = c.running;
    l.has_readiness = c.readiness.has_value();
    l.ready = c.readiness && c.readiness->tracker.ok();
    l.started = c.started_ok;
    live.push_back(l);
  }
  WorkloadStatus st = ComputePodStatus(plan_, record_, live, env_->runtime->info().name, failure_);
  if (sandbox_.net) st.ip = sandbox_.net->ip;
  bool changed;
  {
    std::lock_guard<std::mutex> l(mu_);
    changed = !(st == status_);
    status_ = st;
    runs_.clear();
    run_counts_.clear();
    running_.clear();
    for (const auto& c : containers_) {
      runs_.push_back(c.running || c.rec->current ? c.rec->current : std::nullopt);
      run_counts_.push_back(c.rec->runs);
      running_.push_back(c.running);
    }
  }
  if (changed && env_->notify && notify_enabled_) env_->notify(plan_.uid, st);
}

Clock::MonoTime PodRunner::NextWake() const {
  Clock::MonoTime now = env_->clock->Monotonic();
  Clock::WallTime wall = env_->clock->Now();
  Clock::MonoTime next = next_housekeeping_;
  auto consider = [&](Clock::MonoTime t) { next = std::min(next, t); };
  for (const auto& c : containers_) {
    if (c.killing)
      consider(c.sent_kill ? c.kill_deadline + std::chrono::seconds(10) : c.kill_deadline);
    if (!c.running && !c.rec->done && !c.rec->current && !record_.stopping) {
      auto wait = std::chrono::duration_cast<std::chrono::nanoseconds>(c.rec->next_start - wall);
      consider(now + std::max(wait, std::chrono::nanoseconds(0)));
    }
    for (const auto* p : {&c.liveness, &c.readiness, &c.startup}) {
      if (*p && !(*p)->in_flight) consider((*p)->next);
    }
  }
  return next;
}

void PodRunner::Step() {
  bool stop, exit_now;
  std::chrono::milliseconds grace;
  {
    std::lock_guard<std::mutex> l(mu_);
    stop = stop_requested_;
    grace = stop_grace_;
    exit_now = exit_requested_ && kill_on_exit_;
  }
  if (stop && (!record_.stopping || exit_now)) {
    if (!record_.stopping) {
      record_.stopping = true;
      Save();
    }
    for (auto& c : containers_) {
      if (c.running) {
        Kill(c, "", grace);
      } else if (!c.rec->current) {
        c.rec->done = true;
      }
    }
  }
  // Runs that ended: conmon exited, or was found gone when adopted.
  for (auto& c : containers_) {
    bool ended = false;
    if (c.running) {
      if (!c.pidfd.valid()) {
        ended = true;
      } else {
        struct pollfd p = {c.pidfd.get(), POLLIN, 0};
        ended = ::poll(&p, 1, 0) > 0;
      }
    } else if (c.rec->current) {
      ended = true;
    }
    if (ended) HandleExit(c);
  }
  CheckKills();
  for (auto& c : containers_) {
    if (c.running) {
      CollectProbes(c);
      RunProbes(c);
    }
  }
  // Starts, in order: a container's first run waits for the one before it.
  if (!record_.stopping && failure_.empty()) {
    Clock::WallTime wall = env_->clock->Now();
    for (auto& c : containers_) {
      if (!c.running && !c.rec->done && !c.rec->current && wall >= c.rec->next_start) {
        StartRun(c);
      }
      if (c.rec->runs == 0 && !c.rec->done) break;
    }
  }
  Clock::MonoTime mono = env_->clock->Monotonic();
  if (mono >= next_housekeeping_) {
    RotateLogs();
    next_housekeeping_ = mono + env_->housekeeping;
  }
  if (record_.running_since == Clock::WallTime{} &&
      std::all_of(containers_.begin(), containers_.end(),
                  [](const Container& c) { return c.rec->runs > 0; })) {
    record_.running_since = env_->clock->Now();
    Save();
  }
  Publish();
  bool any_running = std::any_of(containers_.begin(), containers_.end(),
                                 [](const Container& c) { return c.running; });
  {
    std::lock_guard<std::mutex> l(mu_);
    if (stop_requested_ && !any_running) stopped_ = true;
  }
  cv_.notify_all();
}

void PodRunner::Loop() {
  for (;;) {
    Step();
    bool any_running = std::any_of(containers_.begin(), containers_.end(),
                                   [](const Container& c) { return c.running; });
    {
      std::lock_guard<std::mutex> l(mu_);
      if (exit_requested_ && (!kill_on_exit_ || !any_running)) break;
    }
    std::vector<struct pollfd> fds;
    fds.push_back({wake_fd_.get(), POLLIN, 0});
    for (const auto& c : containers_) {
      if (c.running && c.pidfd.valid()) fds.push_back({c.pidfd.get(), POLLIN, 0});
    }
    auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(NextWake() -
                                                                      env_->clock->Monotonic());
    int timeout = static_cast<int>(std::clamp<int64_t>(wait.count() + 1, 0, 60'000));
    ::poll(fds.data(), fds.size(), timeout);
    uint64_t drained;
    while (::read(wake_fd_.get(), &drained, sizeof(drained)) > 0) {
    }
  }
  for (auto& c : containers_) DropProbes(c);
  {
    std::lock_guard<std::mutex> l(mu_);
    loop_ended_ = true;
  }
  cv_.notify_all();
}

}  // namespace lintel::drivers::oci
