#include "scheduler/scores/weighted_sum.h"

#include "scheduler/scores/balance.h"
#include "scheduler/scores/host_affinity.h"
#include "scheduler/scores/normalize.h"
#include "scheduler/scores/resource_policy.h"
#include "scheduler/scores/taint_preference.h"
#include "scheduler/scores/workload_affinity.h"

namespace lintel::scheduler {

std::vector<int64_t> ScoreCandidates(const Snapshot& snapshot, const WorkloadInfo& w,
                                     const AffinityState& affinity,
                                     std::span<const HostId> candidates,
                                     const ScoreWeights& weights) {
  const size_t n = candidates.size();
  std::vector<int64_t> total(n, 0);
  bool any_taints = false;
  for (size_t i = 0; i < n; ++i) {
    const HostId h = candidates[i];
    const HostInfo& host = snapshot.host(h);
    const Resources charge = snapshot.ChargeOn(w, h);
    total[i] = weights.policy * PolicyScore(w.policy, host.allocatable, snapshot.used(h), charge) +
               weights.balance * BalanceScore(host.allocatable, snapshot.used(h) + charge);
    any_taints = any_taints || !host.taints.empty();
  }
  std::vector<int64_t> raw(n);
  auto add = [&](int64_t weight) {
    for (size_t i = 0; i < n; ++i) {
      total[i] += weight * raw[i];
    }
  };
  if (any_taints) {
    for (size_t i = 0; i < n; ++i) {
      raw[i] = UntoleratedPreferNoSchedule(snapshot.host(candidates[i]), w);
    }
    NormalizeByMax(raw, /*reverse=*/true);
    add(weights.taint);
  }
  if (!w.preferred_host_terms.empty()) {
    for (size_t i = 0; i < n; ++i) {
      raw[i] = HostAffinityRaw(snapshot.host(candidates[i]), w);
    }
    NormalizeByMax(raw, /*reverse=*/false);
    add(weights.host_affinity);
  }
  if (!affinity.preferred.empty()) {
    for (size_t i = 0; i < n; ++i) {
      raw[i] = WorkloadAffinityRaw(snapshot, affinity, candidates[i]);
    }
    NormalizeMinMax(raw);
    add(weights.workload_affinity);
  }
  return total;
}

size_t PickBest(const Snapshot& snapshot, const WorkloadInfo& w, const AffinityState& affinity,
                std::span<const HostId> candidates, const ScoreWeights& weights) {
  std::vector<int64_t> total = ScoreCandidates(snapshot, w, affinity, candidates, weights);
  size_t best = 0;
  for (size_t i = 1; i < total.size(); ++i) {
    if (total[i] > total[best]) {
      best = i;
    }
  }
  return best;
}

}  // namespace lintel::scheduler
