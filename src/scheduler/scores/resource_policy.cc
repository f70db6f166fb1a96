#include "scheduler/scores/resource_policy.h"

#include <algorithm>

#include "scheduler/scores/score.h"

namespace lintel::scheduler {

int64_t UsedShare(int64_t used, int64_t allocatable) {
  if (allocatable <= 0) {
    return kMaxScore;
  }
  used = std::clamp<int64_t>(used, 0, allocatable);
  return static_cast<int64_t>(static_cast<__int128>(used) * kMaxScore / allocatable);
}

int64_t PolicyScore(Policy policy, const Resources& allocatable, const Resources& used,
                    const Resources& charge) {
  const Resources after = used + charge;
  const int64_t share =
      (UsedShare(after.cpu, allocatable.cpu) + UsedShare(after.memory, allocatable.memory)) / 2;
  if (policy == Policy::kSpread) {
    return kMaxScore - share;
  }
  const bool in_use = used.cpu > 0 || used.memory > 0 || used.pods > 0 || used.vms > 0;
  return in_use ? kMaxScore / 2 + share / 2 : 0;
}

}  // namespace lintel::scheduler
