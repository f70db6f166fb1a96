// Diagnosis: the exhaustive path. Runs every filter on every host (in HostIndex order),
// returning the feasible hosts and, per reason, how many hosts failed with it first; and
// formats kube's unschedulable message from the counts:
//
//   0/12 hosts available: 8 insufficient memory, 4 untolerated taint.
//
// Used when the index search found nothing (to explain why, or to find what a truncated
// search missed) and in exhaustive mode. O(hosts); one thread per Snapshot.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "scheduler/affinity_state.h"
#include "scheduler/snapshot.h"

namespace lintel::scheduler {

struct ReasonCount {
  std::string reason;
  int64_t hosts = 0;
  bool operator==(const ReasonCount&) const = default;
};

struct Diagnosis {
  std::vector<HostId> feasible;      // in index order
  std::vector<ReasonCount> reasons;  // most hosts first, then by reason
};

Diagnosis Diagnose(Snapshot& snapshot, const WorkloadInfo& w, const AffinityState& affinity);

// "0/<hosts> hosts available: <n> <reason>, ...." ("0/0 hosts available." with no hosts).
std::string UnschedulableMessage(size_t hosts, const std::vector<ReasonCount>& reasons);

}  // namespace lintel::scheduler
