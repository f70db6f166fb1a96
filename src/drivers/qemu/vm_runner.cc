#include "drivers/qemu/vm_runner.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/statvfs.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <sstream>

#include "common/fs.h"
#include "common/time_format.h"
#include "drivers/oci/subprocess.h"
#include "drivers/oci/sys_util.h"
#include "drivers/qemu/console_log.h"

namespace lintel::drivers::qemu {

namespace {

using Ms = std::chrono::milliseconds;
using oci::UniqueFd;

constexpr Ms kQmpConnectTimeout{10'000};
constexpr Ms kKillWait{5'000};
// A boot that ends sooner than this counts towards the back-off.
constexpr auto kQuickRun = std::chrono::seconds(30);
constexpr Ms kMaxBackoff{60'000};

Clock::MonoTime Mono() { return Clock::Real().Monotonic(); }
Clock::WallTime Wall() { return Clock::Real().Now(); }

// Field 22 of /proc/PID/stat: the process's start time in clock ticks after
// boot. Tells a re-used pid from the QEMU we started.
uint64_t StartTicks(pid_t pid) {
  auto stat = ReadFile("/proc/" + std::to_string(pid) + "/stat");
  if (!stat.ok()) return 0;
  size_t paren = stat->rfind(')');
  if (paren == std::string::npos) return 0;
  std::istringstream in(stat->substr(paren + 2));
  std::string field;
  // Fields 3.. follow the command name; the start time is field 22.
  for (int i = 3; i <= 22 && in >> field; ++i) {
    if (i == 22) return std::strtoull(field.c_str(), nullptr, 10);
  }
  return 0;
}

std::string Bytes(int64_t b) {
  const char* units[] = {"", "Ki", "Mi", "Gi", "Ti", "Pi"};
  int u = 0;
  double v = static_cast<double>(b);
  while (v >= 1024 && u < 5) {
    v /= 1024;
    ++u;
  }
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.0f%s", v, units[u]);
  return buf;
}

// Writes all of `data` to a socket; false once the peer is gone. MSG_NOSIGNAL:
// a client that hung up must not raise SIGPIPE in whatever process hosts
// the driver.
bool SendAll(int fd, const char* data, size_t len) {
  while (len > 0) {
    ssize_t n = ::send(fd, data, len, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data += n;
    len -= static_cast<size_t>(n);
  }
  return true;
}

Json BootImageJson(const BootImage& b) {
  return {
      {"kernel", b.kernel}, {"initrd", b.initrd}, {"cmdline", b.cmdline}, {"machine", b.machine}};
}

BootImage BootImageFrom(const Json& j) {
  BootImage b;
  if (!j.is_object()) return b;
  b.kernel = j.value("kernel", "");
  b.initrd = j.value("initrd", "");
  b.cmdline = j.value("cmdline", "");
  b.machine = j.value("machine", "");
  return b;
}

}  // namespace

VmRunner::VmRunner(const QemuDriver::Env* env, std::string dir) : env_(env), dir_(std::move(dir)) {
  wake_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
}

VmRunner::~VmRunner() {
  Detach();
  if (wake_fd_ >= 0) ::close(wake_fd_);
  if (pidfd_ >= 0) ::close(pidfd_);
}

void VmRunner::Wake() {
  uint64_t one = 1;
  ssize_t n = ::write(wake_fd_, &one, sizeof(one));
  (void)n;
}

void VmRunner::StartMonitor() {
  monitor_ = std::thread([this] { Monitor(); });
}

void VmRunner::Detach() {
  {
    std::lock_guard<std::mutex> l(mu_);
    quit_ = true;
  }
  Wake();
  if (monitor_.joinable() && monitor_.get_id() != std::this_thread::get_id()) monitor_.join();
  std::lock_guard<std::mutex> op(op_mu_);
  qmp_.Close();
}

WorkloadStatus VmRunner::Snapshot() const {
  std::lock_guard<std::mutex> l(mu_);
  return status_;
}

bool VmRunner::Active() const {
  std::lock_guard<std::mutex> l(mu_);
  return !quit_ && (pid_ > 0 || pending_boot_);
}

pid_t VmRunner::pid() const {
  std::lock_guard<std::mutex> l(mu_);
  return pid_;
}

int VmRunner::boots() const {
  std::lock_guard<std::mutex> l(mu_);
  return boots_;
}

std::string VmRunner::StderrTail() const {
  auto err = ReadFile(dir_ + "/qemu.stderr");
  if (!err.ok()) return "";
  std::vector<std::string> lines;
  std::istringstream in(*err);
  for (std::string line; std::getline(in, line);) {
    if (line.find_first_not_of(" \t\r") != std::string::npos) lines.push_back(line);
  }
  std::string out;
  for (size_t i = lines.size() > 3 ? lines.size() - 3 : 0; i < lines.size(); ++i) {
    out += (out.empty() ? "" : "; ") + lines[i];
  }
  return out;
}

Status VmRunner::Persist() {
  pid_t pid;
  int boots;
  int64_t started_ns;
  {
    std::lock_guard<std::mutex> l(mu_);
    pid = pid_;
    boots = boots_;
    started_ns =
        std::chrono::duration_cast<std::chrono::nanoseconds>(status_.started_at.time_since_epoch())
            .count();
  }
  Json j = {{"ns", plan_.ns},
            {"name", plan_.name},
            {"uid", plan_.uid},
            {"spec", spec_},
            {"image", BootImageJson(image_)},
            {"disks", paths_.disks},
            {"seed", paths_.seed},
            {"tap", paths_.tap},
            {"mac", paths_.mac},
            {"mtu", paths_.mtu},
            {"pid", pid},
            {"startTicks", start_ticks_},
            {"boots", boots},
            {"startedAt", started_ns},
            {"stopped", stop_requested_}};
  return WriteFileAtomic(dir_ + "/state.json", j.dump(), 0600);
}

Status VmRunner::PrepareDisks(const images::VmImage& image, std::vector<std::string>* created) {
  // A disk larger than the filesystem has free is refused now rather than
  // failing inside the guest when it fills (qcow2 files grow as written).
  int64_t wanted = 0;
  for (const auto& d : plan_.disks) wanted += d.size_bytes;
  struct statvfs fs;
  if (wanted > 0 && ::statvfs(dir_.c_str(), &fs) == 0) {
    int64_t free_bytes = static_cast<int64_t>(fs.f_bavail) * static_cast<int64_t>(fs.f_frsize);
    if (wanted > free_bytes) {
      return Invalid("spec.disks: " + Bytes(wanted) + " of disks is more than the " +
                     Bytes(free_bytes) + " free on this host");
    }
  }
  paths_.disks.clear();
  for (const auto& d : plan_.disks) {
    std::string path;
    if (d.keep) {
      std::string kept = env_->kept_dir + "/" + plan_.ns + "/" + plan_.name;
      LINTEL_RETURN_IF_ERROR(MakeDirs(kept, 0700));
      path = kept + "/" + d.name + ".qcow2";
    } else {
      path = dir_ + "/" + d.name + ".qcow2";
    }
    paths_.disks.push_back(path);
    if (FileExists(path)) {
      if (d.keep) {
        spdlog::info("qemu: vm {}/{}: reattaching kept disk {}", plan_.ns, plan_.name, path);
        continue;
      }
      return AlreadyExists("disk " + path + " exists");
    }
    Status s;
    if (d.image.empty()) {
      s = env_->images->CreateEmptyDisk(path, d.size_bytes);
    } else if (&d == &plan_.disks.front()) {
      s = env_->images->CloneDisk(image, path, d.size_bytes);
    } else {
      auto base = env_->images->Get(d.image);
      s = base.ok() ? env_->images->CloneDisk(*base, path, d.size_bytes) : base.error();
    }
    if (!s.ok()) return s.Wrap("disk " + d.name);
    created->push_back(path);
  }
  if (plan_.seed || net_) {
    images::CloudInitSeed seed;
    seed.instance_id = plan_.uid;
    seed.hostname = plan_.name;
    seed.user_data = plan_.user_data;
    seed.network_config = plan_.network_data;
    // The estate address, unless the spec brings its own network-config.
    if (seed.network_config.empty() && net_) seed.network_config = EstateNetworkConfig(*net_);
    seed.ssh_authorized_keys = plan_.ssh_keys;
    paths_.seed = dir_ + "/seed.iso";
    LINTEL_RETURN_IF_ERROR(images::WriteNoCloudSeed(seed, paths_.seed).Wrap("cloud-init seed"));
  }
  return Status();
}

Status VmRunner::Create(const WorkloadSpec& spec, const VmPlan& plan,
                        const images::VmImage& image) {
  uid_ = spec.uid;
  readiness_ = plan.readiness;
  std::unique_lock<std::mutex> op(op_mu_);
  plan_ = plan;
  spec_ = spec.spec;
  image_.kernel = image.kernel;
  image_.initrd = image.initrd;
  image_.cmdline = image.cmdline;
  image_.machine = image.machine;
  paths_.qmp_socket = env_->sock_dir + "/" + uid_ + ".qmp";
  paths_.serial_socket = env_->sock_dir + "/" + uid_ + ".ser";
  paths_.console_log = dir_ + "/console.log";
  paths_.pidfile = dir_ + "/qemu.pid";
  std::vector<std::string> created;
  Status s = MakeDirs(dir_, 0700);
  if (s.ok() && env_->network) {
    auto net = env_->network->AttachTap(spec);
    if (net.ok()) {
      SetNetwork(std::move(*net));
    } else {
      s = net.error().Wrap("VM network");
    }
  }
  if (s.ok()) s = PrepareDisks(image, &created);
  if (s.ok()) s = Persist();
  if (s.ok()) s = Boot();
  if (!s.ok()) {
    KillAndReap();
    op.unlock();
    for (const auto& f : created) ::unlink(f.c_str());
    (void)oci::RemoveAll(dir_);
    if (env_->network) (void)env_->network->Detach(uid_);
    return s;
  }
  StartMonitor();
  return Status();
}

Status VmRunner::Boot() {
  ::unlink(paths_.qmp_socket.c_str());
  ::unlink(paths_.serial_socket.c_str());
  const std::string err_path = dir_ + "/qemu.stderr";
  UniqueFd err(::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
  if (!err.valid()) return oci::SysError("open", err_path, errno);
  const std::string accel = plan_.accelerator == "TCG" ? "tcg" : env_->accelerator;
  oci::SpawnOptions o;
  o.argv = QemuArgv(env_->qemu, plan_, image_, paths_, accel, env_->tsc_khz);
  o.stderr_fd = err.get();
  o.new_session = true;  // signals to the agent's group do not reach the VM
  auto pid = oci::Spawn(o);
  if (!pid.ok()) return pid.error().Wrap("start QEMU");
  if (pidfd_ >= 0) ::close(pidfd_);
  pidfd_ = oci::PidfdOpen(*pid);
  child_ = true;
  start_ticks_ = StartTicks(*pid);
  shutdown_reason_.clear();
  booted_at_ = Mono();
  {
    std::lock_guard<std::mutex> l(mu_);
    pid_ = *pid;
    ++gen_;
    ++boots_;
    pending_boot_ = false;
    if (watch_fd_ >= 0) ::close(watch_fd_);
    watch_fd_ = pidfd_ >= 0 ? ::dup(pidfd_) : -1;
    status_.state = RunState::kStarting;
    status_.accelerator = accel;
    ResetReadinessLocked();
    status_.paused = false;
    status_.reason.clear();
    status_.message.clear();
  }
  Wake();
  (void)Persist();
  // QEMU creates the QMP socket within milliseconds; a QEMU that cannot
  // start (a corrupt disk, a bad flag) exits instead, its reason on stderr.
  const auto deadline = Mono() + kQmpConnectTimeout;
  Status conn;
  while (true) {
    conn = qmp_.Connect(paths_.qmp_socket, Ms(100));
    if (conn.ok()) break;
    struct pollfd p {
      pidfd_, POLLIN, 0
    };
    bool exited = pidfd_ >= 0 && ::poll(&p, 1, 0) == 1;
    if (exited || Mono() >= deadline) {
      std::string why = exited ? "QEMU exited at start" : "QEMU did not answer QMP in 10s";
      KillAndReap();
      std::string tail = StderrTail();
      std::lock_guard<std::mutex> l(mu_);
      status_.state = RunState::kFailed;
      status_.reason = "StartError";
      status_.message = why + (tail.empty() ? "" : ": " + tail);
      status_.finished_at = Wall();
      return Internal(status_.message);
    }
  }
  auto st = qmp_.Execute("query-status");
  {
    std::lock_guard<std::mutex> l(mu_);
    status_.state = RunState::kRunning;
    status_.started_at = Wall();
    status_.exit_code = 0;
    if (st.ok()) status_.paused = st->value("status", "") == "paused";
    spdlog::info("qemu: vm {}/{} booted (pid {}, {}, boot {})", plan_.ns, plan_.name, pid_, accel,
                 boots_);
  }
  (void)Persist();  // with its start time, which a re-adopting agent reports
  return Status();
}

void VmRunner::KillAndReap() {
  pid_t pid;
  {
    std::lock_guard<std::mutex> l(mu_);
    pid = pid_;
  }
  if (pid <= 0) return;
  ::kill(pid, SIGKILL);
  if (child_) {
    (void)oci::WaitPid(pid, kKillWait);
  } else {
    WaitExit(kKillWait);
  }
  qmp_.Close();
  std::lock_guard<std::mutex> l(mu_);
  pid_ = 0;
}

bool VmRunner::WaitExit(Ms timeout) {
  if (pidfd_ < 0) {
    pid_t pid;
    {
      std::lock_guard<std::mutex> l(mu_);
      pid = pid_;
    }
    auto deadline = Mono() + timeout;
    while (pid > 0 && oci::ProcessExists(pid) && StartTicks(pid) == start_ticks_) {
      if (Mono() >= deadline) return false;
      std::this_thread::sleep_for(Ms(20));
    }
    return true;
  }
  struct pollfd p {
    pidfd_, POLLIN, 0
  };
  int n;
  do {
    n = ::poll(&p, 1, static_cast<int>(timeout.count()));
  } while (n < 0 && errno == EINTR);
  return n == 1;
}

void VmRunner::ReadEvents() {
  if (!qmp_.connected()) return;
  std::deque<QmpEvent> events;
  (void)qmp_.Poll(&events);
  for (const auto& e : events) {
    if (e.name == "SHUTDOWN") {
      shutdown_reason_ = e.data.value("reason", "");
    } else if (e.name == "STOP" || e.name == "RESUME") {
      std::lock_guard<std::mutex> l(mu_);
      status_.paused = e.name == "STOP";
    }
  }
}

void VmRunner::HandleExit() {
  pid_t pid;
  {
    std::lock_guard<std::mutex> l(mu_);
    pid = pid_;
  }
  if (pid <= 0) return;
  Exit exit;
  // Our child (this process spawned it) tells its status; an adopted QEMU's
  // parent is init, so only its last QMP events say how it ended.
  auto info = oci::WaitPid(pid, Ms(0));
  if (info.ok()) {
    exit.known = true;
    exit.code = info->code;
    exit.signal = info->exited ? 0 : info->signal;
  }
  ReadEvents();
  qmp_.Close();
  const std::string strategy = plan_.run_strategy;
  const auto ran = Mono() - booted_at_;
  std::string reason, message;
  int code = 0;
  bool failure = false, reboot = false;
  if (stop_requested_) {
    reason = "Stopped";
    message = "stopped by request";
  } else if (shutdown_reason_ == "guest-shutdown") {
    reason = "GuestShutdown";
    message = "the guest powered off";
  } else if (shutdown_reason_ == "guest-reset") {
    reason = "GuestReset";
    message = "the guest rebooted";
    reboot = true;
  } else if (shutdown_reason_ == "guest-panic") {
    reason = "GuestPanic";
    message = "the guest kernel panicked";
    code = 1;
    failure = true;
  } else if (exit.known && exit.signal != 0) {
    reason = "Crashed";
    message = "QEMU was killed by signal " + std::to_string(exit.signal);
    code = 128 + exit.signal;
    failure = true;
  } else if (exit.known && exit.code != 0) {
    reason = "Error";
    std::string tail = StderrTail();
    message =
        "QEMU exited with status " + std::to_string(exit.code) + (tail.empty() ? "" : ": " + tail);
    code = exit.code;
    failure = true;
  } else if (!shutdown_reason_.empty()) {
    reason = "Stopped";
    message = "QEMU shut down (" + shutdown_reason_ + ")";
  } else {
    reason = "Crashed";
    message = "QEMU ended without shutting the guest down";
    code = 137;
    failure = true;
  }
  bool again = !stop_requested_ &&
               (reboot || (strategy == "Always") || (strategy == "RerunOnFailure" && failure));
  Ms delay{0};
  if (again && !reboot) {
    quick_failures_ = ran < kQuickRun ? quick_failures_ + 1 : 0;
    if (quick_failures_ > 1) {
      delay = std::min(kMaxBackoff, Ms(1000) * (1 << std::min(quick_failures_ - 2, 6)));
    }
  }
  {
    std::lock_guard<std::mutex> l(mu_);
    pid_ = 0;
    if (watch_fd_ >= 0) ::close(watch_fd_);
    watch_fd_ = -1;
    status_.state = RunState::kExited;
    status_.paused = false;
    status_.exit_code = code;
    status_.reason = reason;
    status_.message = message;
    status_.finished_at = Wall();
    pending_boot_ = again;
  }
  if (pidfd_ >= 0) ::close(pidfd_);
  pidfd_ = -1;
  spdlog::info("qemu: vm {}/{}: {} ({}){}", plan_.ns, plan_.name, reason, message,
               again ? ", booting again in " + std::to_string(delay.count()) + " ms" : "");
  boot_due_ = again ? std::optional<Clock::MonoTime>(Mono() + delay) : std::nullopt;
  (void)Persist();
}

void VmRunner::Flush() {
  WorkloadStatus now = Snapshot();
  if (last_notified_ && *last_notified_ == now) return;
  last_notified_ = now;
  if (env_->notify) env_->notify(uid_, now);
}

void VmRunner::Monitor() {
  while (true) {
    int watch = -1;
    uint64_t gen;
    {
      std::lock_guard<std::mutex> l(mu_);
      if (quit_) break;
      watch = watch_fd_ >= 0 ? ::dup(watch_fd_) : -1;
      gen = gen_;
    }
    struct pollfd p[2] = {{wake_fd_, POLLIN, 0}, {watch, POLLIN, 0}};
    int timeout = 500;
    ::poll(p, watch >= 0 ? 2 : 1, timeout);
    if (p[0].revents & POLLIN) {
      uint64_t v;
      ssize_t n = ::read(wake_fd_, &v, sizeof(v));
      (void)n;
    }
    const bool exited = watch >= 0 && (p[1].revents & POLLIN);
    if (watch >= 0) ::close(watch);
    if (readiness_ && !exited) ProbeReadiness();
    std::lock_guard<std::mutex> op(op_mu_);
    {
      std::lock_guard<std::mutex> l(mu_);
      if (quit_) break;
      if (exited && gen != gen_) continue;  // that QEMU was handled already
    }
    if (exited) {
      HandleExit();
    } else {
      ReadEvents();
    }
    Flush();
    if (boot_due_ && Mono() >= *boot_due_) {
      boot_due_.reset();
      Status s = Boot();
      if (!s.ok()) {
        spdlog::warn("qemu: vm {}/{}: boot again: {}", plan_.ns, plan_.name, s.ToString());
        // Try again later per the back-off, as a crash would.
        ++quick_failures_;
        Ms delay = std::min(kMaxBackoff, Ms(1000) * (1 << std::min(quick_failures_, 6)));
        boot_due_ = Mono() + delay;
        std::lock_guard<std::mutex> l(mu_);
        pending_boot_ = true;
        status_.message += "; booting again in " + std::to_string(delay.count() / 1000) + "s";
      }
      Flush();
    } else if (boot_due_) {
      std::lock_guard<std::mutex> l(mu_);
      status_.state = RunState::kStarting;
      status_.reason = "CrashLoopBackOff";
    }
    if (Mono() >= next_rotate_) {
      next_rotate_ = Mono() + std::chrono::seconds(2);
      auto rotated = RotateConsoleLog(paths_.console_log, env_->log_max_bytes);
      if (!rotated.ok())
        spdlog::warn("qemu: rotate {}: {}", paths_.console_log, rotated.error().ToString());
    }
  }
}

void VmRunner::StopLocked(Ms grace) {
  stop_requested_ = true;
  boot_due_.reset();
  {
    std::lock_guard<std::mutex> l(mu_);
    pending_boot_ = false;
    if (pid_ <= 0) {
      if (status_.state == RunState::kStarting) {  // waiting to boot again
        status_.state = RunState::kExited;
        status_.reason = "Stopped";
        status_.message = "stopped by request";
        status_.finished_at = Wall();
      }
      return;
    }
  }
  (void)Persist();
  bool paused;
  {
    std::lock_guard<std::mutex> l(mu_);
    paused = status_.paused;
  }
  // ACPI power-off first (a paused guest cannot hear it), then QMP quit,
  // then SIGKILL.
  if (paused) (void)qmp_.Execute("cont");
  Ms quit_after = grace;
  if (!qmp_.Execute("system_powerdown").ok()) quit_after = Ms(0);
  if (!WaitExit(quit_after)) {
    spdlog::info("qemu: vm {}/{}: no power-off within {} ms, quitting QEMU", plan_.ns, plan_.name,
                 quit_after.count());
    (void)qmp_.Execute("quit", Json(), Ms(1000));
    if (!WaitExit(env_->quit_grace)) {
      pid_t pid = this->pid();
      if (pid > 0) ::kill(pid, SIGKILL);
      WaitExit(kKillWait);
    }
  }
  HandleExit();
}

Status VmRunner::Stop(Ms grace) {
  std::lock_guard<std::mutex> op(op_mu_);
  StopLocked(grace);
  (void)Persist();
  Wake();
  return Status();
}

Status VmRunner::Restart(Ms grace) {
  std::lock_guard<std::mutex> op(op_mu_);
  if (pid() > 0) StopLocked(grace);
  stop_requested_ = false;
  boot_due_.reset();
  quick_failures_ = 0;
  Status s = Boot();
  Wake();
  return s;
}

Status VmRunner::Pause() {
  std::lock_guard<std::mutex> op(op_mu_);
  if (pid() <= 0) return BadRequest("the virtual machine is not running");
  auto r = qmp_.Execute("stop");
  if (!r.ok()) return r.error().Wrap("pause");
  {
    std::lock_guard<std::mutex> l(mu_);
    status_.paused = true;
  }
  Wake();
  return Status();
}

Status VmRunner::Resume() {
  std::lock_guard<std::mutex> op(op_mu_);
  if (pid() <= 0) return BadRequest("the virtual machine is not running");
  auto r = qmp_.Execute("cont");
  if (!r.ok()) return r.error().Wrap("unpause");
  {
    std::lock_guard<std::mutex> l(mu_);
    status_.paused = false;
  }
  Wake();
  return Status();
}

Status VmRunner::Destroy() {
  {
    std::lock_guard<std::mutex> op(op_mu_);
    stop_requested_ = true;
    boot_due_.reset();
    KillAndReap();
  }
  Detach();
  std::lock_guard<std::mutex> op(op_mu_);
  ::unlink(paths_.qmp_socket.c_str());
  ::unlink(paths_.serial_socket.c_str());
  // Kept disks live outside the directory; everything else goes with it.
  Status removed = oci::RemoveAll(dir_);
  if (env_->network) {
    if (Status s = env_->network->Detach(uid_); !s.ok() && removed.ok()) removed = s;
  }
  return removed;
}

void VmRunner::ResetReadinessLocked() {
  if (!readiness_) return;
  readiness_tracker_.emplace(readiness_->success_threshold, readiness_->failure_threshold, false);
  next_probe_ = Mono() + std::chrono::seconds(readiness_->initial_delay_seconds);
  status_.ready = false;
}

void VmRunner::ProbeReadiness() {
  oci::ProbeSpec spec = *readiness_;
  {
    std::lock_guard<std::mutex> l(mu_);
    if (!readiness_tracker_ || Mono() < next_probe_) return;
    if (status_.state != RunState::kRunning || status_.paused || status_.ip.empty()) return;
    spec.host = status_.ip;
  }
  // From the agent's network namespace, where the bridge reaches the guest.
  oci::ProbeResult r = oci::RunProbe(spec, {nullptr, "", "/proc/thread-self/ns/net"});
  std::lock_guard<std::mutex> l(mu_);
  if (!readiness_tracker_) return;
  next_probe_ = Mono() + std::chrono::seconds(spec.period_seconds);
  readiness_tracker_->Record(r.success);
  status_.ready = readiness_tracker_->ok();
}

void VmRunner::SetNetwork(NetworkInterface net) {
  paths_.tap = net.host_interface;
  paths_.mac = net.mac;
  paths_.mtu = net.mtu;
  std::lock_guard<std::mutex> l(mu_);
  status_.ip = net.ip;
  net_ = std::move(net);
}

Status VmRunner::Adopt(const WorkloadSpec& spec) {
  auto text = ReadFile(dir_ + "/state.json");
  if (!text.ok()) return NotFound("no VM in " + dir_);
  Json rec = Json::parse(*text, nullptr, false);
  if (rec.is_discarded() || !rec.is_object()) return Internal(dir_ + "/state.json is corrupt");
  WorkloadSpec ws = spec;
  if (ws.spec.empty() || ws.spec.is_null()) {
    ws.spec = rec.value("spec", Json::object());
    ws.ns = rec.value("ns", "");
    ws.name = rec.value("name", "");
  }
  ws.uid = rec.value("uid", spec.uid);
  uid_ = ws.uid;
  LINTEL_ASSIGN_OR_RETURN(VmPlan plan, ParseVmPlan(ws));
  readiness_ = plan.readiness;
  std::unique_lock<std::mutex> op(op_mu_);
  plan_ = std::move(plan);
  spec_ = ws.spec;
  image_ = BootImageFrom(rec.value("image", Json::object()));
  paths_.disks = rec.value("disks", std::vector<std::string>{});
  paths_.seed = rec.value("seed", "");
  paths_.tap = rec.value("tap", "");
  paths_.mac = rec.value("mac", "");
  paths_.mtu = rec.value("mtu", 0);
  if (env_->network) {
    if (auto net = env_->network->Lookup(uid_)) SetNetwork(std::move(*net));
  }
  paths_.qmp_socket = env_->sock_dir + "/" + uid_ + ".qmp";
  paths_.serial_socket = env_->sock_dir + "/" + uid_ + ".ser";
  paths_.console_log = dir_ + "/console.log";
  paths_.pidfile = dir_ + "/qemu.pid";
  stop_requested_ = rec.value("stopped", false);
  const pid_t pid = rec.value("pid", 0);
  const uint64_t ticks = rec.value("startTicks", uint64_t{0});
  {
    std::lock_guard<std::mutex> l(mu_);
    boots_ = rec.value("boots", 0);
    status_.accelerator = plan_.accelerator == "TCG" ? "tcg" : env_->accelerator;
  }
  const bool alive = pid > 0 && oci::ProcessExists(pid) && StartTicks(pid) == ticks &&
                     oci::ProcessCmdline(pid).find(uid_) != std::string::npos;
  if (alive) {
    pidfd_ = oci::PidfdOpen(pid);
    child_ = false;
    start_ticks_ = ticks;
    booted_at_ = Mono();
    Status conn = qmp_.Connect(paths_.qmp_socket, Ms(2000));
    if (!conn.ok()) spdlog::warn("qemu: vm {}: QMP: {}", uid_, conn.ToString());
    auto st = qmp_.connected() ? qmp_.Execute("query-status") : Result<Json>(conn);
    std::lock_guard<std::mutex> l(mu_);
    pid_ = pid;
    ++gen_;
    watch_fd_ = pidfd_ >= 0 ? ::dup(pidfd_) : -1;
    ResetReadinessLocked();
    status_.state = RunState::kRunning;
    const int64_t started_ns = rec.value("startedAt", int64_t{0});
    status_.started_at =
        started_ns > 0 ? Clock::WallTime(std::chrono::duration_cast<Clock::WallTime::duration>(
                             std::chrono::nanoseconds(started_ns)))
                       : Wall();
    if (st.ok()) status_.paused = st->value("status", "") == "paused";
    spdlog::info("qemu: vm {}/{} re-adopted (pid {})", plan_.ns, plan_.name, pid);
  } else {
    // It ended while no agent watched: how is unknown unless it was stopped.
    const bool again = !stop_requested_ &&
                       (plan_.run_strategy == "Always" || plan_.run_strategy == "RerunOnFailure");
    std::lock_guard<std::mutex> l(mu_);
    status_.state = RunState::kExited;
    status_.exit_code = stop_requested_ ? 0 : 137;
    status_.reason = stop_requested_ ? "Stopped" : "Crashed";
    status_.message =
        stop_requested_ ? "stopped by request" : "QEMU ended while the agent was not running";
    status_.finished_at = Wall();
    pending_boot_ = again;
    if (again) boot_due_ = Mono();
  }
  last_notified_ = Snapshot();  // the agent reads the adopted state itself
  op.unlock();
  StartMonitor();
  return Status();
}

Result<int> VmRunner::OpenConsole() {
  if (pid() <= 0) return BadRequest("the virtual machine is not running");
  bool expected = false;
  if (!console_busy_.compare_exchange_strong(expected, true)) {
    return Unavailable("console in use");
  }
  std::string path;
  {
    std::lock_guard<std::mutex> op(op_mu_);
    path = paths_.serial_socket;
  }
  struct sockaddr_un addr {};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path.c_str(), std::min(path.size(), sizeof(addr.sun_path) - 1));
  UniqueFd qemu(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!qemu.valid() ||
      ::connect(qemu.get(), reinterpret_cast<struct sockaddr*>(&addr), sizeof(addr)) != 0) {
    int err = errno;
    console_busy_ = false;
    return Unavailable("console " + path + ": " + oci::ErrnoText(err));
  }
  int pair[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0) {
    int err = errno;
    console_busy_ = false;
    return Internal("socketpair: " + oci::ErrnoText(err));
  }
  // Relay between the caller's end and QEMU's socket until either closes;
  // then the console is free again. QEMU takes one client at a time, so a
  // second one is told so here rather than left hanging in its backlog.
  auto self = shared_from_this();
  std::thread([self, q = qemu.release(), mine = pair[1]] {
    char buf[8192];
    struct pollfd p[2] = {{q, POLLIN, 0}, {mine, POLLIN, 0}};
    while (true) {
      if (::poll(p, 2, 1000) < 0 && errno != EINTR) break;
      if (self->pid() <= 0) break;
      bool done = false;
      for (int i = 0; i < 2 && !done; ++i) {
        if (!(p[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
        ssize_t n = ::read(p[i].fd, buf, sizeof(buf));
        if (n <= 0 || !SendAll(p[1 - i].fd, buf, static_cast<size_t>(n))) done = true;
      }
      if (done) break;
    }
    ::close(q);
    ::close(mine);
    self->console_busy_ = false;
  }).detach();
  return pair[0];
}

}  // namespace lintel::drivers::qemu
