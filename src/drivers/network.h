// WorkloadNetwork: how a driver connects a workload to the estate network
// without knowing how the network is built. The agent implements it (over
// src/net: the host's bridge, veth pairs, taps, the address pool); drivers
// call it while starting and destroying a workload. A driver without one
// runs workloads with loopback only (Pods) or no NIC (VMs).
//
//   Pod:  sandbox netns made ──AttachNetns──▶ eth0 in it, address, route
//   VM:   before QEMU starts ──AttachTap──▶ a tap on the bridge; the guest
//         learns its address from the NoCloud network-config
//   both: destroyed ──Detach──▶ interface removed, address freed
//
// Threading: thread-safe; calls may block briefly (netlink, an fsync of the
// address pool). Never called twice at once for one uid (the agent's pool
// serialises a workload's operations).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "drivers/driver.h"

namespace lintel::drivers {

// What a workload got on the estate network.
struct NetworkInterface {
  std::string host_interface;  // the host side: a veth (Pods) or a tap (VMs)
  std::string ip;              // the workload's address
  int prefix = 0;              // its prefix length (the estate's range)
  std::string gateway;         // the host's bridge address
  std::string mac;             // the workload side's MAC
  int mtu = 0;
  std::vector<std::string> nameservers;  // the host's DNS responder
  std::vector<std::string> search;       // DNS search domains (NS.svc, svc)
  bool operator==(const NetworkInterface&) const = default;
};

class WorkloadNetwork {
 public:
  virtual ~WorkloadNetwork() = default;
  // Gives the Pod an address (the one it holds, if any) and connects the
  // network namespace at `netns_path` to the host. Unavailable while the
  // host has no address range yet (the agent retries).
  virtual Result<NetworkInterface> AttachNetns(const WorkloadSpec& workload,
                                               const std::string& netns_path) = 0;
  // Gives the VM an address and a tap for QEMU (kept if it exists: a running
  // QEMU may hold it). Unavailable as above.
  virtual Result<NetworkInterface> AttachTap(const WorkloadSpec& workload) = 0;
  // What `uid` holds, without changing anything (a driver re-adopting a
  // workload after an agent restart); nullopt if nothing.
  virtual std::optional<NetworkInterface> Lookup(const std::string& uid) const = 0;
  // Removes the workload's interface and frees its address. OK if none.
  virtual Status Detach(const std::string& uid) = 0;
};

}  // namespace lintel::drivers
