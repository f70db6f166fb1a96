// HostNetwork: this host's part of the estate network, one L2 segment across
// hosts. It owns a bridge with the host's gateway address, a VXLAN device
// that floods to the other hosts, a route for the Service range, and one
// interface per workload on the bridge:
//
//   Pod netns: eth0 ══ veth ══ lvXXXXXXXX ─┐
//   QEMU:     (tap fd) ─────── ltXXXXXXXX ─┼─ lintel0 (10.244.3.1/16) ── 10.96.0.0/16 route
//                                          └─ lintel.vx (VNI 4242) ══ UDP 4789 ══ other hosts
//
// XXXXXXXX is FNV-1a-32 of the owner (a workload uid), so the interfaces of
// an owner are found again after a crash; a workload's MAC is 52:54 followed
// by its IPv4 address, the bridge's that of the gateway (fixed, so that it
// does not follow its ports).
//
// Network namespace: every call acts on the network namespace of the calling
// thread (the netlink socket, /dev/net/tun and /proc/sys are opened per call
// from it), so the agent calls from threads in one namespace (normally the
// host's; a test runs it on a thread that has setns()ed into a test netns).
// Threading: thread-safe; one mutex serialises calls, each of which blocks
// for a few netlink round trips.
#pragma once

#include <cstdint>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "common/cidr.h"
#include "common/status.h"
#include "common/thread_annotations.h"

namespace lintel::net {

class Netlink;

struct HostNetworkConfig {
  std::string bridge = "lintel0";
  std::string vxlan = "lintel.vx";
  Cidr cluster_range;                 // 10.244.0.0/16
  Cidr host_range;                    // 10.244.3.0/24 (inside cluster_range)
  std::optional<Cidr> service_range;  // 10.96.0.0/16: routed to the bridge
  std::string vtep_ip;                // this host's underlay address; empty: no VXLAN
  uint32_t vni = 4242;
  uint16_t vxlan_port = 4789;
  int mtu = 1450;
};

// What a workload got.
struct Attachment {
  std::string host_interface;  // lvXXXXXXXX or ltXXXXXXXX
  std::string mac;             // the workload side's MAC (52:54:..)
  Ipv4 ip;
  int prefix = 0;  // the cluster prefix
  Ipv4 gateway;    // host_range.Nth(1)
  int mtu = 0;
};

class HostNetwork {
 public:
  static constexpr std::string_view kVethPrefix = "lv";
  static constexpr std::string_view kTapPrefix = "lt";

  explicit HostNetwork(HostNetworkConfig config);

  const HostNetworkConfig& config() const { return config_; }

  // Creates or repairs the bridge (MAC, address host_range.Nth(1)/cluster
  // prefix, MTU, up), the VXLAN (if vtep_ip; removed otherwise; recreated if
  // its VNI, port or local address changed, and then given the last peers
  // again), the Service route, and sets net.ipv4.ip_forward=1. Idempotent; a
  // changed host_range replaces the bridge address. BadRequest for an
  // invalid config; AlreadyExists/Conflict when a foreign interface has one
  // of the names; Internal/Forbidden for netlink failures.
  Status Setup();
  // The VXLAN's flood list becomes exactly `vtep_ips` (this host's own
  // address is ignored); idempotent. BadRequest for a bad address or when
  // vtep_ip is empty and `vtep_ips` is not; Unavailable before Setup.
  Status SetPeers(const std::vector<std::string>& vtep_ips);
  // Pod: a veth lvXXXXXXXX on the bridge (hairpin on, up) whose peer is eth0
  // in the netns at `netns_path` (MAC, MTU, ip/cluster prefix, up, lo up,
  // default route via the gateway). An existing lvXXXXXXXX of the owner (and
  // a veth eth0 in the netns) is deleted and recreated. Unavailable before
  // Setup; NotFound when the netns file is missing; BadRequest when `ip` is
  // outside the cluster range. Nothing is left behind on failure.
  Result<Attachment> AttachNetns(const std::string& owner, const std::string& netns_path, Ipv4 ip);
  // VM: a persistent tap ltXXXXXXXX on the bridge (hairpin on), up, for QEMU to open by
  // name. An existing tap of the owner is kept (a running QEMU may hold it).
  Result<Attachment> AttachTap(const std::string& owner, Ipv4 ip);
  // Removes the owner's host interface (veth or tap); OK if there is none.
  Status Detach(const std::string& owner);
  // Removes every lv*/lt* interface whose owner is not in `owners` (after a
  // crash); returns how many it removed.
  Result<int> RemoveAllExcept(const std::set<std::string>& owners);
  // Removes everything Setup and Attach* created (the route goes with the
  // bridge); ip_forward stays on.
  Status Teardown();

  // prefix + 8 lower-case hex digits of FNV-1a-32(owner): "lv1a2b3c4d".
  static std::string HostInterfaceName(std::string_view prefix, const std::string& owner);
  // "52:54:0a:f4:03:05" for 10.244.3.5.
  static std::string MacFor(Ipv4 ip);
  // Whether `name` has the form of HostInterfaceName (either prefix).
  static bool IsHostInterfaceName(std::string_view name);

 private:
  Status Validate() const;
  Ipv4 Gateway() const;
  Status SetupLocked() LINTEL_REQUIRES(mu_);
  Result<int> BridgeIndex(Netlink& nl) const;  // Unavailable if there is no bridge
  Result<int> EnsureBridge(Netlink& nl) const;
  Status EnsureBridgeAddress(Netlink& nl, int bridge) const;
  Status EnsureVxlan(Netlink& nl, int bridge) LINTEL_REQUIRES(mu_);
  Status EnsureServiceRoute(Netlink& nl, int bridge) const;
  static Status ApplyPeers(Netlink& nl, int vxlan, const std::set<Ipv4>& want);
  static Status ConfigurePodSide(Netlink& pod, const Attachment& a);
  static Result<int> RemoveOrphans(Netlink& nl, const std::set<std::string>& owners);

  const HostNetworkConfig config_;
  std::optional<Ipv4> vtep_;  // config_.vtep_ip parsed; set by the constructor if valid
  std::mutex mu_;
  std::set<Ipv4> peers_ LINTEL_GUARDED_BY(mu_);  // the last SetPeers, for a recreated VXLAN
};

}  // namespace lintel::net
