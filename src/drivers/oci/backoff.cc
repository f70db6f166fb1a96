#include "drivers/oci/backoff.h"

#include <algorithm>

namespace lintel::drivers::oci {

std::chrono::milliseconds BackoffDelay(const BackoffPolicy& policy, int consecutive) {
  if (consecutive <= 0) return std::chrono::milliseconds(0);
  std::chrono::milliseconds d = policy.initial;
  for (int i = 1; i < consecutive && d < policy.max; ++i) d *= 2;
  return std::min(d, policy.max);
}

int NextConsecutive(const BackoffPolicy& policy, int previous, std::chrono::milliseconds ran) {
  if (ran >= policy.reset_after) return 1;
  return previous + 1;
}

}  // namespace lintel::drivers::oci
