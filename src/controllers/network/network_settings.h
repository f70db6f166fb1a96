// NetworkSettings: the estate network's address plan, set on the server: the
// cluster range (one slice of it per Host, for that host's workloads), the
// size of a Host's slice, and the Service range (virtual IPs). Checked once
// at start-up (ParseNetworkSettings); plain values afterwards, any thread.
#pragma once

#include <string>

#include "common/cidr.h"
#include "common/status.h"

namespace lintel::controllers::network {

struct NetworkSettings {
  // Workload addresses: every Host gets a /host_cidr_prefix of it.
  std::string cluster_cidr = "10.244.0.0/16";
  int host_cidr_prefix = 24;
  // Service virtual IPs.
  std::string service_cidr = "10.96.0.0/16";
};

// The settings parsed and checked.
struct NetworkRanges {
  Cidr cluster;
  int host_prefix = 24;
  Cidr service;
};

// BadRequest, naming the setting, when a range does not parse, is not a
// network address (10.244.1.0/16), is too small, when the host size does not
// fit the cluster range, or when the cluster and Service ranges overlap.
Result<NetworkRanges> ParseNetworkSettings(const NetworkSettings& settings);

}  // namespace lintel::controllers::network
