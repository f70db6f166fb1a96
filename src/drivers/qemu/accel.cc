#include "drivers/qemu/accel.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sstream>

#include "common/fs.h"
#include "drivers/oci/subprocess.h"

namespace lintel::drivers::qemu {

bool KvmLooksUsable(std::string* why) {
  if (::access("/dev/kvm", R_OK | W_OK) != 0) {
    *why = "/dev/kvm is missing or not writable";
    return false;
  }
  auto cpuinfo = ReadFile("/proc/cpuinfo");
  if (!cpuinfo.ok()) {
    *why = "cannot read /proc/cpuinfo";
    return false;
  }
  bool virt = false;
  std::istringstream in(*cpuinfo);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("flags", 0) != 0) continue;
    std::istringstream words(line);
    for (std::string w; words >> w;) virt = virt || w == "vmx" || w == "svm";
    break;
  }
  if (!virt) {
    *why = "the CPU shows no vmx or svm flag";
    return false;
  }
  struct stat st;
  if (::stat("/sys/module/kvm_pvm", &st) == 0) {
    *why = "/dev/kvm is kvm_pvm, which boots only PVM-enabled guest kernels";
    return false;
  }
  return true;
}

int64_t HostTscKhz() {
  auto cpuinfo = ReadFile("/proc/cpuinfo");
  if (!cpuinfo.ok()) return 0;
  std::istringstream in(*cpuinfo);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("cpu MHz", 0) != 0) continue;
    auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    double mhz = std::atof(line.c_str() + colon + 1);
    if (mhz > 0) return static_cast<int64_t>(mhz * 1000);
  }
  return 0;
}

AccelProbe ProbeAccelerator(const std::string& qemu, const CanaryKernel& canary,
                            const std::string& scratch, std::chrono::milliseconds timeout) {
  std::string why;
  if (!KvmLooksUsable(&why)) return {"tcg", why};
  if (canary.kernel.empty()) return {"kvm", "KVM passes the device and CPU checks (no canary)"};
  // Boot the kernel under KVM; a working KVM prints "Run /init" within a
  // second, a crawling one nothing for minutes.
  std::vector<std::string> argv = {
      qemu,      "-M",    "microvm",     "-accel",          "kvm",      "-cpu", "host",
      "-m",      "128",   "-nodefaults", "-no-user-config", "-display", "none", "-no-reboot",
      "-serial", "stdio", "-kernel",     canary.kernel};
  if (!canary.initrd.empty()) argv.insert(argv.end(), {"-initrd", canary.initrd});
  std::string append = "console=ttyS0 panic=-1 reboot=t init=/bin/false";
  if (int64_t khz = HostTscKhz(); khz > 0) append += " tsc_early_khz=" + std::to_string(khz);
  argv.insert(argv.end(), {"-append", append});
  (void)scratch;
  auto run = oci::Run(argv, timeout);
  if (!run.ok()) return {"tcg", "the KVM canary did not run: " + run.error().message()};
  if (run->output.find("Run /") != std::string::npos ||
      run->output.find("Kernel panic") != std::string::npos) {
    return {"kvm", "a kernel booted under KVM"};
  }
  return {"tcg", "a kernel did not reach init under KVM within " + std::to_string(timeout.count()) +
                     " ms"};
}

}  // namespace lintel::drivers::qemu
