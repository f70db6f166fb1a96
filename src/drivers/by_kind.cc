#include "drivers/by_kind.h"

namespace lintel::drivers {

ByKindDriver::ByKindDriver(std::unique_ptr<Driver> pods, std::unique_ptr<Driver> vms)
    : pods_(std::move(pods)), vms_(std::move(vms)) {}

Capabilities ByKindDriver::capabilities() const {
  Capabilities c = pods_ ? pods_->capabilities() : vms_->capabilities();
  if (pods_ && vms_) {
    Capabilities v = vms_->capabilities();
    c.vms = v.vms;
    c.accelerator = v.accelerator;
    c.migrate = v.migrate;
    c.console = c.console || v.console;
    c.outlives_agent = c.outlives_agent || v.outlives_agent;
  } else if (!vms_) {
    c.vms = false;
    c.accelerator = "none";
    c.migrate = false;
  }
  return c;
}

void ByKindDriver::SetListener(Listener listener) {
  if (pods_) pods_->SetListener(listener);
  if (vms_) vms_->SetListener(listener);
}

Result<Driver*> ByKindDriver::ForKind(WorkloadKind kind) const {
  if (kind == WorkloadKind::kPod) {
    if (!pods_) return NotSupported("no Pod driver on this host");
    return pods_.get();
  }
  if (!vms_) return NotSupported("no VM driver on this host");
  return vms_.get();
}

Driver* ByKindDriver::ForUid(const std::string& uid) const {
  std::lock_guard<std::mutex> l(mu_);
  auto it = by_uid_.find(uid);
  return it == by_uid_.end() ? nullptr : it->second;
}

Result<Handle> ByKindDriver::Start(const WorkloadSpec& spec) {
  LINTEL_ASSIGN_OR_RETURN(Driver * d, ForKind(spec.kind));
  auto h = d->Start(spec);
  if (h.ok() || h.error().code() == Code::kAlreadyExists) {
    std::lock_guard<std::mutex> l(mu_);
    by_uid_[spec.uid] = d;
  }
  return h;
}

Status ByKindDriver::Recover(const Handle& handle, const WorkloadSpec& spec) {
  auto d = ForKind(spec.kind);
  if (!d.ok()) return NotFound(d.error().message());  // nothing of that kind runs here
  Status s = (*d)->Recover(handle, spec);
  if (s.ok()) {
    std::lock_guard<std::mutex> l(mu_);
    by_uid_[handle.uid] = *d;
  }
  return s;
}

Status ByKindDriver::Stop(const std::string& uid, std::chrono::milliseconds grace) {
  Driver* d = ForUid(uid);
  if (!d) return NotFound("workload " + uid + " is not known here");
  return d->Stop(uid, grace);
}

Status ByKindDriver::Destroy(const std::string& uid) {
  Driver* d = ForUid(uid);
  if (!d) return NotFound("workload " + uid + " is not known here");
  Status s = d->Destroy(uid);
  if (s.ok() || s.code() == Code::kNotFound) {
    std::lock_guard<std::mutex> l(mu_);
    by_uid_.erase(uid);
  }
  return s;
}

Result<WorkloadStatus> ByKindDriver::StatusOf(const std::string& uid) const {
  Driver* d = ForUid(uid);
  if (!d) return NotFound("workload " + uid + " is not known here");
  return d->StatusOf(uid);
}

Status ByKindDriver::Logs(const std::string& uid, const LogOptions& options, const LogSink& sink) {
  Driver* d = ForUid(uid);
  if (!d) return NotFound("workload " + uid + " is not known here");
  return d->Logs(uid, options, sink);
}

Result<ExecSession> ByKindDriver::Exec(const std::string& uid, const ExecOptions& options) {
  Driver* d = ForUid(uid);
  if (!d) return NotFound("workload " + uid + " is not known here");
  return d->Exec(uid, options);
}

Result<int> ByKindDriver::OpenConsole(const std::string& uid) {
  Driver* d = ForUid(uid);
  if (!d) return NotFound("workload " + uid + " is not known here");
  return d->OpenConsole(uid);
}

Status ByKindDriver::Pause(const std::string& uid) {
  Driver* d = ForUid(uid);
  if (!d) return NotFound("workload " + uid + " is not known here");
  return d->Pause(uid);
}

Status ByKindDriver::Resume(const std::string& uid) {
  Driver* d = ForUid(uid);
  if (!d) return NotFound("workload " + uid + " is not known here");
  return d->Resume(uid);
}

Status ByKindDriver::Restart(const std::string& uid, std::chrono::milliseconds grace) {
  Driver* d = ForUid(uid);
  if (!d) return NotFound("workload " + uid + " is not known here");
  return d->Restart(uid, grace);
}

}  // namespace lintel::drivers
