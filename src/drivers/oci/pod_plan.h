// PodPlan: the parts of a Pod's spec the OCI driver acts on, parsed once from
// the API object (Kubernetes field names and defaults) into plain values. The
// API server validated the object; this parse is still defensive, because a
// driver must never trust what it is handed: malformed fields are Invalid with
// the field's path.
//
// Pure values and functions; any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/json.h"
#include "common/status.h"
#include "drivers/driver.h"

namespace lintel::drivers::oci {

enum class RestartPolicy : uint8_t { kAlways, kOnFailure, kNever };
enum class PullPolicy : uint8_t { kDefault, kAlways, kIfNotPresent, kNever };

struct ProbeSpec {
  enum class Kind : uint8_t { kExec, kTcp, kHttp };
  Kind kind = Kind::kExec;
  std::vector<std::string> command;  // exec
  int port = 0;                      // tcp, http (a named port is resolved when parsed)
  std::string host;                  // tcp, http; empty: the Pod's loopback
  std::string path = "/";            // http
  bool https = false;                // http (no certificate check, as Kubernetes)
  int initial_delay_seconds = 0;
  int period_seconds = 10;
  int timeout_seconds = 1;
  int success_threshold = 1;
  int failure_threshold = 3;
};

struct Resources {
  std::optional<int64_t> memory_limit;    // bytes
  std::optional<int64_t> memory_request;  // bytes
  std::optional<int64_t> cpu_limit;       // millicores
  std::optional<int64_t> cpu_request;     // millicores
};

struct SecurityContext {
  std::optional<int64_t> run_as_user;
  std::optional<int64_t> run_as_group;
  bool read_only_root = false;
  std::optional<bool> allow_privilege_escalation;
  std::vector<std::string> add_caps;   // "NET_ADMIN" (CAP_ prefix optional)
  std::vector<std::string> drop_caps;  // "ALL" drops every default
};

struct VolumeMountPlan {
  std::string name;
  std::string mount_path;
  bool read_only = false;
};

struct ContainerPlan {
  std::string name;
  std::string image;
  PullPolicy pull_policy = PullPolicy::kDefault;
  std::vector<std::string> command;  // Kubernetes `command` (entrypoint override)
  bool has_command = false;
  std::vector<std::string> args;
  bool has_args = false;
  std::string working_dir;
  std::vector<std::pair<std::string, std::string>> env;
  Resources resources;
  SecurityContext security;
  std::vector<VolumeMountPlan> volume_mounts;
  std::optional<ProbeSpec> liveness;
  std::optional<ProbeSpec> readiness;
  std::optional<ProbeSpec> startup;
};

struct VolumePlan {
  std::string name;
  bool memory = false;                // emptyDir.medium: Memory (a tmpfs)
  std::optional<int64_t> size_limit;  // bytes
};

struct PodPlan {
  std::string ns;
  std::string name;
  std::string uid;
  std::string hostname;  // spec.hostname, else the Pod's name (cut to 63)
  RestartPolicy restart_policy = RestartPolicy::kAlways;
  int64_t grace_seconds = 30;
  std::vector<ContainerPlan> containers;
  std::vector<VolumePlan> volumes;
};

// Invalid (with the field path) for what the driver cannot run.
Result<PodPlan> ParsePodPlan(const WorkloadSpec& spec);

// One probe from its JSON (`path` for messages); named ports resolve against
// the container's `ports`.
Result<ProbeSpec> ParseProbe(const Json& probe, const Json& ports, const std::string& path);

std::string_view RestartPolicyName(RestartPolicy p);

}  // namespace lintel::drivers::oci
