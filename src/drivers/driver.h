// Driver: turns a workload bound to this host (a Pod or a VirtualMachine) into
// something running, and reports back (Nomad's task-driver idea). The agent
// owns the loop (what should run here, what the API is told); a driver owns
// one runtime (runc + conmon, QEMU, nothing at all for the fake one).
//
// A workload's life in a driver:
//
//        Start / Recover(adopt)
//              │
//              ▼
//         ┌─────────┐  ready   ┌─────────┐  exits, or Stop(grace)   ┌────────┐
//         │Starting │ ───────▶ │ Running │ ────────────────────────▶ │ Exited │
//         └─────────┘          └─────────┘                           └────────┘
//              │ could not start                                          │
//              ▼                                                          │
//         ┌─────────┐                                                     │
//         │ Failed  │                Destroy (from any state) ◀───────────┘
//         └─────────┘                  frees everything; the uid is unknown after
//
// Threading: every method is thread-safe and may block (Start while an image is
// pulled, Stop for up to its grace); the agent calls them on its driver pool,
// never two at once for one uid. State changes are reported to the Listener on
// a thread of the driver's, never from inside a Driver call.
//
// Errors: NotFound for an unknown uid; NotSupported for an operation a driver
// lacks; retryable errors (Unavailable, Timeout) are tried again by the agent,
// any other error from Start fails the workload with that message.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/json.h"
#include "common/status.h"

