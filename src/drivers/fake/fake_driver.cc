#include "drivers/fake/fake_driver.h"

#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <deque>
#include <thread>
#include <utility>

namespace lintel::drivers::fake {

// ---- Timers ----------------------------------------------------------------

Timers::Timers(Clock* clock) : clock_(clock) {
  thread_ = std::thread([this] { Run(); });
}

Timers::~Timers() { Stop(); }

void Timers::At(Clock::MonoTime when, std::function<void()> fn) {
  {
    std::lock_guard<std::mutex> l(mu_);
    if (stop_) return;
    due_.emplace(when, std::move(fn));
  }
  cv_.notify_one();
}

void Timers::Stop() {
  {
    std::lock_guard<std::mutex> l(mu_);
    stop_ = true;
    due_.clear();
  }
  cv_.notify_all();
  if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) thread_.join();
}

void Timers::Run() {
  // A FakeClock cannot wake us, so never sleep longer than this while
  // something is pending.
  constexpr auto kPoll = std::chrono::milliseconds(10);
  std::unique_lock<std::mutex> l(mu_);
  while (!stop_) {
    if (due_.empty()) {
      cv_.wait(l, [this] { return stop_ || !due_.empty(); });
      continue;
    }
    auto now = clock_->Monotonic();
    auto first = due_.begin();
    if (first->first > now) {
      auto wait = std::min<std::chrono::nanoseconds>(first->first - now, kPoll);
      cv_.wait_for(l, wait);
      continue;
    }
    std::function<void()> fn = std::move(first->second);
    due_.erase(first);
    l.unlock();
    try {
      fn();
    } catch (const std::exception&) {
      // A callback that throws loses its transition; the timer thread lives on.
    }
    l.lock();
  }
}

// ---- FakeDriver ------------------------------------------------------------

std::optional<std::chrono::milliseconds> ParseDuration(std::string_view text) {
  if (text.empty()) return std::nullopt;
  size_t unit_at = text.find_first_not_of("0123456789.");
  std::string_view number = text.substr(0, unit_at);
  std::string_view unit = unit_at == std::string_view::npos ? "s" : text.substr(unit_at);
  double value = 0;
  auto [end, ec] = std::from_chars(number.data(), number.data() + number.size(), value);
  if (ec != std::errc() || end != number.data() + number.size() || !std::isfinite(value)) {
    return std::nullopt;
  }
  double ms_per_unit;
  if (unit == "ms") {
    ms_per_unit = 1;
  } else if (unit == "s") {
    ms_per_unit = 1000;
  } else if (unit == "m") {
    ms_per_unit = 60'000;
  } else if (unit == "h") {
    ms_per_unit = 3'600'000;
  } else {
    return std::nullopt;
  }
  return std::chrono::milliseconds(static_cast<int64_t>(std::llround(value * ms_per_unit)));
}

namespace {

struct Entry {
  WorkloadSpec spec;
  WorkloadStatus status;
  uint64_t epoch = 0;  // changed by Stop, so that pending transitions are dropped
};

// How many recent Stops StopGrace remembers.
constexpr size_t kRecentStops = 256;

std::string Annotation(const WorkloadSpec& spec, const char* key) {
  auto it = spec.annotations.find(key);
  return it == spec.annotations.end() ? std::string() : it->second;
}

std::vector<ContainerStatus> ContainersOf(const WorkloadSpec& spec) {
  std::vector<ContainerStatus> out;
  if (spec.kind != WorkloadKind::kPod) return out;
  auto it = spec.spec.find("containers");
  if (it == spec.spec.end() || !it->is_array()) return out;
  for (const auto& c : *it) {
    ContainerStatus cs;
    cs.name = c.value("name", "");
    cs.image = c.value("image", "");
    out.push_back(std::move(cs));
  }
  return out;
}

}  // namespace

struct FakeDriver::State {
  FakeOptions options;
  std::shared_ptr<Timers> timers;

  mutable std::mutex mu;
  std::map<std::string, Entry> entries LINTEL_GUARDED_BY(mu);
  FakeStats stats LINTEL_GUARDED_BY(mu);
  uint64_t next_epoch LINTEL_GUARDED_BY(mu) = 0;
  std::deque<std::pair<std::string, std::chrono::milliseconds>> recent_stops LINTEL_GUARDED_BY(mu);

