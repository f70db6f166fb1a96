// Candidate search: a few feasible hosts for one workload, found through the HostIndex
// instead of by filtering every host (kube's percentageOfNodesToScore, but ordered):
//
//   required affinity   hosts of the allowed domains, enumerated directly (small sets)
//   policy pass         bin-pack: first fit from the largest host (HostIndex::FirstFit);
//                       spread: emptiest first (HostIndex::MostFree); `want` hosts
//   preference passes   `want` more from each preferred host term's mask, from the domains
//                       preferred affinity favours, and from outside the domains preferred
//                       anti-affinity disfavours, so that scoring can honour them
//
// Every host returned passed all filters. The index visits only hosts with room and a
// static-mask bit; the dynamic filters (exact fit, affinity) run on those. A pass that
// rejects `max_rejections` hosts stops and marks the search truncated; the scheduler then
// falls back to a full scan, so a truncated search never makes a workload unschedulable.
// One thread per Snapshot.
#pragma once

#include <vector>

#include "scheduler/affinity_state.h"
#include "scheduler/snapshot.h"
#include "scheduler/static_masks.h"

namespace lintel::scheduler {

struct CandidateOptions {
  int want = 8;
  int max_rejections = 1024;
  // Enumerate a required affinity term's domains when they hold at most this many hosts.
  int max_domain_hosts = 4096;
};

struct Candidates {
  std::vector<HostId> hosts;  // feasible, distinct, in search order
  bool truncated = false;
};

Candidates FindCandidates(Snapshot& snapshot, StaticMasks& masks, const WorkloadInfo& w,
                          const AffinityState& affinity, const CandidateOptions& options);

}  // namespace lintel::scheduler
