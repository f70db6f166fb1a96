// Bin-pack or spread, per the workload's policy. `share` is the mean over cpu and memory of
// the fraction of the host allocated after placing the workload (a resource the host lacks
// counts as full).
//
//   spread    kMaxScore - share (kube's LeastAllocated)
//   bin-pack  kMaxScore/2 + share/2 on a host already in use, 0 on an empty one
//
// Bin-pack is kube's MostAllocated with one change: a host in use always outranks an
// empty one, and empty hosts tie, so the index order (largest first) decides. With plain
// MostAllocated a small empty host looks fuller than a large, lightly used one, and the
// scheduler opens hosts it does not need (README.md, "Quality"). Pure.
#pragma once

#include <cstdint>

#include "scheduler/model.h"

namespace lintel::scheduler {

// 0..kMaxScore: the share of `allocatable` that `used` takes (at most kMaxScore).
int64_t UsedShare(int64_t used, int64_t allocatable);
// `used` is what the host has used so far; `charge` the workload's charge there.
int64_t PolicyScore(Policy policy, const Resources& allocatable, const Resources& used,
                    const Resources& charge);

}  // namespace lintel::scheduler