namespace lintel::drivers {

enum class WorkloadKind : uint8_t { kPod, kVirtualMachine };

// What to run: the bound object, as the API has it.
struct WorkloadSpec {
  WorkloadKind kind = WorkloadKind::kPod;
  std::string ns;
  std::string name;
  std::string uid;  // identifies the workload in every Driver call
  std::map<std::string, std::string> annotations;
  Json spec = Json::object();  // the object's spec (containers, cpu, memory, image, ...)
};

enum class RunState : uint8_t { kStarting, kRunning, kExited, kFailed };
inline std::string_view RunStateName(RunState state) {
  switch (state) {
    case RunState::kStarting:
      return "Starting";
    case RunState::kRunning:
      return "Running";
    case RunState::kExited:
      return "Exited";
    case RunState::kFailed:
      return "Failed";
  }
  return "";
}

// How one run of a container ended (Kubernetes' ContainerStateTerminated).
struct Termination {
  int exit_code = 0;
  int signal = 0;
  std::string reason;  // Completed, Error, OOMKilled, StartError
  std::string message;
  Clock::WallTime started_at{};
  Clock::WallTime finished_at{};
  bool operator==(const Termination&) const = default;
};

// One container of a Pod. Starting is Kubernetes' "waiting" (reason
// ContainerCreating, CrashLoopBackOff, ErrImagePull, ImagePullBackOff, ...);
// Exited and Failed are "terminated".
struct ContainerStatus {
  std::string name;
  std::string image;
  std::string image_id;      // the image's digest, once resolved
  std::string container_id;  // runtime://id of the current (or last) run
  RunState state = RunState::kStarting;
  Clock::WallTime started_at{};
  Clock::WallTime finished_at{};
  int exit_code = 0;
  int signal = 0;
  int restart_count = 0;
  std::string reason;  // Completed, Error, StartError, ...; waiting: why
  std::string message;
  // From readiness probes; nullopt: ready whenever running (no probe).
  std::optional<bool> ready;
  std::optional<Termination> last_termination;  // the run before this one
  bool operator==(const ContainerStatus&) const = default;
};

struct WorkloadStatus {
  RunState state = RunState::kStarting;
  Clock::WallTime started_at{};   // when it became Running
  Clock::WallTime finished_at{};  // when it exited or failed
  int exit_code = 0;
  std::string reason;       // CamelCase, as Kubernetes reasons: Completed, Error, StartError
  std::string message;      // for people
  std::string accelerator;  // VMs: "kvm" or "tcg", as running
  bool paused = false;      // VMs: Running but frozen (Pause)
  std::string ip;           // the address on the estate network ("" none)
  std::vector<ContainerStatus> containers;  // Pods: one per container, in spec order
  // Pods with readiness probes: whether every container is ready; nullopt:
  // ready whenever Running.
  std::optional<bool> ready;
  bool operator==(const WorkloadStatus&) const = default;
};

// What a driver can do. The agent reports it on the Host (status.runtime) and
// the scheduler filters on it; nothing outside drivers/ branches on `name`.
struct Capabilities {
  std::string name;  // "fake", "oci", "qemu"
  bool pods = false;
  bool vms = false;
  bool sandbox = false;              // Pods with isolation: vm
  std::string accelerator = "none";  // how VMs run here: kvm, tcg or none
  // Workloads keep running when the agent exits (conmon, detached QEMU), so
  // the agent persists handles and re-adopts them with Recover.
  bool outlives_agent = false;
  bool logs = false;
  bool exec = false;
  bool console = false;
  bool migrate = false;
  // The OCI runtime with its version ("runc 1.1.5"), reported on the Host as
  // status.runtime.ociRuntime; empty for drivers without one.
  std::string oci_runtime;
};

// Reading a container's log (Kubernetes' PodLogOptions).
struct LogOptions {
  std::string container;    // empty: the Pod's only container
  bool previous = false;    // the run before the current one
  bool follow = false;      // keep reading until the container exits or the sink says stop
  int64_t tail_lines = -1;  // the last N lines; -1 all
  // Polled while following with nothing to read: true ends the follow (the
  // reader went away). Null: never.
  std::function<bool()> cancelled;
};

// kubectl exec: a command in one container of a running Pod.
struct ExecOptions {
  std::string container;  // empty: the Pod's only container
  std::vector<std::string> command;
  bool stdin = false;  // keep a stdin open
  bool tty = false;    // a terminal: stdout and stderr are one stream
};

// A started exec. Descriptors are owned by the session's holder (close them);
// with a tty, `terminal` is the pty master (read output, write input) and the
// other three are -1; without, stdin_fd is -1 unless ExecOptions::stdin.
struct ExecSession {
  int terminal = -1;
  int stdin_fd = -1;
  int stdout_fd = -1;
  int stderr_fd = -1;
  // Blocks until the process exits; its exit code (128+N for signal N).
  std::function<Result<int>()> wait;
  // Terminal size (tty only); no-op otherwise.
  std::function<void(uint16_t cols, uint16_t rows)> resize;
  // Kills the process (the client went away).
  std::function<void()> kill;
};

struct LogLine {
  Clock::WallTime time{};
  std::string stream;  // stdout or stderr
  std::string text;    // without the trailing newline
  bool operator==(const LogLine&) const = default;
};

// Receives log lines in order; returns false to stop reading.
using LogSink = std::function<bool(const LogLine& line)>;

// Versioned, opaque state for one started workload. Start returns it; the agent
// persists it (when the driver's workloads outlive the agent) before it reports
// the workload Running, and hands it back to Recover after a restart.
struct Handle {
  static constexpr int kVersion = 1;
  int version = kVersion;
  std::string driver;  // Capabilities::name of the driver that made it
  std::string uid;
  Json state = Json::object();  // the driver's own (pids, paths, sockets)
};

inline Json HandleToJson(const Handle& h) {
  return {{"version", h.version}, {"driver", h.driver}, {"uid", h.uid}, {"state", h.state}};
}
inline Result<Handle> HandleFromJson(const Json& j) {
  if (!j.is_object() || !j.contains("uid") || !j["uid"].is_string() || !j.contains("driver") ||
      !j["driver"].is_string() || !j.contains("version") || !j["version"].is_number_integer()) {
    return BadRequest("malformed driver handle");
  }
  Handle h;
  h.version = j["version"].get<int>();
  h.driver = j["driver"].get<std::string>();
  h.uid = j["uid"].get<std::string>();
  if (j.contains("state")) h.state = j["state"];
  return h;
}

// Called after a workload's RunState changes (not for the state Start or
// Recover leave it in: read that with StatusOf). Must not block for long and
// must not call back into the driver.
using Listener = std::function<void(const std::string& uid, const WorkloadStatus& status)>;

class Driver {
 public:
  virtual ~Driver() = default;

