// Scores the candidate hosts of one decision: every score of this folder, normalized over
// the candidates where the score says so, times its weight, summed. Pure; one thread per
// Snapshot.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "scheduler/affinity_state.h"
#include "scheduler/scores/score.h"
#include "scheduler/snapshot.h"

namespace lintel::scheduler {

// Total score per candidate, in the candidates' order.
std::vector<int64_t> ScoreCandidates(const Snapshot& snapshot, const WorkloadInfo& w,
                                     const AffinityState& affinity,
                                     std::span<const HostId> candidates,
                                     const ScoreWeights& weights);
// The index of the best candidate (the first among equals); candidates must not be empty.
size_t PickBest(const Snapshot& snapshot, const WorkloadInfo& w, const AffinityState& affinity,
                std::span<const HostId> candidates, const ScoreWeights& weights);

}  // namespace lintel::scheduler
