// VmRunner: one VirtualMachine on this host, for QemuDriver. Owns the VM's
// directory, its QEMU process (spawned or adopted), its QMP connection and a
// monitor thread. See qemu_driver.h for the whole picture.
//
// Locks: op_mu_ serialises what changes the process (boot, stop, exit
// handling, pause, destroy) and guards the QMP client; mu_ guards the
// snapshot the getters read and is never held while waiting. Order: op_mu_
// before mu_.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "common/clock.h"
#include "common/thread_annotations.h"
#include "drivers/driver.h"
#include "drivers/oci/probe.h"
#include "drivers/qemu/qemu_driver.h"
#include "drivers/qemu/qmp.h"
#include "drivers/qemu/vm_plan.h"

namespace lintel::drivers::qemu {

struct QemuDriver::Env {
  std::string qemu;         // absolute path
  std::string accelerator;  // kvm or tcg
  int64_t tsc_khz = 0;
  images::VmImageStore* images = nullptr;
  std::string vms_dir, kept_dir, sock_dir;
  int64_t log_max_bytes = 1 << 20;
  std::chrono::milliseconds quit_grace{2'000};
  int64_t host_memory_bytes = 0;
  WorkloadNetwork* network = nullptr;
  std::function<void(const std::string& uid, const WorkloadStatus& status)> notify;
};

class VmRunner : public std::enable_shared_from_this<VmRunner> {
 public:
  VmRunner(const QemuDriver::Env* env, std::string dir);
  ~VmRunner();
  VmRunner(const VmRunner&) = delete;
  VmRunner& operator=(const VmRunner&) = delete;

  // A new VM: its disks and seed, then the first boot (returns once QEMU
  // answers QMP). On error nothing it made is left.
  Status Create(const WorkloadSpec& spec, const VmPlan& plan, const images::VmImage& image);
  // A VM an earlier agent started, from DIR/state.json (`spec` empty: the
  // recorded one): its QEMU adopted if it still runs, else Exited (and booted
  // again if its runStrategy says so). NotFound without a state file.
  Status Adopt(const WorkloadSpec& spec);

  Status Stop(std::chrono::milliseconds grace);
  Status Restart(std::chrono::milliseconds grace);
  Status Pause();
  Status Resume();
  // Kills QEMU, ends the monitor, removes the directory (kept disks stay).
  Status Destroy();
  // Ends the monitor and leaves QEMU running.
  void Detach();

  WorkloadStatus Snapshot() const;
  Result<int> OpenConsole();
  std::string console_log() const { return dir_ + "/console.log"; }
  // Whether QEMU runs or is about to boot again (a follow of the log goes on).
  bool Active() const;
  pid_t pid() const;
  int boots() const;
  const std::string& uid() const { return uid_; }

 private:
  struct Exit {
    bool known = false;  // reaped by us: code and signal are real
    int code = 0;
    int signal = 0;
  };

  Status Boot() LINTEL_REQUIRES(op_mu_);
  // One readiness probe when due (monitor thread, without op_mu_).
  void ProbeReadiness();
  // A new boot: not ready until the probe passes.
  void ResetReadinessLocked() LINTEL_REQUIRES(mu_);
  // Records the VM's NIC (its tap for QEMU, its address for the status).
  void SetNetwork(NetworkInterface net) LINTEL_REQUIRES(op_mu_);
  Status PrepareDisks(const images::VmImage& image, std::vector<std::string>* created)
      LINTEL_REQUIRES(op_mu_);
  Status Persist() LINTEL_REQUIRES(op_mu_);
  // Waits for the current QEMU to exit; false on timeout.
  bool WaitExit(std::chrono::milliseconds timeout) LINTEL_REQUIRES(op_mu_);
  // Reaps the exited QEMU, reads its last QMP events, records how it ended
  // and whether to boot again.
  void HandleExit() LINTEL_REQUIRES(op_mu_);
  void StopLocked(std::chrono::milliseconds grace) LINTEL_REQUIRES(op_mu_);
  void ReadEvents() LINTEL_REQUIRES(op_mu_);
  void KillAndReap() LINTEL_REQUIRES(op_mu_);
  // Hands the current status to the listener if it changed since last time.
  void Flush() LINTEL_REQUIRES(op_mu_);
  void Wake();
  void Monitor();
  void StartMonitor();
  std::string StderrTail() const;

  const QemuDriver::Env* env_;
  const std::string dir_;
  std::string uid_;

  std::mutex op_mu_;
  VmPlan plan_ LINTEL_GUARDED_BY(op_mu_);
  Json spec_ LINTEL_GUARDED_BY(op_mu_);
  BootImage image_ LINTEL_GUARDED_BY(op_mu_);
  VmPaths paths_ LINTEL_GUARDED_BY(op_mu_);
  // The VM's address on the estate network (none without a WorkloadNetwork).
  std::optional<NetworkInterface> net_ LINTEL_GUARDED_BY(op_mu_);
  // spec.readinessProbe, fixed before the monitor starts; its state per boot.
  std::optional<oci::ProbeSpec> readiness_;
  std::optional<oci::ProbeTracker> readiness_tracker_ LINTEL_GUARDED_BY(mu_);
  Clock::MonoTime next_probe_ LINTEL_GUARDED_BY(mu_){};
  QmpClient qmp_ LINTEL_GUARDED_BY(op_mu_);
  bool child_ LINTEL_GUARDED_BY(op_mu_) = false;  // spawned by this process: we reap it
  int pidfd_ LINTEL_GUARDED_BY(op_mu_) = -1;
  uint64_t start_ticks_ LINTEL_GUARDED_BY(op_mu_) = 0;
  bool stop_requested_ LINTEL_GUARDED_BY(op_mu_) = false;
  std::string shutdown_reason_ LINTEL_GUARDED_BY(op_mu_);  // from the SHUTDOWN event
  Clock::MonoTime booted_at_ LINTEL_GUARDED_BY(op_mu_){};
  int quick_failures_ LINTEL_GUARDED_BY(op_mu_) = 0;
  std::optional<Clock::MonoTime> boot_due_ LINTEL_GUARDED_BY(op_mu_);
  std::optional<WorkloadStatus> last_notified_ LINTEL_GUARDED_BY(op_mu_);
  Clock::MonoTime next_rotate_ LINTEL_GUARDED_BY(op_mu_){};

  mutable std::mutex mu_;
  WorkloadStatus status_ LINTEL_GUARDED_BY(mu_);
  pid_t pid_ LINTEL_GUARDED_BY(mu_) = 0;
  uint64_t gen_ LINTEL_GUARDED_BY(mu_) = 0;  // one per boot
  int boots_ LINTEL_GUARDED_BY(mu_) = 0;
  bool pending_boot_ LINTEL_GUARDED_BY(mu_) = false;
  bool quit_ LINTEL_GUARDED_BY(mu_) = false;
  int watch_fd_ LINTEL_GUARDED_BY(mu_) = -1;  // a dup of pidfd_ for the monitor

  std::atomic<bool> console_busy_{false};
  int wake_fd_ = -1;  // eventfd
  std::thread monitor_;
};

}  // namespace lintel::drivers::qemu