  virtual Capabilities capabilities() const = 0;

  // Where state changes go; set before the first Start or Recover. Once
  // SetListener returns, the previous listener is not running and will not be
  // called again (so SetListener({}) detaches an owner that is going away).
  virtual void SetListener(Listener listener) = 0;

  // Creates the workload and begins starting it; returns once it exists (its
  // handle known), without waiting for Running. AlreadyExists if the uid runs
  // here already. Any other error: it did not start and holds nothing.
  virtual Result<Handle> Start(const WorkloadSpec& spec) = 0;

  // Re-adopts a workload started by an earlier agent process, from its handle
  // (or, when none was persisted, one with only driver and uid set). OK: it is
  // known again, in whatever state it is in. NotFound: the runtime has no such
  // workload any more; the agent starts it anew.
  virtual Status Recover(const Handle& handle, const WorkloadSpec& spec) = 0;

  // Asks the workload to stop, then kills it once `grace` has passed; returns
  // when it has exited. The workload stays known (Exited) until Destroy.
  virtual Status Stop(const std::string& uid, std::chrono::milliseconds grace) = 0;

  // Kills the workload if it still runs and frees all it holds (disks of VMs
  // excepted: they are the API's business). The uid is unknown afterwards.
  virtual Status Destroy(const std::string& uid) = 0;

  // The workload's current status; NotFound if unknown.
  virtual Result<WorkloadStatus> StatusOf(const std::string& uid) const = 0;

  // Streams a container's log to `sink` on the calling thread; with follow,
  // blocks until the container exits or the sink returns false. NotFound for
  // an unknown uid or container (or no previous run); NotSupported for
  // drivers without logs.
  virtual Status Logs(const std::string& uid, const LogOptions& options, const LogSink& sink) {
    return NotSupported("driver " + capabilities().name + " keeps no logs");
  }

  // Runs a command in a running container of a Pod (kubectl exec). Returns
  // once the process runs; the caller owns the session's descriptors and must
  // call wait. NotFound for an unknown uid or container, BadRequest if the
  // container is not running.
  virtual Result<ExecSession> Exec(const std::string& uid, const ExecOptions& options) {
    return NotSupported("driver " + capabilities().name + " cannot exec");
  }

  // A VM's serial console: a connected, bidirectional byte stream (the caller
  // closes it). One client at a time; a second gets Unavailable ("console in
  // use"). Output is also kept in the console log whether or not anyone reads.
  virtual Result<int> OpenConsole(const std::string& uid) {
    return NotSupported("driver " + capabilities().name + " has no console");
  }

  // Freezes a running workload (a VM's vCPUs stop; memory stays) and thaws
  // it. Reported as WorkloadStatus::paused. Idempotent.
  virtual Status Pause(const std::string& uid) {
    return NotSupported("driver " + capabilities().name + " cannot pause");
  }
  virtual Status Resume(const std::string& uid) {
    return NotSupported("driver " + capabilities().name + " cannot pause");
  }

  // Starts an Exited (or Failed) workload again with what it kept (a VM's
  // disks); with `running` true a running one is stopped gracefully (within
  // `grace`) and started again. NotFound for an unknown uid.
  virtual Status Restart(const std::string& uid, std::chrono::milliseconds grace) {
    return NotSupported("driver " + capabilities().name + " cannot restart");
  }
};

}  // namespace lintel::drivers
