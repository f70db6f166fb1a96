// conmon, the container monitor: one per container run. It runs
// `<runtime> create`, then keeps the container's stdio (writing the k8s-file
// log), waits for it, writes its exit status to EXIT_DIR/<id> and exits. It
// is a daemon (double fork, own session), so it outlives the agent.
//
// The create handshake (podman's and CRI-O's):
//   1. socketpair; conmon gets one end as fd 3 and _OCI_SYNCPIPE=3
//   2. conmon forks its daemon and the first process exits (reaped here)
//   3. the daemon runs `runtime create`, then writes {"data": <container pid>}
//      on the pipe, or {"data": -1, "message": "<runtime stderr>"} on failure
//   4. the caller runs `runtime start <id>` (OciRuntime::Start)
// The daemon's pid is in the conmon pidfile. Control: writing "2 0 0\n" to
// BUNDLE/ctl makes conmon reopen its log (after the driver rotated it).
//
// Thread-safe; Create blocks until the runtime created the container (or
// `timeout`).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"

namespace lintel::drivers::oci {

struct ConmonRequest {
  std::string conmon;        // path
  std::string runtime;       // path
  std::string runtime_root;  // --root of the runtime
  std::string id;            // container id (runtime)
  std::string name;          // for conmon's messages
  std::string cuuid;         // short unique id: names the attach socket link
  std::string bundle;        // holds config.json; conmon's cwd, ctl fifo, oom file
  std::string container_pidfile;
  std::string conmon_pidfile;
  std::string exit_dir;
  std::string log_path;
  std::string socket_dir;  // attach socket links (short: unix socket paths are limited)
  std::chrono::milliseconds timeout{60'000};
};

struct ConmonStarted {
  pid_t conmon_pid = 0;
  pid_t container_pid = 0;
};

// Runs conmon and waits for `runtime create`. On failure the error carries
// the runtime's message (e.g. `exec: "x": executable file not found in
// $PATH`) and nothing is left running.
Result<ConmonStarted> CreateWithConmon(const ConmonRequest& request);

// The exit status conmon wrote for `id`: nullopt while there is none.
std::optional<int> ReadExitFile(const std::string& exit_dir, const std::string& id);

// The pid in a pidfile; nullopt if missing or malformed.
std::optional<pid_t> ReadPidFile(const std::string& path);

// Whether `pid` is the conmon that monitors container `id` (guards pid reuse).
bool IsConmonOf(pid_t pid, const std::string& id);

// Asks conmon to reopen its log file (after a rotation).
Status ReopenLog(const std::string& bundle);

}  // namespace lintel::drivers::oci
