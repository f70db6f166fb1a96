// Which accelerator VMs get on this host: KVM where it really works, else
// TCG (software emulation, about 10x slower guest CPU work).
//
// An ioctl probe is not enough: on a KVM device that runs only PVM-enabled
// guests (kvm_pvm), KVM_CREATE_VM and a real-mode KVM_RUN succeed, yet a
// stock kernel crawls for minutes. So:
//   1. the cheap check: /dev/kvm writable, vmx or svm among the CPU flags,
//      and no kvm_pvm module; failing it means TCG without a boot;
//   2. the canary: when a kernel is at hand, boot it under KVM for at most a
//      few seconds and look for the kernel starting init on the console (TCG
//      gets there in about a second); silence means TCG.
// Thread-safe; ProbeAccelerator blocks up to the canary's timeout.
#pragma once

#include <chrono>
#include <string>

namespace lintel::drivers::qemu {

struct AccelProbe {
  std::string accelerator;  // "kvm" or "tcg"
  std::string reason;       // why, for the log and the Host
};

struct CanaryKernel {
  std::string kernel, initrd;  // "": no canary; the cheap check decides
};

// `qemu` is the emulator's path; `scratch` a directory for the canary's files.
AccelProbe ProbeAccelerator(const std::string& qemu, const CanaryKernel& canary,
                            const std::string& scratch,
                            std::chrono::milliseconds timeout = std::chrono::seconds(8));

// Whether the cheap check passes; `why` says what failed.
bool KvmLooksUsable(std::string* why);

// The host's TSC frequency in kHz from /proc/cpuinfo ("cpu MHz"); 0 if unknown.
int64_t HostTscKhz();

}  // namespace lintel::drivers::qemu
