// What a VirtualMachine's spec asks of QEMU, checked once (VmPlan), and the
// QEMU command line for it on this host (QemuArgv). Pure functions: no files,
// no processes, so they are unit-tested on their own.
//
//   spec ──ParseVmPlan──▶ VmPlan ──+ image, paths, accelerator──▶ QemuArgv
//
// Machine: microvm for an image with a kernel (direct kernel boot, virtio-mmio
// devices, ACPI power button), q35 with SeaBIOS for a disk with its own boot
// loader (virtio-pci). A spec's `machine` overrides the image's.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "drivers/driver.h"
#include "drivers/network.h"
#include "drivers/oci/pod_plan.h"

namespace lintel::drivers::qemu {

struct DiskPlan {
  std::string name;        // DNS label; "root" is the boot disk
  std::string image;       // clone of this VM image; "" for an empty disk
  int64_t size_bytes = 0;  // empty disks: their size; clones: at least this
  bool keep = false;       // survives the VM's deletion (reattached by name)
};

struct VmPlan {
  std::string ns, name, uid;
  int cpus = 1;
  int64_t memory_bytes = 256LL << 20;
  std::string image;            // the boot disk's image
  std::string run_strategy;     // Always, RerunOnFailure, Manual, Halted
  std::string accelerator;      // Auto, KVM, TCG
  std::string machine;          // "", microvm, q35 ("": the image's)
  std::vector<DiskPlan> disks;  // the boot disk first
  // cloud-init (NoCloud seed); `seed` false when the spec has none.
  bool seed = false;
  std::string user_data, network_data;
  std::vector<std::string> ssh_keys;
  // spec.readinessProbe against the guest's address (tcpSocket or httpGet).
  std::optional<oci::ProbeSpec> readiness;
};

// Checks and normalises the spec (quantities, names, limits). Invalid with a
// message naming the field.
Result<VmPlan> ParseVmPlan(const WorkloadSpec& spec);

// Where a VM's files are, decided by the driver.
struct VmPaths {
  std::vector<std::string> disks;  // per VmPlan::disks, same order
  std::string seed;                // "" without one
  std::string qmp_socket, serial_socket, console_log, pidfile;
  // The NIC on the estate network: a tap made by the agent ("" none).
  std::string tap, mac;
  int mtu = 0;
};

struct BootImage {
  std::string kernel, initrd, cmdline;  // kernel "" boots the disk's loader
  std::string machine;                  // the image's: microvm or q35
};

// The full argv (argv[0] = `qemu`). `accel` is "kvm" or "tcg"; `tsc_khz` is
// the host TSC frequency microvm guests need to be told (0: not added).
std::vector<std::string> QemuArgv(const std::string& qemu, const VmPlan& plan,
                                  const BootImage& image, const VmPaths& paths,
                                  const std::string& accel, int64_t tsc_khz);

// The NoCloud network-config (netplan v2) for the estate address: a static
// address, the gateway, the MTU and the host's DNS, matched by MAC.
std::string EstateNetworkConfig(const NetworkInterface& net);

// The machine a plan runs on: the spec's, else the image's, else microvm
// with a kernel and q35 without.
std::string MachineFor(const VmPlan& plan, const BootImage& image);

}  // namespace lintel::drivers::qemu
