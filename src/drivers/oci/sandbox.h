// The Pod sandbox: what the containers of one Pod share.
//   - network, IPC and UTS namespaces, created by the driver (a short-lived
//     thread unshares them, sets the hostname, brings loopback up with an
//     ioctl, and bind-mounts /proc/thread-self/ns/* onto files), joined by
//     every container through the namespace paths of its config.json;
//   - /etc/hosts, /etc/hostname, /etc/resolv.conf, generated per Pod;
//   - emptyDir volumes: directories under the Pod's directory (a tmpfs for
//     medium: Memory, with its sizeLimit).
// No process holds the namespaces ("pause" containers are not needed): the
// bind mounts do, until DestroySandbox detaches them.
//
// Networking beyond loopback comes from a WorkloadNetwork (drivers/network.h):
// it connects the netns once made, before any container starts; the Pod's
// resolv.conf then names the host's DNS responder.
//
// Thread-safe (no shared state); blocking (mounts, a thread join).
#pragma once

#include <functional>
#include <map>
#include <string>

#include "common/status.h"
#include "drivers/oci/oci_spec.h"
#include "drivers/oci/pod_plan.h"

namespace lintel::drivers::oci {

struct SandboxLayout {
  std::string ns_dir;   // RUN/netns: <uid> is the netns file
  std::string pod_dir;  // DATA/oci/pods/<uid>: etc/, volumes/
};

// The sandbox's paths for a Pod (nothing is created).
SandboxPaths SandboxPathsFor(const SandboxLayout& layout, const PodPlan& pod);

// Creates what is missing (existing namespaces are kept: an agent restart
// re-adopts them, and their address with WorkloadNetwork::Lookup), attaches a
// new netns to `network` (if any), writes the Pod's files and returns the
// paths. On error, what it created is removed.
Result<SandboxPaths> CreateSandbox(const SandboxLayout& layout, const PodPlan& pod,
                                   WorkloadNetwork* network);

// Whether the Pod's namespace files are still mounted.
bool SandboxExists(const SandboxLayout& layout, const PodPlan& pod);

// Detaches the Pod from `network` (its interface and address), unmounts the
// namespaces and tmpfs volumes and removes their files; the Pod directory
// itself is the caller's. OK when already gone.
Status DestroySandbox(const SandboxLayout& layout, const PodPlan& pod, WorkloadNetwork* network);

// The generated files' contents (pure; for tests).
std::string HostsFile(const std::string& hostname, const std::string& pod_ip);
// The host's resolv.conf without loopback nameservers (unreachable from the Pod).
std::string ResolvConf(const std::string& host_resolv_conf);
// A resolv.conf naming the estate's DNS (nameservers and search domains).
std::string EstateResolvConf(const NetworkInterface& net);

}  // namespace lintel::drivers::oci
