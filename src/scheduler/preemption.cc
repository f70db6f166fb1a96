#include "scheduler/preemption.h"

#include <algorithm>
#include <tuple>

#include "scheduler/affinity_state.h"
#include "scheduler/filters/chain.h"
#include "scheduler/filters/pinned.h"

namespace lintel::scheduler {

namespace {

using WorkloadPtr = std::shared_ptr<const WorkloadInfo>;

bool Evictable(const Placement& victim, const WorkloadInfo& w, const PreemptionOptions& options) {
  return victim.priority < w.priority &&
         (victim.kind == WorkloadKind::kPod || options.allow_vm_preemption);
}

bool Passes(Snapshot& snapshot, const WorkloadInfo& w, HostId host) {
  AffinityState affinity = PrepareAffinity(snapshot, w);
  return DynamicFilters(snapshot, w, affinity, host).empty();
}

void Restore(Snapshot& snapshot, const std::vector<WorkloadPtr>& workloads, HostId host) {
  for (const WorkloadPtr& p : workloads) {
    (void)snapshot.Assume(p, host);  // it was placed there a moment ago
  }
}

// The victims on `host` if evicting some lower-priority workloads lets `w` pass.
std::optional<std::vector<WorkloadPtr>> VictimsOn(Snapshot& snapshot, const WorkloadInfo& w,
                                                  HostId host, const PreemptionOptions& options) {
  // Cheap test first: could evicting every candidate free enough?
  Resources freed = snapshot.free(host);
  size_t evictable = 0;
  for (uint32_t slot : snapshot.slots_on(host)) {
    const Placement& p = snapshot.placement(slot);
    if (Evictable(p, w, options)) {
      freed += p.charge;
      ++evictable;
    }
  }
  if (evictable == 0 || !snapshot.ChargeOn(w, host).FitsIn(freed)) {
    return std::nullopt;
  }
  std::vector<WorkloadPtr> removable;
  for (uint32_t slot : snapshot.slots_on(host)) {
    const Placement& p = snapshot.placement(slot);
    if (Evictable(p, w, options)) {
      removable.push_back(p.workload);
    }
  }
  for (const WorkloadPtr& p : removable) {
    (void)snapshot.Forget(p->uid);
  }
  if (!Passes(snapshot, w, host)) {
    Restore(snapshot, removable, host);
    return std::nullopt;
  }
  std::sort(removable.begin(), removable.end(), [](const WorkloadPtr& a, const WorkloadPtr& b) {
    return a->priority != b->priority ? a->priority > b->priority : a->uid < b->uid;
  });
  std::vector<WorkloadPtr> victims;
  for (const WorkloadPtr& p : removable) {
    (void)snapshot.Assume(p, host);
    if (!Passes(snapshot, w, host)) {
      (void)snapshot.Forget(p->uid);
      victims.push_back(p);
    }
  }
  Restore(snapshot, victims, host);
  std::reverse(victims.begin(), victims.end());
  return victims;
}

}  // namespace

std::optional<PreemptionPlan> FindPreemption(Snapshot& snapshot, const WorkloadInfo& w,
                                             const PreemptionOptions& options) {
  std::optional<PreemptionPlan> best;
  std::tuple<int64_t, size_t, int64_t> best_key;
  const HostIndex& index = snapshot.index();
  for (uint32_t pos = 0; pos < index.size(); ++pos) {
    const HostId h = index.host_at(pos);
    const HostInfo& host = snapshot.host(h);
    if (!PinnedFilter(host, w).empty() || !StaticFilters(host, w).empty()) {
      continue;
    }
    auto victims = VictimsOn(snapshot, w, h, options);
    if (!victims) {
      continue;
    }
    int64_t max_priority = INT64_MIN;
    int64_t sum = 0;
    for (const WorkloadPtr& v : *victims) {
      max_priority = std::max<int64_t>(max_priority, v->priority);
      sum += v->priority;
    }
    auto key = std::make_tuple(max_priority, victims->size(), sum);
    if (!best || key < best_key) {
      best = PreemptionPlan{h, std::move(*victims)};
      best_key = key;
    }
  }
  return best;
}

}  // namespace lintel::scheduler
