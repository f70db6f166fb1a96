#include "scheduler/scores/balance.h"

#include <cstdlib>

#include "scheduler/scores/resource_policy.h"
#include "scheduler/scores/score.h"

namespace lintel::scheduler {

int64_t BalanceScore(const Resources& allocatable, const Resources& used_after) {
  int64_t cpu = UsedShare(used_after.cpu, allocatable.cpu);
  int64_t memory = UsedShare(used_after.memory, allocatable.memory);
  // With two fractions the standard deviation is half their difference.
  return kMaxScore - std::llabs(cpu - memory) / 2;
}

}  // namespace lintel::scheduler