  // Held while the listener runs, so that SetListener can wait it out.
  std::mutex listener_mu;
  Listener listener LINTEL_GUARDED_BY(listener_mu);

  void Notify(const std::string& uid, const WorkloadStatus& status) {
    std::lock_guard<std::mutex> l(listener_mu);
    if (listener) listener(uid, status);
  }

  // Moves `uid` to Running (if still Starting in `epoch`) and arms its exit.
  void BecomeRunning(const std::string& uid, uint64_t epoch, const std::weak_ptr<State>& self) {
    WorkloadStatus snapshot;
    {
      std::lock_guard<std::mutex> l(mu);
      auto it = entries.find(uid);
      if (it == entries.end() || it->second.epoch != epoch ||
          it->second.status.state != RunState::kStarting) {
        return;
      }
      SetRunning(it->second, options.clock->Now());
      ArmExit(uid, it->second, self);
      snapshot = it->second.status;
    }
    Notify(uid, snapshot);
  }

  void SetRunning(Entry& e, Clock::WallTime now) {
    e.status.state = RunState::kRunning;
    e.status.started_at = now;
    e.status.reason.clear();
    e.status.message.clear();
    for (auto& c : e.status.containers) {
      c.state = RunState::kRunning;
      c.started_at = now;
    }
  }

  void ArmExit(const std::string& uid, const Entry& e, const std::weak_ptr<State>& self)
      LINTEL_REQUIRES(mu) {
    auto after = ParseDuration(Annotation(e.spec, kExitAfterAnnotation));
    if (!after) return;
    int code = 0;
    std::string text = Annotation(e.spec, kExitCodeAnnotation);
    std::from_chars(text.data(), text.data() + text.size(), code);
    uint64_t epoch = e.epoch;
    timers->At(options.clock->Monotonic() + *after, [self, uid, epoch, code] {
      if (auto s = self.lock()) s->Exit(uid, epoch, code, code == 0 ? "Completed" : "Error");
    });
  }

  void Exit(const std::string& uid, uint64_t epoch, int code, const std::string& reason) {
    WorkloadStatus snapshot;
    {
      std::lock_guard<std::mutex> l(mu);
      auto it = entries.find(uid);
      if (it == entries.end() || it->second.epoch != epoch ||
          it->second.status.state == RunState::kExited) {
        return;
      }
      SetExited(it->second, code, reason, options.clock->Now());
      snapshot = it->second.status;
    }
    Notify(uid, snapshot);
  }

  static void SetExited(Entry& e, int code, const std::string& reason, Clock::WallTime now) {
    e.status.state = RunState::kExited;
    e.status.exit_code = code;
    e.status.reason = reason;
    e.status.finished_at = now;
    for (auto& c : e.status.containers) {
      c.state = RunState::kExited;
      c.exit_code = code;
      c.reason = reason;
      c.finished_at = now;
    }
  }
};

FakeDriver::FakeDriver(FakeOptions options)
    : options_(std::move(options)), state_(std::make_shared<State>()) {
  if (!options_.clock) options_.clock = &Clock::Real();
  if (!options_.timers) options_.timers = std::make_shared<Timers>(options_.clock);
  state_->options = options_;
  state_->timers = options_.timers;
}

FakeDriver::~FakeDriver() { SetListener({}); }

Capabilities FakeDriver::capabilities() const {
  Capabilities c;
  c.name = "fake";
  c.pods = true;
  c.vms = options_.accelerator != "none";
  c.sandbox = options_.sandbox;
  c.accelerator = options_.accelerator;
  c.outlives_agent = false;
  c.exec = true;
  c.console = c.vms;
  return c;
}

void FakeDriver::SetListener(Listener listener) {
  std::lock_guard<std::mutex> l(state_->listener_mu);
  state_->listener = std::move(listener);
}

