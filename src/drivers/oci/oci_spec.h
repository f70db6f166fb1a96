// The OCI runtime config (config.json) of one container of a Pod, written by
// Lintel rather than derived from `runc spec`:
//   process   args (Kubernetes command/args over the image's Entrypoint/Cmd),
//             env (image, then container, $(VAR) expanded), cwd, user,
//             rlimits within the agent's own, oomScoreAdj never below the
//             agent's, docker's 14 default capabilities +/- securityContext,
//             noNewPrivileges unless allowPrivilegeEscalation is true
//   root      the overlay rootfs, read-only with readOnlyRootFilesystem
//   mounts    proc, /dev (tmpfs), devpts, shm, mqueue, sysfs (ro), cgroup (ro),
//             the Pod's /etc/hosts, /etc/hostname, /etc/resolv.conf, emptyDirs
//   linux     namespaces (pid, mount, cgroup own; network, ipc, uts the Pod's
//             by path), cgroupsPath, resources from requests/limits, the
//             default seccomp profile, runc's masked and read-only paths
//
// Pure functions; any thread.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/json.h"
#include "common/status.h"
#include "drivers/network.h"
#include "drivers/oci/pod_plan.h"
#include "drivers/oci/user.h"

namespace lintel::drivers::oci {

// What the image says a container runs, by default.
struct ImageDefaults {
  std::vector<std::string> entrypoint;
  std::vector<std::string> cmd;
  std::vector<std::string> env;  // KEY=value
  std::string working_dir;
  std::string user;
  std::string stop_signal;
};

// What the agent's host allows (read once at driver start).
struct HostLimits {
  uint64_t nofile = 1024;     // the agent's RLIMIT_NOFILE hard limit
  int own_oom_score_adj = 0;  // the agent's: a child may not go lower without CAP_SYS_RESOURCE
  int64_t memory_bytes = 0;   // MemTotal, for the OOM score of burstable containers
};

// The Pod's shared namespaces and files.
struct SandboxPaths {
  std::string netns;  // bind-mounted namespace files
  std::string ipcns;
  std::string utsns;
  std::string hosts;  // files bind-mounted read-only at /etc/...
  std::string hostname;
  std::string resolv_conf;
  std::map<std::string, std::string> volumes;  // volume name -> host directory
  // The Pod's address on the estate network (none: loopback only).
  std::optional<NetworkInterface> net;
};

struct BundleInput {
  const PodPlan* pod = nullptr;
  const ContainerPlan* container = nullptr;
  ImageDefaults image;
  ResolvedUser user;
  std::string rootfs;        // absolute
  std::string cgroups_path;  // absolute, e.g. /lintel/pods/<uid>/<name>
  SandboxPaths sandbox;
  HostLimits host;
  int64_t pids_limit = 4096;
};

// Kubernetes semantics: command replaces Entrypoint (and drops Cmd); args
// replace Cmd. Invalid "no command specified" when nothing is left.
Result<std::vector<std::string>> ProcessArgs(const ContainerPlan& c, const ImageDefaults& image);

// Image env, then the container's (overriding by name, in order), with
// $(VAR) references to earlier variables expanded ($$ escapes); PATH and
// HOSTNAME supplied when missing.
std::vector<std::string> MergeEnv(const std::vector<std::string>& image_env,
                                  const std::vector<std::pair<std::string, std::string>>& env,
                                  const std::string& hostname);

// $(VAR) expansion as Kubernetes does it for command and args.
std::string ExpandVars(const std::string& in, const std::vector<std::string>& env);

// docker's default capability set, as CAP_ names.
const std::vector<std::string>& DefaultCapabilities();
// The set after securityContext.capabilities add/drop ("ALL" allowed in drop).
std::vector<std::string> EffectiveCapabilities(const SecurityContext& sc);

// The OOM score Kubernetes gives the container's QoS class, clamped to what
// the host lets the agent set.
int OomScoreAdj(const PodPlan& pod, const ContainerPlan& c, const HostLimits& host);

// linux.resources: memory limit, cpu quota/period and shares, pids limit.
Json LinuxResources(const Resources& r, int64_t pids_limit);

// The whole config.json.
Result<Json> BuildConfig(const BundleInput& in);

}  // namespace lintel::drivers::oci
