// PodRunner: one Pod under the OCI driver. It owns one thread that starts the
// Pod's containers in order and then watches them: conmon exits (a pidfd per
// container), restart back-off deadlines, probes, Stop, log rotation. Every
// container transition is saved in state.json before it is acted on, so that
// a new agent re-adopts the Pod (Adopt) instead of starting anything twice.
//
// One container, as the runner drives it:
//
//     Waiting ──(not before next_start) resolve image ──fail──▶ Waiting
//        ▲                 │ ok                          ErrImagePull/ImagePullBackOff
//        │   mount rootfs, config.json, conmon + runtime create, runtime start
//        │                 │ ok                        │ fail: run ends, StartError (128)
//        │                 ▼                           ▼
//        │             Running ── conmon exits ──▶ run ended: exit file (code),
//        │   liveness fails: TERM, KILL after grace     oom → OOMKilled; no exit
//        │                                              file → Error "conmon died"
//        │                                                │ runtime delete, unmount
//        └── CrashLoopBackOff ◀── policy restarts it ─────┤
//                                                         ▼ otherwise
//                                                     Terminated (done)
//
// Threads: the runner's own, plus one short-lived thread per probe run (its
// result is posted back). Public methods are thread-safe; Status() never
// blocks on the runner's work.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "common/clock.h"
#include "common/thread_annotations.h"
#include "drivers/driver.h"
#include "drivers/oci/backoff.h"
#include "drivers/oci/oci_spec.h"
#include "drivers/oci/pod_plan.h"
#include "drivers/oci/pod_state.h"
#include "drivers/oci/probe.h"
#include "drivers/oci/rootfs_provider.h"
#include "drivers/oci/runtime.h"
#include "drivers/oci/sandbox.h"
#include "drivers/oci/sys_util.h"

