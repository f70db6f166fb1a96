// What a filter returns. Each filter (one per file in this folder) is a pure function of
// a host and the workload (and, for the dynamic ones, the Snapshot and the per-decision
// AffinityState); chain.h runs them in kube's order.
#pragma once

#include <string_view>

namespace lintel::scheduler {

// Empty when the host passes; otherwise a short reason, a string literal, counted per
// host in the unschedulable message ("0/12 hosts available: 8 insufficient memory, ...").
using Reason = std::string_view;
inline constexpr Reason kPass{};

}  // namespace lintel::scheduler
