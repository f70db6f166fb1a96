// OciRuntime: the runc-compatible CLI (runc or crun) with Lintel's state root
// (--root DATA/oci/runc). Each verb runs the binary and waits for it, with a
// timeout; errors carry the runtime's own message.
//
// Runtime choice: "runc", "crun", or "auto" (crun when it can run containers
// here, else runc). crun refuses hybrid cgroup hosts whose cgroup2 mount owns
// a controller (hugetlb on this project's machines; see
// shared/notes/host-containers.md); that condition is checked, not tried.
//
// Thread-safe (no state besides the paths); verbs block up to their timeout.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "common/status.h"
#include "drivers/oci/subprocess.h"

namespace lintel::drivers::oci {

struct RuntimeInfo {
  std::string name;     // "runc" or "crun"
  std::string path;     // absolute
  std::string version;  // "1.1.5+ds1"
};

// Finds `name` on PATH (or takes an absolute path); NotFound if missing.
Result<std::string> FindExecutable(const std::string& name);

// Whether crun can run containers on this host's cgroup layout.
bool CrunUsable();

// Resolves "auto", "runc" or "crun" (or a path) to an installed runtime with its version.
Result<RuntimeInfo> SelectRuntime(const std::string& want);

// `runc state`: "created", "running", "stopped", "paused".
struct RuntimeState {
  std::string status;
  int pid = 0;
};

class OciRuntime {
 public:
  OciRuntime(RuntimeInfo info, std::string root);

  const RuntimeInfo& info() const { return info_; }
  const std::string& root() const { return root_; }
  // "runc 1.1.5+ds1"
  std::string Describe() const { return info_.name + " " + info_.version; }

  Status Start(const std::string& id) const;
  // `signal` as a name ("TERM", "KILL") or number.
  Status Kill(const std::string& id, const std::string& signal) const;
  // OK if it does not exist.
  Status Delete(const std::string& id, bool force) const;
  // NotFound when the runtime does not know `id`.
  Result<RuntimeState> State(const std::string& id) const;
  // Runs argv in the container and waits up to `timeout` (Timeout then; the
  // runtime's exec is killed).
  Result<RunResult> Exec(const std::string& id, const std::vector<std::string>& argv,
                         std::chrono::milliseconds timeout) const;

  // The message of a failed runtime call: the text of its last `msg="..."`
  // (runc's logfmt), else its trimmed output.
  static std::string ErrorText(const std::string& output);

 private:
  Result<RunResult> Call(std::vector<std::string> args, std::chrono::milliseconds timeout) const;

  RuntimeInfo info_;
  std::string root_;
};

}  // namespace lintel::drivers::oci
