// ByKindDriver: a host's drivers behind one Driver, chosen by workload kind:
// Pods go to one (oci), VirtualMachines to another (qemu). A kind with no
// driver on this host is refused at Start, so the workload fails with a
// clear reason ("no VM driver on this host") instead of waiting forever.
//
// Threading: as Driver; the uid -> driver map has its own lock, and no lock is
// held while a driver works.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "common/thread_annotations.h"
#include "drivers/driver.h"

namespace lintel::drivers {

class ByKindDriver final : public Driver {
 public:
  // Either may be null (not both).
  ByKindDriver(std::unique_ptr<Driver> pods, std::unique_ptr<Driver> vms);

  // Name, kinds and facts of both; the name is the Pod driver's when there is one.
  Capabilities capabilities() const override;
  void SetListener(Listener listener) override;
  Result<Handle> Start(const WorkloadSpec& spec) override;
  Status Recover(const Handle& handle, const WorkloadSpec& spec) override;
  Status Stop(const std::string& uid, std::chrono::milliseconds grace) override;
  Status Destroy(const std::string& uid) override;
  Result<WorkloadStatus> StatusOf(const std::string& uid) const override;
  Status Logs(const std::string& uid, const LogOptions& options, const LogSink& sink) override;
  Result<ExecSession> Exec(const std::string& uid, const ExecOptions& options) override;
  Result<int> OpenConsole(const std::string& uid) override;
  Status Pause(const std::string& uid) override;
  Status Resume(const std::string& uid) override;
  Status Restart(const std::string& uid, std::chrono::milliseconds grace) override;

  Driver* pods() const { return pods_.get(); }
  Driver* vms() const { return vms_.get(); }

 private:
  Result<Driver*> ForKind(WorkloadKind kind) const;
  Driver* ForUid(const std::string& uid) const;

  const std::unique_ptr<Driver> pods_;
  const std::unique_ptr<Driver> vms_;
  mutable std::mutex mu_;
  std::map<std::string, Driver*> by_uid_ LINTEL_GUARDED_BY(mu_);
};

}  // namespace lintel::drivers
