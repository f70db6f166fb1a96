// QemuDriver: VirtualMachines as QEMU processes driven over QMP. See
// README.md in this folder for the layout on disk and the lifecycle.
//
// One detached QEMU per VM (its own session, stderr to a file), started with
// a QMP socket, the serial console on a socket whose output QEMU also logs,
// and a pidfile that QEMU locks (so one VM never runs twice). Each VM has a
// VmRunner with a monitor thread that waits on QEMU's pidfd, reads QMP events
// (SHUTDOWN and its reason, STOP, RESUME), applies runStrategy to exits
// (Always boots again after any exit, RerunOnFailure after a failure, any
// strategy after a guest reboot), rotates the console log and tells the
// Listener. Disks are qcow2 linked clones of the VM image store's bases, in
// the VM's directory, or, with `keep`, in DATA/qemu/kept/NS/NAME/ where they
// outlive the VM and are reattached by a VM of that name declaring that disk.
//
// QEMUs outlive the agent: a restarted agent re-adopts them from the VM's
// state.json (pid, process start time, command line naming the VM) and
// reconnects to QMP.
//
// Threading: Driver methods are thread-safe and may block (Start while disks
// are cloned and QEMU answers QMP, Stop for up to its grace). The Listener is
// called on the runners' monitor threads.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>

#include "common/thread_annotations.h"
#include "drivers/driver.h"
#include "drivers/network.h"
#include "images/vm_image_store.h"

namespace lintel::drivers::qemu {

class VmRunner;

struct QemuOptions {
  std::string data_dir;                     // state under DATA/qemu: vms/<uid>/, kept/
  std::string run_dir = "/run/lintel";      // qemu/: QMP and serial sockets (short paths)
  std::string qemu = "qemu-system-x86_64";  // a name on PATH or a path
  images::VmImageStore* images = nullptr;   // required; must outlive the driver
  // The estate network: each VM gets a tap and an address from it (null: no
  // NIC). Must outlive the driver.
  WorkloadNetwork* network = nullptr;
  // auto (probe: KVM where it really works, else TCG), kvm or tcg.
  std::string accelerator = "auto";
  int64_t console_log_max_bytes = 1 << 20;
  // How long a guest may take to answer ACPI power-off before QEMU is told to
  // quit, when Stop's grace allows no less.
  std::chrono::milliseconds quit_grace{2'000};
};

class QemuDriver final : public Driver {
 public:
  // Finds QEMU, makes the directories, probes the accelerator (a canary boot
  // of the first image in the store with a kernel, when KVM looks usable).
  // NotFound when QEMU is missing.
  static Result<std::unique_ptr<QemuDriver>> Create(QemuOptions options);
  // Detaches from every VM: their QEMUs keep running for the next agent.
  ~QemuDriver() override;

  Capabilities capabilities() const override;
  void SetListener(Listener listener) override;
  Result<Handle> Start(const WorkloadSpec& spec) override;
  Status Recover(const Handle& handle, const WorkloadSpec& spec) override;
  Status Stop(const std::string& uid, std::chrono::milliseconds grace) override;
  Status Destroy(const std::string& uid) override;
  Result<WorkloadStatus> StatusOf(const std::string& uid) const override;
  Status Logs(const std::string& uid, const LogOptions& options, const LogSink& sink) override;
  Result<int> OpenConsole(const std::string& uid) override;
  Status Pause(const std::string& uid) override;
  Status Resume(const std::string& uid) override;
  Status Restart(const std::string& uid, std::chrono::milliseconds grace) override;

  // kvm or tcg, and why.
  const std::string& accelerator() const { return accelerator_; }
  const std::string& accelerator_reason() const { return accelerator_reason_; }
  // The VM's directory (DATA/qemu/vms/<uid>).
  std::string VmDir(const std::string& uid) const;
  // For tests: the QEMU process of a VM (0 when none runs) and its boots.
  int QemuPid(const std::string& uid) const;
  int Boots(const std::string& uid) const;

  // What runners share; internal.
  struct Env;

 private:
  QemuDriver(QemuOptions options, std::string qemu, std::string accel, std::string reason);
  std::shared_ptr<VmRunner> Find(const std::string& uid) const;
  void Notify(const std::string& uid, const WorkloadStatus& status);

  const QemuOptions options_;
  const std::string accelerator_, accelerator_reason_;
  std::unique_ptr<Env> env_;

  mutable std::mutex mu_;
  std::map<std::string, std::shared_ptr<VmRunner>> vms_ LINTEL_GUARDED_BY(mu_);

  std::shared_mutex listener_mu_;
  Listener listener_;
};

}  // namespace lintel::drivers::qemu
