// Service rules for nftables: renders a host's whole `table ip <table>` from the
// Services it must serve, as one nft script that replaces the table atomically
// (NftTable::Apply runs it). A pure function of its inputs, so equal inputs give
// equal text and the agent can skip applies that would change nothing.
//
// What the table does (one table; no other table is touched):
//   nat prerouting (dstnat) and nat output (-100) jump to `services`, which has
//     one DNAT rule per Service port with ready backends: VIP:port to one
//     backend's ip and port, round robin (`numgen inc`) or by client address
//     (`jhash ip saddr`) for client_ip_affinity.
//   filter input/forward/output (priority filter, policy accept) jump to
//     `reject_services`: a Service port without ready backends, a port no
//     Service defines on a VIP, and any other address of the Service range are
//     rejected (TCP reset, ICMP port unreachable otherwise). DNAT'd traffic no
//     longer carries a VIP when it reaches these hooks, so it passes.
//   nat postrouting (srcnat): masquerade what we DNAT'd (hairpin and replies
//     from backends on other hosts come back through this host) and, if
//     configured, cluster traffic leaving the cluster range other than through
//     the bridge.
//
// Thread-safety: pure functions; any thread.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/cidr.h"

namespace lintel::net {

struct ServiceBackend {
  Ipv4 ip;
  uint16_t port = 0;
  auto operator<=>(const ServiceBackend&) const = default;
};

struct ServicePortRule {
  std::string protocol = "tcp";  // "tcp", "udp" or "sctp" (any case); others are skipped
  uint16_t port = 0;
  std::vector<ServiceBackend> backends;  // ready backends only; order does not matter
};

struct ServiceRule {
  std::string ns, name;
  Ipv4 cluster_ip;  // 0.0.0.0 (headless): the Service is skipped
  bool client_ip_affinity = false;
  std::vector<ServicePortRule> ports;
};

struct NetRulesConfig {
  Cidr cluster_range;
  Cidr service_range;
  std::string bridge = "lintel0";
  std::string table = "lintel";  // `table ip <table>`; tests use their own name
  bool masquerade_outbound = true;
};

// The whole table as an nft script that creates or replaces it atomically when
// run as one buffer (`table ip T {}`, `delete table ip T`, `table ip T { ... }`).
// Services are sorted by ns/name, their ports by port and protocol, backends by
// ip and port (duplicates dropped), so the text depends only on the sets given.
// Never fails: entries it cannot render (unknown protocol, port 0, backend port
// 0, headless Service) are left out with a `#` comment line saying so.
std::string RenderRules(const NetRulesConfig& config, const std::vector<ServiceRule>& services);

}  // namespace lintel::net
