// PodRunner: one run of a container, from image to exit.
#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <cstdio>
#include <filesystem>

#include "common/fs.h"
#include "drivers/oci/cgroups.h"
#include "drivers/oci/conmon.h"
#include "drivers/oci/k8s_log.h"
#include "drivers/oci/pod_runner.h"
#include "drivers/oci/user.h"

namespace lintel::drivers::oci {

namespace {

using std::chrono::milliseconds;

// conmon names its attach-socket link after this; it must stay short.
std::string ShortId(const std::string& id) {
  uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : id) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  char buf[17];
  std::snprintf(buf, sizeof(buf), "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

std::optional<std::string> Optional(const Result<std::string>& r) {
  return r.ok() ? std::optional<std::string>(*r) : std::nullopt;
}

std::string Seconds(milliseconds d) {
  int64_t ms = d.count();
  if (ms % 1000 == 0) return std::to_string(ms / 1000) + "s";
  return std::to_string(ms) + "ms";
}

// Log files of runs before `keep_from` go (the previous run's stay).
void PruneLogs(const std::string& dir, int keep_from) {
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
    std::string name = e.path().filename().string();
    size_t dot = name.find(".log");
    if (dot == std::string::npos || dot == 0) continue;
    int run = std::atoi(name.substr(0, dot).c_str());
    if (run < keep_from) ::unlink(e.path().c_str());
  }
}

}  // namespace

std::string PodRunner::RunDir(const std::string& name, int run) const {
  return pod_dir_ + "/containers/" + name + "/" + std::to_string(run);
}

std::string PodRunner::LogDir(const std::string& name) const { return pod_dir_ + "/logs/" + name; }

std::string PodRunner::CgroupPath(const std::string& name) const {
  return env_->cgroup_root + "/pods/" + plan_.uid + "/" + name;
}

void PodRunner::StartRun(Container& c) {
  ContainerRecord& rec = *c.rec;
  const ContainerPlan& p = *c.plan;
  auto image = env_->rootfs->Resolve(p.image, p.pull_policy);
  if (!image.ok()) {
    ++rec.pull_failures;
    bool never = p.pull_policy == PullPolicy::kNever && image.error().code() == Code::kNotFound;
    rec.waiting_reason = never ? "ErrImageNeverPull"
                               : (rec.pull_failures == 1 ? "ErrImagePull" : "ImagePullBackOff");
    rec.waiting_message = image.error().message();
    rec.next_start = env_->clock->Now() + BackoffDelay(env_->backoff, rec.pull_failures);
    spdlog::info("oci: pod {}/{} container {}: image {}: {}", plan_.ns, plan_.name, p.name, p.image,
                 image.error().message());
    Save();
    return;
  }
  rec.pull_failures = 0;
  rec.image_id = image->id;
  c.stop_signal = image->defaults.stop_signal.empty() ? "TERM" : image->defaults.stop_signal;

  // The run's id is saved before anything exists, so a restarted agent knows
  // what to look for.
  RunRecord run;
  run.run = rec.runs;
  run.id = RunId(plan_.uid, p.name, run.run);
  run.image_id = image->id;
  rec.current = run;
  ++rec.runs;
  rec.waiting_reason = "ContainerCreating";
  rec.waiting_message.clear();
  Save();

  const std::string dir = RunDir(p.name, run.run);
  if (Status s = MakeDirs(dir, 0700); !s.ok()) return FailRun(c, s.message(), 128);
  auto rootfs = env_->rootfs->Mount(*image, dir);
  if (!rootfs.ok()) return FailRun(c, rootfs.error().message(), 128);
  UserDatabase users{Optional(ReadFileInRoot(*rootfs, "/etc/passwd")),
                     Optional(ReadFileInRoot(*rootfs, "/etc/group"))};
  auto user =
      ResolveUser(image->defaults.user, p.security.run_as_user, p.security.run_as_group, users);
  if (!user.ok()) return FailRun(c, user.error().message(), 128);
  BundleInput in;
  in.pod = &plan_;
  in.container = &p;
  in.image = image->defaults;
  in.user = *user;
  in.rootfs = *rootfs;
  in.cgroups_path = CgroupPath(p.name);
  in.sandbox = sandbox_;
  in.host = env_->host;
  in.pids_limit = env_->pids_limit;
  auto config = BuildConfig(in);
  if (!config.ok()) return FailRun(c, config.error().message(), 128);
  if (Status s = WriteFileAtomic(dir + "/config.json", config->dump(), 0600); !s.ok()) {
    return FailRun(c, s.message(), 128);
  }
  const std::string log_dir = LogDir(p.name);
  if (Status s = MakeDirs(log_dir, 0700); !s.ok()) return FailRun(c, s.message(), 128);
  PruneLogs(log_dir, run.run - 1);
  const std::string log = RunLogPath(log_dir, run.run);
  ::unlink(log.c_str());
  ::unlink(RotatedPath(log).c_str());

  ConmonRequest q;
  q.conmon = env_->conmon;
  q.runtime = env_->runtime->info().path;
  q.runtime_root = env_->runtime->root();
  q.id = run.id;
  q.name = plan_.name + "_" + p.name;
  q.cuuid = ShortId(run.id);
  q.bundle = dir;
  q.container_pidfile = dir + "/pidfile";
  q.conmon_pidfile = dir + "/conmon.pid";
  q.exit_dir = pod_dir_ + "/" + env_->exit_dir_name;
  q.log_path = log;
  q.socket_dir = env_->socket_dir;
  q.timeout = env_->create_timeout;
  if (Status s = MakeDirs(q.exit_dir, 0700); !s.ok()) return FailRun(c, s.message(), 128);
  ::unlink((q.exit_dir + "/" + run.id).c_str());
  auto started = CreateWithConmon(q);
  if (!started.ok()) return FailRun(c, started.error().message(), 128);
  rec.current->conmon_pid = started->conmon_pid;
  rec.current->pid = started->container_pid;
  Save();  // conmon now runs: a restarted agent must find it
  if (Status s = env_->runtime->Start(run.id); !s.ok()) return FailRun(c, s.message(), 128);
  rec.current->started_at = env_->clock->Now();
  c.pidfd.reset(
      PidfdOpen(started->conmon_pid));  // invalid if it already exited: handled as an exit
  c.running = true;
  c.started_mono = env_->clock->Monotonic();
  rec.waiting_reason.clear();
  ResetProbes(c);
  Save();
}

void PodRunner::FailRun(Container& c, const std::string& message, int exit_code) {
  spdlog::info("oci: pod {}/{} container {}: start failed: {}", plan_.ns, plan_.name, c.plan->name,
               message);
  Termination t;
  t.exit_code = exit_code;
  t.reason = "StartError";
  t.message = message;
  t.finished_at = env_->clock->Now();
  c.running = false;
  c.pidfd.reset();
  EndRun(c, std::move(t));
}

bool PodRunner::AdoptRun(Container& c) {
  RunRecord& run = *c.rec->current;
  bool alive = run.conmon_pid > 0 && IsConmonOf(run.conmon_pid, run.id);
  if (!alive) return false;  // the loop's first step reads its exit file
  if (run.started_at == Clock::WallTime{}) {
    // The agent died between create and start: start it now (it never ran).
    auto state = env_->runtime->State(run.id);
    if (!state.ok() || state->status != "created" || !env_->runtime->Start(run.id).ok()) {
      return false;
    }
    run.started_at = env_->clock->Now();
    Save();
  }
  c.pidfd.reset(PidfdOpen(run.conmon_pid));
  if (!c.pidfd.valid()) return false;
  c.running = true;
  auto ran =
      std::chrono::duration_cast<std::chrono::nanoseconds>(env_->clock->Now() - run.started_at);
  c.started_mono = env_->clock->Monotonic() - std::max(ran, std::chrono::nanoseconds(0));
  ResetProbes(c);
  return true;
}

void PodRunner::HandleExit(Container& c) {
  RunRecord run = *c.rec->current;
  c.pidfd.reset();
  c.running = false;
  DropProbes(c);
  const std::string exit_dir = pod_dir_ + "/" + env_->exit_dir_name;
  Termination t;
  t.started_at = run.started_at;
  t.finished_at = env_->clock->Now();
  std::optional<int> code = ReadExitFile(exit_dir, run.id);
  if (!code && run.conmon_pid > 0 && IsConmonOf(run.conmon_pid, run.id)) {
    // conmon lives but we stopped waiting (a kill that did not end it).
    ::kill(run.conmon_pid, SIGKILL);
  }
  if (code) {
    t.exit_code = *code;
    if (*code > 128 && *code < 128 + 65) t.signal = *code - 128;
  } else {
    // No exit file: conmon died (kill -9) or never ran the container.
    (void)env_->runtime->Kill(run.id, "KILL");
    t.exit_code = 137;
    t.signal = SIGKILL;
    t.reason = "Error";
    t.message = run.started_at == Clock::WallTime{} ? "conmon died before the container started"
                                                    : "conmon died";
  }
  if (t.reason.empty()) {
    bool oom = FileExists(RunDir(c.plan->name, run.run) + "/oom") ||
               OomKills(CgroupPath(c.plan->name)) > 0;
    if (t.exit_code != 0 && oom) {
      t.reason = "OOMKilled";
    } else {
      t.reason = t.exit_code == 0 ? "Completed" : "Error";
    }
  }
  if (t.message.empty()) t.message = c.kill_message;
  EndRun(c, std::move(t));
}

void PodRunner::EndRun(Container& c, Termination t) {
  ContainerRecord& rec = *c.rec;
  c.killing = false;
  c.sent_kill = false;
  c.kill_message.clear();
  c.started_ok = true;
  DropProbes(c);
  c.liveness.reset();
  c.readiness.reset();
  c.startup.reset();
  auto ran = t.started_at == Clock::WallTime{}
                 ? milliseconds(0)
                 : std::chrono::duration_cast<milliseconds>(t.finished_at - t.started_at);
  bool restart = false;
  if (!record_.stopping) {
    switch (plan_.restart_policy) {
      case RestartPolicy::kAlways:
        restart = true;
        break;
      case RestartPolicy::kOnFailure:
        restart = t.exit_code != 0;
        break;
      case RestartPolicy::kNever:
        break;
    }
  }
  spdlog::info("oci: pod {}/{} container {} run {} ended: {} (exit {}){}", plan_.ns, plan_.name,
               c.plan->name, rec.runs - 1, t.reason, t.exit_code, restart ? ", restarting" : "");
  rec.last = std::move(t);
  if (restart) {
    rec.consecutive = NextConsecutive(env_->backoff, rec.consecutive, ran);
    milliseconds delay = BackoffDelay(env_->backoff, rec.consecutive);
    rec.next_start = env_->clock->Now() + delay;
    rec.waiting_reason = "CrashLoopBackOff";
    rec.waiting_message = "back-off " + Seconds(delay) +
                          " restarting failed container=" + c.plan->name + " pod=" + plan_.name +
                          "_" + plan_.ns + "(" + plan_.uid + ")";
  } else {
    rec.done = true;
    rec.waiting_reason.clear();
    rec.waiting_message.clear();
  }
  // Reported before the teardown (runc delete alone takes ~20ms); the run
  // stays in the record until it is gone, so a crash in between redoes it.
  Save();
  Publish();
  if (rec.current) {
    CleanupRun(*rec.current, c.plan->name);
    rec.current.reset();
    Save();
  }
}

void PodRunner::CleanupRun(const RunRecord& run, const std::string& name) {
  if (Status s = env_->runtime->Delete(run.id, /*force=*/true); !s.ok()) {
    spdlog::warn("oci: pod {}/{}: {}", plan_.ns, plan_.name, s.message());
  }
  RemoveCgroupTree(CgroupPath(name), CgroupPath(name));
  const std::string dir = RunDir(name, run.run);
  if (Status s = env_->rootfs->Unmount(dir); !s.ok()) {
    spdlog::warn("oci: pod {}/{}: {}", plan_.ns, plan_.name, s.message());
  }
  for (const auto& m : MountsUnder(dir)) (void)DetachMount(m);
  (void)RemoveAll(dir);
  ::unlink((pod_dir_ + "/" + env_->exit_dir_name + "/" + run.id).c_str());
  ::unlink((env_->socket_dir + "/" + ShortId(run.id)).c_str());
}

void PodRunner::Kill(Container& c, const std::string& why, milliseconds grace) {
  if (!c.running || !c.rec->current) return;
  Clock::MonoTime now = env_->clock->Monotonic();
  if (c.killing && (c.sent_kill || c.kill_deadline <= now + grace)) return;
  const std::string& id = c.rec->current->id;
  if (!c.killing && !why.empty()) c.kill_message = why;
  c.killing = true;
  if (grace.count() <= 0) {
    (void)env_->runtime->Kill(id, "KILL");
    c.sent_kill = true;
    c.kill_deadline = now;
    return;
  }
  if (Status s = env_->runtime->Kill(id, c.stop_signal); !s.ok() && s.code() != Code::kNotFound) {
    spdlog::warn("oci: pod {}/{}: {}", plan_.ns, plan_.name, s.message());
  }
  c.kill_deadline = now + grace;
}

void PodRunner::CheckKills() {
  Clock::MonoTime now = env_->clock->Monotonic();
  for (auto& c : containers_) {
    if (!c.killing || !c.running) continue;
    if (!c.sent_kill && now >= c.kill_deadline) {
      (void)env_->runtime->Kill(c.rec->current->id, "KILL");
      c.sent_kill = true;
      c.kill_deadline = now;
    } else if (c.sent_kill && now >= c.kill_deadline + std::chrono::seconds(10)) {
      spdlog::warn("oci: pod {}/{} container {} survived SIGKILL for 10s; giving up on it",
                   plan_.ns, plan_.name, c.plan->name);
      HandleExit(c);
    }
  }
}

void PodRunner::RotateLogs() {
  for (auto& c : containers_) {
    if (!c.running || !c.rec->current) continue;
    std::string log = RunLogPath(LogDir(c.plan->name), c.rec->current->run);
    struct stat st;
    if (::stat(log.c_str(), &st) != 0 || st.st_size < env_->log_max_bytes) continue;
    if (std::rename(log.c_str(), RotatedPath(log).c_str()) != 0) continue;
    if (Status s = ReopenLog(RunDir(c.plan->name, c.rec->current->run)); !s.ok()) {
      spdlog::warn("oci: pod {}/{}: rotate log: {}", plan_.ns, plan_.name, s.message());
    }
  }
}

}  // namespace lintel::drivers::oci
