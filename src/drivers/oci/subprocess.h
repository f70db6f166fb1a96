// Subprocesses for the OCI driver: runc/crun verbs, conmon, probes. Built on
// posix_spawn (vfork semantics, safe in a threaded process) with a clean
// signal state in the child: the agent blocks SIGINT/SIGTERM in every thread
// and ignores SIGPIPE, and neither may leak into conmon or a container.
//
// Each child is waited for by its own pid (pidfd), never with waitpid(-1), so
// callers on different threads never reap each other's children.
//
// Thread-safe; every function blocks its caller at most for its timeout.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/status.h"

namespace lintel::drivers::oci {

struct SpawnOptions {
  std::vector<std::string> argv;  // argv[0] is the path (no PATH lookup)
  // The child's environment; nullopt inherits the agent's.
  std::optional<std::vector<std::string>> env;
  // Child descriptors: {child fd, parent fd}; the parent's stays open.
  std::vector<std::pair<int, int>> fds;
  int stdin_fd = -1;   // -1: /dev/null
  int stdout_fd = -1;  // -1: /dev/null
  int stderr_fd = -1;  // -1: /dev/null
  bool new_session = false;
};

// Starts the child; the caller must wait for it (WaitPid) or hand it on.
Result<pid_t> Spawn(const SpawnOptions& options);

struct ExitInfo {
  bool exited = false;  // false: killed by `signal`
  int code = 0;         // exit status, or 128 + signal
  int signal = 0;
};

// Waits for a child of this process; Timeout once `timeout` passes (the child
// is left running). Negative timeout: forever.
Result<ExitInfo> WaitPid(pid_t pid, std::chrono::milliseconds timeout);

struct RunResult {
  ExitInfo exit;
  std::string output;  // stdout and stderr interleaved, at most 64 KiB kept
};

// Runs argv to completion, capturing its output; SIGKILLs it and returns
// Timeout after `timeout`.
Result<RunResult> Run(const std::vector<std::string>& argv, std::chrono::milliseconds timeout,
                      std::optional<std::vector<std::string>> env = std::nullopt);

// pidfd_open(2): a descriptor that polls readable once `pid` exits (any
// process, not only children). -1 with errno when the pid is gone.
int PidfdOpen(pid_t pid);

// Whether a process with this pid exists (kill 0; a zombie counts).
bool ProcessExists(pid_t pid);

// The process's command line, NUL separators as spaces; empty if gone.
std::string ProcessCmdline(pid_t pid);

}  // namespace lintel::drivers::oci