namespace lintel::drivers::oci {

// What every runner of one driver shares (read-only once the driver is made).
struct RunnerEnv {
  Clock* clock = &Clock::Real();
  const OciRuntime* runtime = nullptr;
  std::string conmon;  // path
  RootfsProvider* rootfs = nullptr;
  HostLimits host;
  BackoffPolicy backoff;
  std::string exit_dir_name = "exits";
  std::string socket_dir;   // conmon attach links
  std::string ns_dir;       // namespace files
  std::string cgroup_root;  // "/lintel"
  int64_t log_max_bytes = 10 << 20;
  int64_t pids_limit = 4096;
  std::chrono::milliseconds create_timeout{60'000};
  std::chrono::milliseconds housekeeping{2'000};  // log size checks
  WorkloadNetwork* network = nullptr;             // null: loopback only
  // Called (on the runner's thread) after the Pod's status changed.
  std::function<void(const std::string& uid, const WorkloadStatus& status)> notify;
};

class PodRunner {
 public:
  // The Pod's directory holds state.json, containers/, logs/, etc/, volumes/.
  PodRunner(const RunnerEnv* env, PodPlan plan, std::string pod_dir);
  ~PodRunner();
  PodRunner(const PodRunner&) = delete;
  PodRunner& operator=(const PodRunner&) = delete;

  // A new Pod: makes the sandbox, saves the first state, starts the thread.
  // On error nothing is left behind.
  Status Begin(const Json& spec);
  // An existing Pod (agent restart): loads state.json, re-adopts running
  // containers (their conmon lives), notes those that ended meanwhile, and
  // starts the thread. NotFound if there is no state.
  Status Adopt(const Json& spec);

  // Stops every container (stop signal, then KILL after `grace`) and keeps
  // them from restarting; returns when none runs.
  void Stop(std::chrono::milliseconds grace);
  // Ends the thread, leaving containers to run on (driver shutdown).
  void Detach();
  // Kills what runs and removes everything the Pod holds; the thread ends.
  Status Destroy();

  WorkloadStatus Snapshot() const;
  const PodPlan& plan() const { return plan_; }
  const std::string& pod_dir() const { return pod_dir_; }

  // For Logs: the log files of a container's run (`previous`: the one before
  // the current), and whether that run may still write. NotFound if none.
  struct LogTarget {
    std::string path;
    bool active = false;
    int run = 0;
    std::string container;
  };
  Result<LogTarget> LogFor(const std::string& container, bool previous) const;
  // Whether the container's run `run` may still write to its log.
  bool RunActive(const std::string& container, int run) const;

  // Test hooks: the container's current run (pid, conmon pid, id).
  std::optional<RunRecord> CurrentRun(const std::string& container) const;

 private:
  struct ProbeRun;
  struct ProbeState {
    const ProbeSpec* spec = nullptr;
    ProbeTracker tracker{1, 1, true};
    Clock::MonoTime next{};
    std::shared_ptr<ProbeRun> in_flight;
    std::string last_failure;
  };
  struct Container {
    const ContainerPlan* plan = nullptr;
    ContainerRecord* rec = nullptr;  // in record_
    UniqueFd pidfd;                  // conmon of rec->current, while running
    bool running = false;
    bool killing = false;
    bool sent_kill = false;
    Clock::MonoTime kill_deadline{};
    std::string kill_message;  // why we killed it (liveness)
    std::string stop_signal = "TERM";
    bool started_ok = true;  // the startup probe passed (or there is none)
    std::optional<ProbeState> liveness, readiness, startup;
    Clock::MonoTime started_mono{};
  };

  // pod_runner.cc: the loop and commands
  void Loop();
  void Step();
  Clock::MonoTime NextWake() const;
  void Wake();
  void Publish();
  void Save();
  std::string RecordPath() const { return pod_dir_ + "/state.json"; }

  // container_run.cc: one run of a container
  void StartRun(Container& c);
  void FailRun(Container& c, const std::string& message, int exit_code);
  void HandleExit(Container& c);
  void EndRun(Container& c, Termination t);
  void CleanupRun(const RunRecord& run, const std::string& name);
  void Kill(Container& c, const std::string& why, std::chrono::milliseconds grace);
  void CheckKills();
  void RotateLogs();
  std::string RunDir(const std::string& name, int run) const;
  std::string LogDir(const std::string& name) const;
  std::string CgroupPath(const std::string& name) const;
  bool AdoptRun(Container& c);

  // pod_probes.cc
  void ResetProbes(Container& c);
  void RunProbes(Container& c);
  void CollectProbes(Container& c);
  void DropProbes(Container& c);

  const RunnerEnv* env_;
  const PodPlan plan_;
  const std::string pod_dir_;
  SandboxPaths sandbox_;

  // Runner thread only (set up before it starts).
  PodRecord record_;
  std::vector<Container> containers_;
  std::string failure_;  // the sandbox could not be made
  Clock::MonoTime next_housekeeping_{};
  bool notify_enabled_ = false;  // set before the thread starts
  UniqueFd wake_fd_;             // eventfd

  mutable std::mutex mu_;
  std::condition_variable cv_;
  WorkloadStatus status_ LINTEL_GUARDED_BY(mu_);
  bool stop_requested_ LINTEL_GUARDED_BY(mu_) = false;
  std::chrono::milliseconds stop_grace_ LINTEL_GUARDED_BY(mu_){0};
  bool stopped_ LINTEL_GUARDED_BY(mu_) = false;  // stop requested and nothing runs
  bool exit_requested_ LINTEL_GUARDED_BY(mu_) = false;
  bool kill_on_exit_ LINTEL_GUARDED_BY(mu_) = false;
  bool loop_ended_ LINTEL_GUARDED_BY(mu_) = false;
  // Copies for other threads (logs, tests).
  std::vector<std::optional<RunRecord>> runs_ LINTEL_GUARDED_BY(mu_);
  std::vector<int> run_counts_ LINTEL_GUARDED_BY(mu_);
  std::vector<bool> running_ LINTEL_GUARDED_BY(mu_);
  std::thread thread_;
};

// The runtime id of a container's run, unique on the host.
std::string RunId(const std::string& pod_uid, const std::string& container, int run);

}  // namespace lintel::drivers::oci
