#include "drivers/qemu/vm_plan.h"

#include <set>

#include "apimachinery/quantity.h"

namespace lintel::drivers::qemu {

namespace {

using apimachinery::Quantity;

constexpr int64_t kMinMemory = 64LL << 20;

Result<int64_t> Bytes(const Json& v, const std::string& field) {
  auto q = Quantity::FromJson(v);
  if (!q.ok()) return Invalid(field + ": " + q.error().message());
  if (q->Sign() <= 0) return Invalid(field + ": must be positive");
  return q->Value();
}

std::string Str(const Json& obj, const char* key, const std::string& fallback = "") {
  auto it = obj.find(key);
  return it != obj.end() && it->is_string() ? it->get<std::string>() : fallback;
}

bool IsLabel(const std::string& s) {
  if (s.empty() || s.size() > 63) return false;
  for (char c : s) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
  }
  return s.front() != '-' && s.back() != '-';
}

std::string MiB(int64_t bytes) { return std::to_string((bytes + (1 << 20) - 1) >> 20); }

}  // namespace

Result<VmPlan> ParseVmPlan(const WorkloadSpec& ws) {
  const Json& spec = ws.spec;
  if (!spec.is_object()) return Invalid("spec: must be an object");
  VmPlan p;
  p.ns = ws.ns;
  p.name = ws.name;
  p.uid = ws.uid;
  if (auto it = spec.find("cpu"); it != spec.end()) {
    if (!it->is_number_integer() || it->get<int64_t>() < 1 || it->get<int64_t>() > 256) {
      return Invalid("spec.cpu: must be a whole number from 1 to 256");
    }
    p.cpus = it->get<int>();
  }
  if (auto it = spec.find("memory"); it != spec.end()) {
    LINTEL_ASSIGN_OR_RETURN(p.memory_bytes, Bytes(*it, "spec.memory"));
    if (p.memory_bytes < kMinMemory) return Invalid("spec.memory: at least 64Mi");
  }
  p.image = Str(spec, "image");
  if (p.image.empty()) return Invalid("spec.image: required");
  p.run_strategy = Str(spec, "runStrategy", "Always");
  p.accelerator = Str(spec, "accelerator", "Auto");
  if (p.accelerator != "Auto" && p.accelerator != "KVM" && p.accelerator != "TCG") {
    return Invalid("spec.accelerator: must be Auto, KVM or TCG");
  }
  p.machine = Str(spec, "machine");
  if (!p.machine.empty() && p.machine != "microvm" && p.machine != "q35") {
    return Invalid("spec.machine: must be microvm or q35");
  }
  p.disks.push_back({"root", p.image, 0, false});
  std::set<std::string> names = {"root"};
  if (auto it = spec.find("disks"); it != spec.end() && it->is_array()) {
    for (size_t i = 0; i < it->size(); ++i) {
      const Json& d = (*it)[i];
      const std::string field = "spec.disks[" + std::to_string(i) + "]";
      if (!d.is_object()) return Invalid(field + ": must be an object");
      DiskPlan disk;
      disk.name = Str(d, "name");
      if (!IsLabel(disk.name)) return Invalid(field + ".name: must be a DNS label");
      if (!names.insert(disk.name).second) {
        return Invalid(field + ".name: \"" + disk.name +
                       "\" is used twice (root is the boot disk)");
      }
      disk.image = Str(d, "image");
      if (auto s = d.find("size"); s != d.end()) {
        LINTEL_ASSIGN_OR_RETURN(disk.size_bytes, Bytes(*s, field + ".size"));
      }
      if (disk.image.empty() && disk.size_bytes == 0) {
        return Invalid(field + ": an empty disk needs a size (or an image to clone)");
      }
      disk.keep = d.value("keep", false);
      p.disks.push_back(std::move(disk));
    }
  }
  if (auto it = spec.find("readinessProbe"); it != spec.end() && !it->is_null()) {
    LINTEL_ASSIGN_OR_RETURN(oci::ProbeSpec probe,
                            oci::ParseProbe(*it, Json::array(), "spec.readinessProbe"));
    if (probe.kind == oci::ProbeSpec::Kind::kExec) {
      return Invalid(
          "spec.readinessProbe: exec is not supported for VMs; use tcpSocket or "
          "httpGet");
    }
    p.readiness = probe;
  }
  if (auto it = spec.find("cloudInit"); it != spec.end() && it->is_object()) {
    p.seed = true;
    p.user_data = Str(*it, "userData");
    p.network_data = Str(*it, "networkData");
    if (auto k = it->find("sshAuthorizedKeys"); k != it->end() && k->is_array()) {
      for (const auto& key : *k) {
        if (!key.is_string() || key.get<std::string>().find('\n') != std::string::npos) {
          return Invalid("spec.cloudInit.sshAuthorizedKeys: one key per string, no newlines");
        }
        p.ssh_keys.push_back(key.get<std::string>());
      }
    }
  }
  return p;
}

