#include "scheduler/scheduler.h"

#include <algorithm>
#include <numeric>

#include "scheduler/affinity_state.h"
#include "scheduler/filters/chain.h"
#include "scheduler/scores/weighted_sum.h"

namespace lintel::scheduler {

Scheduler::Scheduler(SchedulerOptions options) : options_(options) {}

std::vector<Decision> Scheduler::ScheduleBatch(Snapshot& snapshot,
                                               std::span<const WorkloadInfo> workloads) {
  std::vector<size_t> order(workloads.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return workloads[a].priority > workloads[b].priority;
  });
  std::vector<Decision> decisions(workloads.size());
  for (size_t i : order) {
    decisions[i] = Schedule(snapshot, workloads[i]);
  }
  return decisions;
}

std::vector<HostId> Scheduler::Candidates(Snapshot& snapshot, const WorkloadInfo& w,
                                          const AffinityState& affinity, Diagnosis* diagnosis,
                                          bool* diagnosed) {
  if (!w.pinned_host.empty()) {
    auto id = snapshot.FindHost(w.pinned_host);
    if (id && RunFilters(snapshot, w, affinity, *id).empty()) {
      return {*id};
    }
    return {};
  }
  if (!options_.exhaustive) {
    CandidateOptions co;
    co.want = std::max(options_.candidates, 1);
    co.max_rejections = std::max(options_.max_rejections, 1);
    auto found = FindCandidates(snapshot, masks_, w, affinity, co);
    if (!found.hosts.empty() || !found.truncated) {
      return std::move(found.hosts);
    }
  }
  *diagnosis = Diagnose(snapshot, w, affinity);
  *diagnosed = true;
  return diagnosis->feasible;
}

bool Scheduler::Preempt(Snapshot& snapshot, const WorkloadInfo& w, Decision* d) {
  auto plan = FindPreemption(snapshot, w, {options_.allow_vm_preemption});
  if (!plan) {
    return false;
  }
  for (const auto& v : plan->victims) {
    d->victims.push_back({v->uid, v->Key(), v->kind, v->priority});
    (void)snapshot.Forget(v->uid);  // placed: FindPreemption just saw it
  }
  if (!snapshot.Assume(w, plan->host).ok()) {
    return false;  // unreachable: the uid was not placed
  }
  d->host = snapshot.host(plan->host).name;
  if (!d->victims.empty()) {
    d->message = "preempting " + std::to_string(d->victims.size()) + " workload" +
                 (d->victims.size() == 1 ? "" : "s") + " on " + d->host;
  }
  return true;
}

Decision Scheduler::Schedule(Snapshot& snapshot, const WorkloadInfo& w) {
  Decision d;
  d.uid = w.uid;
  d.key = w.Key();
  if (const Placement* p = snapshot.Find(w.uid)) {
    d.host = snapshot.host(p->host).name;
    d.message = "already placed";
    return d;
  }
  if (w.uid.empty()) {
    d.message = "workload has no uid";
    return d;
  }
  masks_.Trim(snapshot);
  AffinityState affinity = PrepareAffinity(snapshot, w);
  Diagnosis diagnosis;
  bool diagnosed = false;
  std::vector<HostId> candidates = Candidates(snapshot, w, affinity, &diagnosis, &diagnosed);
  if (candidates.empty()) {
    if (!diagnosed) {
      diagnosis = Diagnose(snapshot, w, affinity);
    }
    if (options_.preemption && Preempt(snapshot, w, &d)) {
      return d;
    }
    d.reasons = std::move(diagnosis.reasons);
    d.message = UnschedulableMessage(snapshot.host_count(), d.reasons);
    return d;
  }
  size_t best = PickBest(snapshot, w, affinity, candidates, options_.weights);
  const HostId host = candidates[best];
  if (!snapshot.Assume(w, host).ok()) {
    d.message = "internal: assume failed";  // unreachable: checked above
    return d;
  }
  d.host = snapshot.host(host).name;
  return d;
}

Reason CheckPlacement(const Snapshot& snapshot, const WorkloadInfo& w, HostId host) {
  AffinityState affinity = PrepareAffinity(snapshot, w);
  return RunFilters(snapshot, w, affinity, host);
}

}  // namespace lintel::scheduler