Result<Handle> FakeDriver::Start(const WorkloadSpec& spec) {
  if (std::string err = Annotation(spec, kStartErrorAnnotation); !err.empty()) {
    return Status(Code::kInternal, err);
  }
  std::string accelerator;
  if (spec.kind == WorkloadKind::kVirtualMachine) {
    std::string want = spec.spec.value("accelerator", "Auto");
    if (options_.accelerator == "none") {
      return NotSupported("this host cannot run virtual machines (no accelerator)");
    }
    if (want == "KVM" && options_.accelerator != "kvm") {
      return NotSupported("KVM requested but this host runs " + options_.accelerator);
    }
    accelerator = want == "TCG" ? "tcg" : options_.accelerator;
  } else if (spec.spec.value("isolation", "container") == "vm" && !options_.sandbox) {
    return NotSupported("isolation: vm needs a sandbox-capable host");
  }
  auto delay = options_.run_delay;
  if (std::string text = Annotation(spec, kRunDelayAnnotation); !text.empty()) {
    auto d = ParseDuration(text);
    if (!d) return Invalid("annotation " + std::string(kRunDelayAnnotation) + ": bad duration");
    delay = *d;
  }
  // Due from the moment Start was called (before the workload is visible).
  const Clock::MonoTime due = options_.clock->Monotonic() + delay;
  uint64_t epoch;
  {
    std::lock_guard<std::mutex> l(state_->mu);
    auto [it, inserted] = state_->entries.try_emplace(spec.uid);
    if (!inserted) return AlreadyExists("workload " + spec.uid + " runs here already");
    Entry& e = it->second;
    e.spec = spec;
    e.status.accelerator = accelerator;
    e.status.containers = ContainersOf(spec);
    e.epoch = ++state_->next_epoch;
    epoch = e.epoch;
    ++state_->stats.starts;
  }
  std::weak_ptr<State> self = state_;
  std::string uid = spec.uid;
  options_.timers->At(due, [self, uid, epoch] {
    if (auto s = self.lock()) s->BecomeRunning(uid, epoch, self);
  });
  Handle h;
  h.driver = "fake";
  h.uid = spec.uid;
  return h;
}

Status FakeDriver::Recover(const Handle& handle, const WorkloadSpec& spec) {
  if (handle.driver != "fake") {
    return Invalid("a handle of driver \"" + handle.driver + "\" given to the fake driver");
  }
  if (handle.version > Handle::kVersion) {
    return Invalid("handle version " + std::to_string(handle.version) + " is newer than " +
                   std::to_string(Handle::kVersion));
  }
  std::lock_guard<std::mutex> l(state_->mu);
  auto [it, inserted] = state_->entries.try_emplace(spec.uid);
  if (!inserted) return Status();  // this process started it: nothing was lost
  // Our state died with the previous agent process: adopt it as running now.
  Entry& e = it->second;
  e.spec = spec;
  e.status.containers = ContainersOf(spec);
  if (spec.kind == WorkloadKind::kVirtualMachine) {
    e.status.accelerator =
        spec.spec.value("accelerator", "Auto") == "TCG" ? "tcg" : options_.accelerator;
  }
  e.epoch = ++state_->next_epoch;
  ++state_->stats.recovers;
  state_->SetRunning(e, options_.clock->Now());
  state_->ArmExit(spec.uid, e, state_);
  return Status();
}

Status FakeDriver::Stop(const std::string& uid, std::chrono::milliseconds grace) {
  WorkloadStatus snapshot;
  {
    std::lock_guard<std::mutex> l(state_->mu);
    auto it = state_->entries.find(uid);
    if (it == state_->entries.end()) return NotFound("workload " + uid + " is not here");
    Entry& e = it->second;
    ++state_->stats.stops;
    state_->recent_stops.emplace_back(uid, grace);
    if (state_->recent_stops.size() > kRecentStops) state_->recent_stops.pop_front();
    if (e.status.state == RunState::kExited || e.status.state == RunState::kFailed) {
      return Status();
    }
    e.epoch = ++state_->next_epoch;  // drops a pending Running or exit
    State::SetExited(e, 0, "Stopped", options_.clock->Now());
    snapshot = e.status;
  }
  std::weak_ptr<State> self = state_;
  options_.timers->At(options_.clock->Monotonic(), [self, uid, snapshot] {
    if (auto s = self.lock()) s->Notify(uid, snapshot);
  });
  return Status();
}