std::string EstateNetworkConfig(const NetworkInterface& net) {
  auto list = [](const std::vector<std::string>& v) {
    std::string out;
    for (const auto& s : v) out += (out.empty() ? "" : ", ") + s;
    return "[" + out + "]";
  };
  std::string out = "version: 2\nethernets:\n  eth0:\n";
  out += "    match:\n      macaddress: \"" + net.mac + "\"\n    set-name: eth0\n";
  out += "    addresses: [" + net.ip + "/" + std::to_string(net.prefix) + "]\n";
  if (!net.gateway.empty()) out += "    gateway4: " + net.gateway + "\n";
  if (net.mtu > 0) out += "    mtu: " + std::to_string(net.mtu) + "\n";
  if (!net.nameservers.empty()) {
    out += "    nameservers:\n      addresses: " + list(net.nameservers) + "\n";
    if (!net.search.empty()) out += "      search: " + list(net.search) + "\n";
  }
  return out;
}

std::string MachineFor(const VmPlan& plan, const BootImage& image) {
  if (!plan.machine.empty()) return plan.machine;
  if (!image.machine.empty()) return image.machine;
  return image.kernel.empty() ? "q35" : "microvm";
}

std::vector<std::string> QemuArgv(const std::string& qemu, const VmPlan& plan,
                                  const BootImage& image, const VmPaths& paths,
                                  const std::string& accel, int64_t tsc_khz) {
  const std::string machine = MachineFor(plan, image);
  const bool mmio = machine == "microvm";
  const std::string blk = mmio ? "virtio-blk-device" : "virtio-blk-pci";
  std::vector<std::string> a = {
      qemu,
      "-name",
      plan.ns + "/" + plan.name + ",debug-threads=on",
      "-machine",
      machine,
      "-accel",
      accel,
      "-cpu",
      accel == "kvm" ? "host" : "max",
      "-smp",
      std::to_string(plan.cpus),
      "-m",
      MiB(plan.memory_bytes),
      "-nodefaults",
      "-no-user-config",
      "-display",
      "none",
      // A guest reboot ends QEMU; the driver boots it again on the same disks
      // (microvm has no reliable reset; see the notes on reboot=t).
      "-no-reboot",
      "-qmp",
      "unix:" + paths.qmp_socket + ",server=on,wait=off",
      "-chardev",
      "socket,id=ser0,path=" + paths.serial_socket +
          ",server=on,wait=off,logfile=" + paths.console_log + ",logappend=on",
      "-serial",
      "chardev:ser0",
      "-pidfile",
      paths.pidfile,
  };
  if (!image.kernel.empty()) {
    a.insert(a.end(), {"-kernel", image.kernel});
    if (!image.initrd.empty()) a.insert(a.end(), {"-initrd", image.initrd});
    std::string cmdline = image.cmdline;
    if (mmio && tsc_khz > 0 && cmdline.find("tsc_early_khz=") == std::string::npos) {
      // Without it about 5% of microvm boots hang calibrating the TSC.
      cmdline +=
          (cmdline.empty() ? "" : " ") + std::string("tsc_early_khz=") + std::to_string(tsc_khz);
    }
    a.insert(a.end(), {"-append", cmdline});
  }
  for (size_t i = 0; i < plan.disks.size() && i < paths.disks.size(); ++i) {
    const std::string id = "disk-" + plan.disks[i].name;
    a.insert(a.end(), {"-drive", "id=" + id + ",file=" + paths.disks[i] +
                                     ",format=qcow2,if=none,discard=unmap"});
    std::string dev = blk + ",drive=" + id + ",serial=" + plan.disks[i].name;
    if (i == 0 && !mmio) dev += ",bootindex=0";
    a.insert(a.end(), {"-device", dev});
  }
  if (!paths.tap.empty()) {
    // No vhost: this machine kind has no /dev/vhost-net (QEMU aborts with it).
    a.insert(a.end(), {"-netdev", "tap,id=net0,ifname=" + paths.tap + ",script=no,downscript=no"});
    std::string dev = std::string(mmio ? "virtio-net-device" : "virtio-net-pci") +
                      ",netdev=net0,mac=" + paths.mac;
    // The guest's driver takes the MTU from the device (VIRTIO_NET_F_MTU), so
    // images that ignore network-config's mtu still fit the overlay's.
    if (paths.mtu > 0) dev += ",host_mtu=" + std::to_string(paths.mtu);
    a.insert(a.end(), {"-device", dev});
  }
  if (!paths.seed.empty()) {
    a.insert(a.end(), {"-drive", "id=seed,file=" + paths.seed + ",format=raw,if=none,readonly=on",
                       "-device", blk + ",drive=seed"});
  }
  return a;
}

}  // namespace lintel::drivers::qemu
