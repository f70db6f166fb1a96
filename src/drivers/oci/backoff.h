// Restart back-off, as the kubelet's: the n-th restart in a row waits
// initial * 2^(n-1), capped at `max`; a container that ran for `reset_after`
// before it exited starts the count again. Image pulls back off the same way.
//
// Pure; any thread.
#pragma once

#include <chrono>

namespace lintel::drivers::oci {

struct BackoffPolicy {
  std::chrono::milliseconds initial{10'000};
  std::chrono::milliseconds max{300'000};
  std::chrono::milliseconds reset_after{600'000};
};

// The wait before restart number `consecutive` (1 for the first) of a row.
std::chrono::milliseconds BackoffDelay(const BackoffPolicy& policy, int consecutive);

// The count of restarts in a row after an instance that ran `ran` and was the
// `previous`-th of its row.
int NextConsecutive(const BackoffPolicy& policy, int previous, std::chrono::milliseconds ran);

}  // namespace lintel::drivers::oci
