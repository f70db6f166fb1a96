// OciDriver: Pods as OCI containers, run by runc (or crun) under conmon.
// See README.md in this folder for the on-disk layout and crash safety.
//
// Each Pod gets a PodRunner (its own thread): a sandbox (network, IPC and UTS
// namespaces, generated /etc files, emptyDirs), then one bundle per container
// run (overlay rootfs from the RootfsProvider, config.json), created and
// supervised by conmon, which outlives the agent. Restart policy with
// back-off, probes, graceful stop, log rotation and re-adoption after an
// agent restart are the runner's.
//
// Threading: every Driver method is thread-safe and may block (Start while
// the sandbox is made, Stop for up to its grace, Destroy while runs are torn
// down, Logs while following). The Listener is called on runner threads.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/thread_annotations.h"
#include "drivers/driver.h"
#include "drivers/oci/backoff.h"
#include "drivers/oci/pod_runner.h"
#include "drivers/oci/rootfs_provider.h"
#include "drivers/oci/runtime.h"
#include "drivers/oci/sandbox.h"

namespace lintel::drivers::oci {

struct OciOptions {
  std::string data_dir;                 // state under DATA/oci: pods/<uid>/, runc/
  std::string run_dir = "/run/lintel";  // netns/ (namespace files), s/ (conmon links)
  std::string runtime = "auto";         // auto, runc, crun, or a path
  std::string conmon = "conmon";        // name on PATH or a path
  std::string cgroup_root = "/lintel";  // containers in ROOT/pods/<uid>/<name>
  RootfsProvider* rootfs = nullptr;     // required; must outlive the driver
  BackoffPolicy backoff;
  int64_t log_max_bytes = 10 << 20;
  int64_t pids_limit = 4096;
  std::chrono::milliseconds housekeeping{2'000};
  WorkloadNetwork* network = nullptr;  // null: loopback only; must outlive the driver
  Clock* clock = &Clock::Real();
};

class OciDriver final : public Driver {
 public:
  // Finds the runtime and conmon, reads the host's limits, makes the
  // directories. NotFound when runc/crun or conmon is missing.
  static Result<std::unique_ptr<OciDriver>> Create(OciOptions options);
  // Detaches from every Pod: their containers keep running (conmon) for the
  // next agent to re-adopt.
  ~OciDriver() override;

  Capabilities capabilities() const override;
  void SetListener(Listener listener) override;
  Result<Handle> Start(const WorkloadSpec& spec) override;
  Status Recover(const Handle& handle, const WorkloadSpec& spec) override;
  Status Stop(const std::string& uid, std::chrono::milliseconds grace) override;
  Status Destroy(const std::string& uid) override;
  Result<WorkloadStatus> StatusOf(const std::string& uid) const override;
  Status Logs(const std::string& uid, const LogOptions& options, const LogSink& sink) override;
  // exec.cc: `runtime exec` in the foreground (pipes, or a pty with a tty).
  Result<ExecSession> Exec(const std::string& uid, const ExecOptions& options) override;

  const OciRuntime& runtime() const { return *runtime_; }
  // The Pod's directory (DATA/oci/pods/<uid>).
  std::string PodDir(const std::string& uid) const;
  // For tests: a container's current run, if any.
  std::optional<RunRecord> CurrentRun(const std::string& uid, const std::string& container) const;

 private:
  OciDriver(OciOptions options, std::unique_ptr<OciRuntime> runtime, std::string conmon,
            HostLimits host);
  std::shared_ptr<PodRunner> Find(const std::string& uid) const;
  void Notify(const std::string& uid, const WorkloadStatus& status);
  // Removes the shared cgroup parents once no Pod is left.
  void ReleaseShared() LINTEL_REQUIRES(mu_);

  const OciOptions options_;
  const std::unique_ptr<OciRuntime> runtime_;
  RunnerEnv env_;

  mutable std::mutex mu_;
  std::map<std::string, std::shared_ptr<PodRunner>> pods_ LINTEL_GUARDED_BY(mu_);

  // Held shared while a listener call runs, exclusive by SetListener.
  std::shared_mutex listener_mu_;
  Listener listener_;
};

// Host facts the bundles respect: the agent's RLIMIT_NOFILE hard limit, its
// oom_score_adj, MemTotal.
HostLimits ReadHostLimits();

}  // namespace lintel::drivers::oci
