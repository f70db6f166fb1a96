// The default seccomp profile of Lintel containers, as OCI `linux.seccomp`
// JSON. Approach: allow by default and fail a deny-list with EPERM
// (SCMP_ACT_ERRNO), rather than podman's and docker's allow-list of about 370
// syscalls. The deny-list is what those profiles leave out for a container
// without extra capabilities: kernel modules and kexec, reboot, swap, clocks,
// mounts and namespace changes, keyrings, bpf and perf, ptrace and
// cross-process memory access, handle-based opens, userfaultfd, raw I/O ports,
// accounting, quotas and obsolete calls. Most of them also need a capability
// the container does not have; the profile is the second wall, and it closes
// the ones that need none (keyctl, userfaultfd, perf_event_open, ptrace of a
// sibling, bpf on old kernels). Unknown syscall names are skipped by the
// runtime, so one list serves x86_64 and its 32-bit ABIs.
//
// Pure; any thread.
#pragma once

#include <string>
#include <vector>

#include "common/json.h"

namespace lintel::drivers::oci {

// The denied syscalls, sorted.
const std::vector<std::string>& DeniedSyscalls();

// {"defaultAction": "SCMP_ACT_ALLOW", "architectures": [...], "syscalls": [{names, action:
// SCMP_ACT_ERRNO, errnoRet: 1}]}
Json DefaultSeccompProfile();

}  // namespace lintel::drivers::oci
