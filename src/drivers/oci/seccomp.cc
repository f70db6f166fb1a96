#include "drivers/oci/seccomp.h"

#include <algorithm>

namespace lintel::drivers::oci {

const std::vector<std::string>& DeniedSyscalls() {
  static const std::vector<std::string> denied = [] {
    std::vector<std::string> v = {
        // kernel code and the machine
        "kexec_load",
        "kexec_file_load",
        "init_module",
        "finit_module",
        "delete_module",
        "create_module",
        "query_module",
        "get_kernel_syms",
        "reboot",
        "swapon",
        "swapoff",
        "iopl",
        "ioperm",
        "vm86",
        "vm86old",
        "uselib",
        "nfsservctl",
        "_sysctl",
        "sysfs",
        "ustat",
        "lookup_dcookie",
        "syslog",
        "vhangup",
        // time
        "settimeofday",
        "stime",
        "clock_settime",
        "clock_settime64",
        "clock_adjtime",
        "clock_adjtime64",
        "adjtimex",
        // mounts and namespaces
        "mount",
        "umount",
        "umount2",
        "pivot_root",
        "unshare",
        "setns",
        "open_tree",
        "move_mount",
        "fsopen",
        "fsconfig",
        "fsmount",
        "fspick",
        "mount_setattr",
        // keyrings
        "keyctl",
        "add_key",
        "request_key",
        // tracing and other processes' memory
        "bpf",
        "perf_event_open",
        "ptrace",
        "process_vm_readv",
        "process_vm_writev",
        "kcmp",
        // handles, faults, accounting, quotas, NUMA policy of others
        "open_by_handle_at",
        "name_to_handle_at",
        "userfaultfd",
        "acct",
        "quotactl",
        "quotactl_fd",
        "move_pages",
    };
    std::sort(v.begin(), v.end());
    return v;
  }();
  return denied;
}

Json DefaultSeccompProfile() {
  return {
      {"defaultAction", "SCMP_ACT_ALLOW"},
      {"architectures", Json::array({"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"})},
      {"syscalls",
       Json::array({{{"names", DeniedSyscalls()}, {"action", "SCMP_ACT_ERRNO"}, {"errnoRet", 1}}})},
  };
}

}  // namespace lintel::drivers::oci
