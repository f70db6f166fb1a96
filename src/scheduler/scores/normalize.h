// Normalizations over the candidate hosts of one decision, as kube's score plugins do.
// Pure.
#pragma once

#include <cstdint>
#include <span>

namespace lintel::scheduler {

// raw / max * kMaxScore (all 0 when max <= 0); reversed: kMaxScore minus that.
void NormalizeByMax(std::span<int64_t> scores, bool reverse);
// (raw - min) / (max - min) * kMaxScore (all 0 when max == min).
void NormalizeMinMax(std::span<int64_t> scores);

}  // namespace lintel::scheduler
