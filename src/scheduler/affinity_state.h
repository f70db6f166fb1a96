// AffinityState: what a workload's (anti-)affinity means on this snapshot, computed once
// per decision (kube's PreFilter/PreScore state) so that checking a host is a lookup of
// the host's topology value:
//
//   required[i]   domains (values of term i's topologyKey) that hold a workload matching
//                 required affinity term i; a host must be in one for every term, unless
//                 first_of_group (nothing matches yet and the workload matches its own
//                 terms: the first replica of a co-located group goes anywhere, as in kube)
//   forbidden     per topologyKey, domains holding a workload that the incoming one's
//                 required anti-affinity selects, or whose own required anti-affinity
//                 selects the incoming one (symmetry, as kube enforces it)
//   preferred     per topologyKey, domain -> sum of weights (+affinity, -anti-affinity)
//                 over matching placed workloads
//
// Matching looks at Pods and VirtualMachines alike. Values are views into the
// Snapshot's host labels: valid until a host is changed. One thread, like the Snapshot.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "scheduler/model.h"
#include "scheduler/snapshot.h"

namespace lintel::scheduler {

struct DomainSet {
  std::string key;
  std::vector<std::string_view> values;  // sorted, unique
  bool Contains(std::string_view value) const;
};

struct WeightedDomains {
  std::string key;
  std::vector<std::pair<std::string_view, int64_t>> weights;  // sorted by value, unique
  int64_t WeightOf(std::string_view value) const;
};

struct AffinityState {
  std::vector<DomainSet> required;
  bool first_of_group = false;
  std::vector<DomainSet> forbidden;
  std::vector<WeightedDomains> preferred;
};

AffinityState PrepareAffinity(const Snapshot& snapshot, const WorkloadInfo& w);

// Whether `other` is in the term's namespaces (default `owner_ns`) and matches its
// selector.
bool TermSelects(const WorkloadTerm& term, std::string_view owner_ns, const WorkloadInfo& other);

}  // namespace lintel::scheduler
