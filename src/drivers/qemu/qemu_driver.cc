#include "drivers/qemu/qemu_driver.h"

#include <spdlog/spdlog.h>

#include "common/fs.h"
#include "drivers/oci/oci_driver.h"
#include "drivers/oci/runtime.h"
#include "drivers/qemu/accel.h"
#include "drivers/qemu/console_log.h"
#include "drivers/qemu/vm_runner.h"

namespace lintel::drivers::qemu {

namespace {

constexpr char kDriverName[] = "qemu";

bool BadUid(const std::string& uid) {
  return uid.empty() || uid.size() > 64 || uid.find('/') != std::string::npos || uid[0] == '.';
}

}  // namespace

Result<std::unique_ptr<QemuDriver>> QemuDriver::Create(QemuOptions options) {
  if (!options.images) return BadRequest("qemu driver: no VM image store");
  if (options.data_dir.empty()) return BadRequest("qemu driver: no data directory");
  auto qemu = oci::FindExecutable(options.qemu);
  if (!qemu.ok()) return NotFound("qemu driver: " + options.qemu + " is not installed");
  const std::string root = options.data_dir + "/qemu";
  for (const std::string& dir : {root + "/vms", root + "/kept", options.run_dir + "/qemu"}) {
    LINTEL_RETURN_IF_ERROR(MakeDirs(dir, 0700));
  }
  AccelProbe probe;
  if (options.accelerator == "kvm" || options.accelerator == "tcg") {
    probe = {options.accelerator, "set by the agent's options"};
  } else if (options.accelerator == "auto") {
    CanaryKernel canary;
    if (auto list = options.images->List(); list.ok()) {
      for (const auto& img : *list) {
        if (!img.kernel.empty()) {
          canary = {img.kernel, img.initrd};
          break;
        }
      }
    }
    probe = ProbeAccelerator(*qemu, canary, root);
  } else {
    return BadRequest("qemu driver: accelerator must be auto, kvm or tcg, not \"" +
                      options.accelerator + "\"");
  }
  spdlog::info("qemu: {} ({}), accelerator {}: {}", options.qemu, *qemu, probe.accelerator,
               probe.reason);
  return std::unique_ptr<QemuDriver>(
      new QemuDriver(std::move(options), *qemu, probe.accelerator, probe.reason));
}

QemuDriver::QemuDriver(QemuOptions options, std::string qemu, std::string accel, std::string reason)
    : options_(std::move(options)),
      accelerator_(std::move(accel)),
      accelerator_reason_(std::move(reason)),
      env_(std::make_unique<Env>()) {
  env_->qemu = std::move(qemu);
  env_->accelerator = accelerator_;
  env_->tsc_khz = HostTscKhz();
  env_->images = options_.images;
  env_->network = options_.network;
  env_->vms_dir = options_.data_dir + "/qemu/vms";
  env_->kept_dir = options_.data_dir + "/qemu/kept";
  env_->sock_dir = options_.run_dir + "/qemu";
  env_->log_max_bytes = options_.console_log_max_bytes;
  env_->quit_grace = options_.quit_grace;
  env_->host_memory_bytes = oci::ReadHostLimits().memory_bytes;
  env_->notify = [this](const std::string& uid, const WorkloadStatus& st) { Notify(uid, st); };
}

QemuDriver::~QemuDriver() {
  std::map<std::string, std::shared_ptr<VmRunner>> vms;
  {
    std::lock_guard<std::mutex> l(mu_);
    vms.swap(vms_);
  }
  for (auto& [uid, runner] : vms) runner->Detach();
}

Capabilities QemuDriver::capabilities() const {
  Capabilities c;
  c.name = kDriverName;
  c.vms = true;
  c.accelerator = accelerator_;
  c.outlives_agent = true;
  c.logs = true;
  c.console = true;
  return c;
}

void QemuDriver::SetListener(Listener listener) {
  std::unique_lock<std::shared_mutex> l(listener_mu_);
  listener_ = std::move(listener);
}

void QemuDriver::Notify(const std::string& uid, const WorkloadStatus& status) {
  std::shared_lock<std::shared_mutex> l(listener_mu_);
  if (listener_) listener_(uid, status);
}

std::string QemuDriver::VmDir(const std::string& uid) const { return env_->vms_dir + "/" + uid; }

std::shared_ptr<VmRunner> QemuDriver::Find(const std::string& uid) const {
  std::lock_guard<std::mutex> l(mu_);
  auto it = vms_.find(uid);
  return it == vms_.end() ? nullptr : it->second;
}

Result<Handle> QemuDriver::Start(const WorkloadSpec& spec) {
  if (spec.kind != WorkloadKind::kVirtualMachine) {
    return NotSupported("the qemu driver runs VirtualMachines only");
  }
  if (BadUid(spec.uid)) return BadRequest("qemu driver: bad uid \"" + spec.uid + "\"");
  LINTEL_ASSIGN_OR_RETURN(VmPlan plan, ParseVmPlan(spec));
  if (plan.accelerator == "KVM" && accelerator_ != "kvm") {
    return NotSupported("spec.accelerator KVM: this host runs VMs under " + accelerator_ + " (" +
                        accelerator_reason_ + ")");
  }
  if (env_->host_memory_bytes > 0 && plan.memory_bytes > env_->host_memory_bytes) {
    return Invalid("spec.memory: more than this host's " +
                   std::to_string(env_->host_memory_bytes >> 20) + "Mi");
  }
  const std::string dir = VmDir(spec.uid);
  auto runner = std::make_shared<VmRunner>(env_.get(), dir);
  {
    std::lock_guard<std::mutex> l(mu_);
    if (vms_.count(spec.uid)) return AlreadyExists("vm " + spec.uid + " runs here already");
    vms_[spec.uid] = runner;
  }
  Status s;
  if (FileExists(dir + "/state.json")) {
    // Left by an agent that died before it kept the handle: the VM exists,
    // so adopt it rather than start it twice.
    s = runner->Adopt(spec);
  } else {
    auto image = options_.images->Get(plan.image);
    if (!image.ok()) {
      s = image.error().code() == Code::kNotFound
              ? NotFound("VM image \"" + plan.image +
                         "\" is not on this host (lintel image import or pull it)")
              : image.error();
    } else {
      s = runner->Create(spec, plan, *image);
    }
  }
  if (!s.ok()) {
    std::lock_guard<std::mutex> l(mu_);
    vms_.erase(spec.uid);
    return s.Wrap("start vm " + spec.ns + "/" + spec.name);
  }
  Handle h;
  h.driver = kDriverName;
  h.uid = spec.uid;
  h.state = {{"vmDir", dir}};
  return h;
}

Status QemuDriver::Recover(const Handle& handle, const WorkloadSpec& spec) {
  if (Find(handle.uid)) return Status();
  if (BadUid(handle.uid)) return BadRequest("qemu driver: bad uid \"" + handle.uid + "\"");
  const std::string dir = VmDir(handle.uid);
  if (!FileExists(dir + "/state.json")) return NotFound("vm " + handle.uid + " is not here");
  auto runner = std::make_shared<VmRunner>(env_.get(), dir);
  {
    std::lock_guard<std::mutex> l(mu_);
    if (vms_.count(handle.uid)) return Status();
    vms_[handle.uid] = runner;
  }
  WorkloadSpec s = spec;
  s.uid = handle.uid;
  Status st = runner->Adopt(s);
  if (!st.ok()) {
    std::lock_guard<std::mutex> l(mu_);
    vms_.erase(handle.uid);
  }
  return st;
}

Status QemuDriver::Stop(const std::string& uid, std::chrono::milliseconds grace) {
  auto runner = Find(uid);
  if (!runner) return NotFound("vm " + uid + " is not known to the qemu driver");
  return runner->Stop(grace);
}

Status QemuDriver::Restart(const std::string& uid, std::chrono::milliseconds grace) {
  auto runner = Find(uid);
  if (!runner) return NotFound("vm " + uid + " is not known to the qemu driver");
  return runner->Restart(grace);
}

Status QemuDriver::Pause(const std::string& uid) {
  auto runner = Find(uid);
  if (!runner) return NotFound("vm " + uid + " is not known to the qemu driver");
  return runner->Pause();
}

Status QemuDriver::Resume(const std::string& uid) {
  auto runner = Find(uid);
  if (!runner) return NotFound("vm " + uid + " is not known to the qemu driver");
  return runner->Resume();
}

Status QemuDriver::Destroy(const std::string& uid) {
  auto runner = Find(uid);
  if (!runner) {
    // Not adopted in this process (the agent restarted): adopt to tear down.
    Handle h;
    h.uid = uid;
    if (!Recover(h, WorkloadSpec{}).ok()) return NotFound("vm " + uid + " is not here");
    runner = Find(uid);
    if (!runner) return NotFound("vm " + uid + " is not here");
  }
  Status s = runner->Destroy();
  std::lock_guard<std::mutex> l(mu_);
  vms_.erase(uid);
  return s;
}

Result<WorkloadStatus> QemuDriver::StatusOf(const std::string& uid) const {
  auto runner = Find(uid);
  if (!runner) return NotFound("vm " + uid + " is not known to the qemu driver");
  return runner->Snapshot();
}

Status QemuDriver::Logs(const std::string& uid, const LogOptions& options, const LogSink& sink) {
  auto runner = Find(uid);
  if (!runner) return NotFound("vm " + uid + " is not known to the qemu driver");
  if (options.previous) return NotFound("a VM's console log has no previous run");
  const std::string path = runner->console_log();
  LINTEL_ASSIGN_OR_RETURN(int64_t offset,
                          ReadConsoleLog(path, options.tail_lines, sink, options.follow));
  if (!options.follow) return Status();
  return FollowConsoleLog(path, offset, sink, [runner, &options] {
    return !runner->Active() || (options.cancelled && options.cancelled());
  });
}

Result<int> QemuDriver::OpenConsole(const std::string& uid) {
  auto runner = Find(uid);
  if (!runner) return NotFound("vm " + uid + " is not known to the qemu driver");
  return runner->OpenConsole();
}

int QemuDriver::QemuPid(const std::string& uid) const {
  auto runner = Find(uid);
  return runner ? runner->pid() : 0;
}

int QemuDriver::Boots(const std::string& uid) const {
  auto runner = Find(uid);
  return runner ? runner->boots() : 0;
}

}  // namespace lintel::drivers::qemu
