// Balance: prefer hosts where cpu and memory end up used in the same proportion, so that
// neither is stranded (kube's BalancedAllocation: 1 - standard deviation of the two
// fractions). Pure.
#pragma once

#include <cstdint>

#include "scheduler/model.h"

namespace lintel::scheduler {

// 0..kMaxScore; `used_after` includes the workload's charge.
int64_t BalanceScore(const Resources& allocatable, const Resources& used_after);

}  // namespace lintel::scheduler