Status FakeDriver::Restart(const std::string& uid, std::chrono::milliseconds grace) {
  WorkloadStatus snapshot;
  {
    std::lock_guard<std::mutex> l(state_->mu);
    auto it = state_->entries.find(uid);
    if (it == state_->entries.end()) return NotFound("workload " + uid + " is not here");
    Entry& e = it->second;
    ++state_->stats.restarts;
    e.epoch = ++state_->next_epoch;  // drops a pending Running or exit
    e.status.paused = false;
    state_->SetRunning(e, options_.clock->Now());
    state_->ArmExit(uid, e, state_);
    snapshot = e.status;
  }
  std::weak_ptr<State> self = state_;
  options_.timers->At(options_.clock->Monotonic(), [self, uid, snapshot] {
    if (auto s = self.lock()) s->Notify(uid, snapshot);
  });
  return Status();
}

Status FakeDriver::SetPaused(const std::string& uid, bool paused) {
  WorkloadStatus snapshot;
  {
    std::lock_guard<std::mutex> l(state_->mu);
    auto it = state_->entries.find(uid);
    if (it == state_->entries.end()) return NotFound("workload " + uid + " is not here");
    Entry& e = it->second;
    if (e.spec.kind != WorkloadKind::kVirtualMachine) {
      return NotSupported("only virtual machines pause");
    }
    if (e.status.state != RunState::kRunning)
      return BadRequest("workload " + uid + " is not running");
    if (e.status.paused == paused) return Status();
    e.status.paused = paused;
    snapshot = e.status;
  }
  std::weak_ptr<State> self = state_;
  options_.timers->At(options_.clock->Monotonic(), [self, uid, snapshot] {
    if (auto s = self.lock()) s->Notify(uid, snapshot);
  });
  return Status();
}

Status FakeDriver::Pause(const std::string& uid) { return SetPaused(uid, true); }
Status FakeDriver::Resume(const std::string& uid) { return SetPaused(uid, false); }

Status FakeDriver::Destroy(const std::string& uid) {
  std::lock_guard<std::mutex> l(state_->mu);
  if (state_->entries.erase(uid) == 0) return NotFound("workload " + uid + " is not here");
  ++state_->stats.destroys;
  return Status();
}

Result<WorkloadStatus> FakeDriver::StatusOf(const std::string& uid) const {
  std::lock_guard<std::mutex> l(state_->mu);
  auto it = state_->entries.find(uid);
  if (it == state_->entries.end()) return NotFound("workload " + uid + " is not here");
  return it->second.status;
}

FakeStats FakeDriver::stats() const {
  std::lock_guard<std::mutex> l(state_->mu);
  return state_->stats;
}

std::vector<std::string> FakeDriver::Workloads() const {
  std::lock_guard<std::mutex> l(state_->mu);
  std::vector<std::string> out;
  out.reserve(state_->entries.size());
  for (const auto& [uid, e] : state_->entries) out.push_back(uid);
  return out;
}

std::optional<std::chrono::milliseconds> FakeDriver::StopGrace(const std::string& uid) const {
  std::lock_guard<std::mutex> l(state_->mu);
  for (auto it = state_->recent_stops.rbegin(); it != state_->recent_stops.rend(); ++it) {
    if (it->first == uid) return it->second;
  }
  return std::nullopt;
}

// ---- Exec and console --------------------------------------------------------

namespace {

// One end each for the caller and the fake process; -1s on failure.
std::pair<int, int> SocketPair() {
  int sv[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) return {-1, -1};
  return {sv[0], sv[1]};
}

void WriteAll(int fd, std::string_view data) {
  while (!data.empty()) {
    // A socket's peer may have gone: no SIGPIPE (send), else a pipe or pty.
    ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == ENOTSOCK) n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    data.remove_prefix(static_cast<size_t>(n));
  }
}

// The fake process: runs `command` on its ends of the descriptors.
struct FakeProcess {
  std::mutex mu;
  int in = -1, out = -1, err = -1;  // the process's ends; `out` is the terminal with a tty
  bool reaped = false;
  std::thread thread;
  int code = 0;

