// StaticMasks: for each distinct workload "shape" (kind, capabilities, tolerations, host
// selector, required host terms) the set of hosts that pass the static filters
// (filters/chain.h), as one bit per HostIndex position. Computed with one pass over the
// hosts the first time a shape is seen, then reused until the Snapshot's hosts change
// (static_epoch). The HostIndex searches prune 64-host blocks with the mask.
//
// Owned by a Scheduler; one thread.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "apimachinery/labels.h"
#include "scheduler/model.h"
#include "scheduler/snapshot.h"
#include "scheduler/string_map.h"

namespace lintel::scheduler {

class StaticMasks {
 public:
  // The mask for `w`; with `extra`, only hosts whose labels it also matches (a preferred
  // host term). The reference stays valid until the next Trim().
  const std::vector<uint64_t>& Get(Snapshot& snapshot, const WorkloadInfo& w,
                                   const apimachinery::LabelSelector* extra = nullptr);
  // Drops every mask when the hosts changed or more than `max_masks` are kept.
  void Trim(const Snapshot& snapshot, size_t max_masks = 4096);
  size_t size() const { return masks_.size(); }

 private:
  uint64_t epoch_ = 0;
  StringMap<std::vector<uint64_t>> masks_;
  std::string key_;  // scratch, reused
};

// Appends `w`'s shape to `out`: equal shapes pass the same static filters on every host.
void AppendStaticSignature(const WorkloadInfo& w, std::string* out);

}  // namespace lintel::scheduler
