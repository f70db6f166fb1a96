// Scores rank the hosts that passed the filters. Each score (one per file in this folder)
// gives a host 0..kMaxScore, directly or after normalization over the candidates
// (normalize.h); weighted_sum.h adds them with ScoreWeights and picks the best, ties going
// to the earlier candidate (the index's order: largest host first for bin-pack, emptiest
// first for spread). Pure; one thread per Snapshot.
#pragma once

#include <cstdint>

namespace lintel::scheduler {

inline constexpr int64_t kMaxScore = 10000;

// Kube's defaults, except that the bin-pack/spread policy weighs twice balance so that
// packing wins over balance among nearly-as-full hosts (see README.md, "Quality").
struct ScoreWeights {
  int64_t policy = 2;             // bin-pack (most allocated) or spread (least allocated)
  int64_t balance = 1;            // cpu and memory used in the same proportion
  int64_t host_affinity = 2;      // preferred host affinity
  int64_t workload_affinity = 2;  // preferred workload affinity and anti-affinity
  int64_t taint = 3;              // PreferNoSchedule taints not tolerated
};

}  // namespace lintel::scheduler