  void Run(const std::vector<std::string>& command) {
    const std::string& verb = command.front();
    if (verb == "echo") {
      std::string line;
      for (size_t i = 1; i < command.size(); ++i) line += (i > 1 ? " " : "") + command[i];
      WriteAll(out, line + "\n");
    } else if (verb == "cat") {
      char buf[4096];
      for (;;) {
        ssize_t n = in >= 0 ? ::read(in, buf, sizeof(buf)) : 0;
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        std::string_view data(buf, static_cast<size_t>(n));
        if (in == out && data.find('\x04') != std::string_view::npos) {
          WriteAll(out, data.substr(0, data.find('\x04')));
          break;  // a terminal's end of input
        }
        WriteAll(out, data);
      }
    } else if (verb == "exit") {
      code = command.size() > 1 ? std::atoi(command[1].c_str()) : 0;
    } else {
      WriteAll(err >= 0 ? err : out, "fake: " + verb + ": command not found\n");
      code = 127;
    }
    ::shutdown(out, SHUT_WR);
    if (err >= 0) ::shutdown(err, SHUT_WR);
  }

  int Wait() {
    std::lock_guard<std::mutex> l(mu);
    if (!reaped) {
      thread.join();
      ::close(out);
      if (err >= 0) ::close(err);
      if (in >= 0 && in != out) ::close(in);
      in = out = err = -1;
      reaped = true;
    }
    return code;
  }

  void Kill() {
    std::unique_lock<std::mutex> l(mu, std::try_to_lock);
    // Wait holds the lock only once the process is done; then there is
    // nothing to kill.
    if (!l.owns_lock() || reaped) return;
    if (in >= 0) ::shutdown(in, SHUT_RDWR);
    code = 137;
  }
};

}  // namespace

Result<ExecSession> FakeDriver::Exec(const std::string& uid, const ExecOptions& options) {
  {
    std::lock_guard<std::mutex> l(state_->mu);
    auto it = state_->entries.find(uid);
    if (it == state_->entries.end()) return NotFound("workload " + uid + " is not here");
    const Entry& e = it->second;
    if (e.spec.kind != WorkloadKind::kPod) return BadRequest("exec runs in Pods only");
    if (e.status.state != RunState::kRunning) {
      return BadRequest("pod " + e.spec.name + " is not running");
    }
    if (!options.container.empty()) {
      bool found = false;
      const Json& cs = e.spec.spec.contains("containers") ? e.spec.spec["containers"] : Json();
      for (const auto& c : cs.is_array() ? cs : Json::array()) {
        found |= c.is_object() && c.value("name", "") == options.container;
      }
      if (!found) {
        return NotFound("container " + options.container + " is not in pod " + e.spec.name);
      }
    }
  }
  if (options.command.empty()) return BadRequest("exec needs a command");
  auto proc = std::make_shared<FakeProcess>();
  ExecSession s;
  if (options.tty) {
    auto [mine, theirs] = SocketPair();
    if (mine < 0) return Internal("fake exec: socketpair failed");
    s.terminal = mine;
    proc->in = proc->out = theirs;
  } else {
    auto [out_mine, out_theirs] = SocketPair();
    auto [err_mine, err_theirs] = SocketPair();
    s.stdout_fd = out_mine;
    s.stderr_fd = err_mine;
    proc->out = out_theirs;
    proc->err = err_theirs;
    if (options.stdin) {
      auto [in_mine, in_theirs] = SocketPair();
      s.stdin_fd = in_mine;
      proc->in = in_theirs;
    }
  }
  proc->thread = std::thread([proc, command = options.command] { proc->Run(command); });
  s.wait = [proc]() -> Result<int> { return proc->Wait(); };
  s.resize = [](uint16_t, uint16_t) {};
  s.kill = [proc] { proc->Kill(); };
  return s;
}

Result<int> FakeDriver::OpenConsole(const std::string& uid) {
  {
    std::lock_guard<std::mutex> l(state_->mu);
    auto it = state_->entries.find(uid);
    if (it == state_->entries.end()) return NotFound("workload " + uid + " is not here");
    if (it->second.spec.kind != WorkloadKind::kVirtualMachine) {
      return BadRequest("a console is for VMs only");
    }
  }
  auto [mine, theirs] = SocketPair();
  if (mine < 0) return Internal("fake console: socketpair failed");
  std::thread([fd = theirs] {
    char buf[4096];
    for (;;) {
      ssize_t n = ::read(fd, buf, sizeof(buf));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      WriteAll(fd, std::string_view(buf, static_cast<size_t>(n)));
    }
    ::close(fd);
  }).detach();
  return mine;
}

}  // namespace lintel::drivers::fake
