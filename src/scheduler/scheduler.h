// Scheduler: the batch decision loop. For each workload, highest priority first:
//
//   already placed? -> prepare affinity -> candidates (index search; pinned: that host)
//        -> none? -> full scan (Diagnose) -> none? -> preemption -> none? -> unschedulable
//        -> score candidates -> Assume() the winner
//
// Each winner is assumed into the Snapshot at once, so later decisions in the batch see
// the capacity and the affinity domains earlier ones took. The Scheduler computes a plan;
// applying it (evict the victims, bind with an optimistic write, Forget() on conflict) is
// the caller's job, as is re-checking a decision computed on another copy of the state
// (CheckPlacement).
//
// A Scheduler keeps caches (static filter masks) tied to the Snapshot's hosts; it is not
// thread-safe, and runs on the thread that owns the Snapshot. Several threads may each
// run their own Scheduler on their own Snapshot copy.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "scheduler/candidates.h"
#include "scheduler/diagnosis.h"
#include "scheduler/filters/filter.h"
#include "scheduler/model.h"
#include "scheduler/preemption.h"
#include "scheduler/scores/score.h"
#include "scheduler/snapshot.h"
#include "scheduler/static_masks.h"

namespace lintel::scheduler {

struct SchedulerOptions {
  // Feasible hosts scored per decision and per preference pass (candidates.h). Higher is
  // closer to scoring every host and slower; README.md, "Quality", has the measurements.
  int candidates = 8;
  // Hosts a search may reject before the decision falls back to a full scan.
  int max_rejections = 1024;
  // Score every feasible host (kube's percentageOfNodesToScore = 100): O(hosts) a
  // decision. For tests and quality comparisons.
  bool exhaustive = false;
  bool preemption = true;
  bool allow_vm_preemption = false;
  ScoreWeights weights;
};

struct Victim {
  std::string uid;
  std::string key;  // namespace/name
  WorkloadKind kind = WorkloadKind::kPod;
  int32_t priority = 0;
};

struct Decision {
  std::string uid;
  std::string key;   // namespace/name
  std::string host;  // empty: unschedulable
  // Unschedulable: kube's "0/12 hosts available: 8 insufficient memory, ...". Otherwise
  // empty, or a note ("preempting 2 workloads", "already placed").
  std::string message;
  std::vector<ReasonCount> reasons;  // per reason, the hosts that failed with it first
  std::vector<Victim> victims;       // evict these, then bind to host
  bool scheduled() const { return !host.empty(); }
};

class Scheduler {
 public:
  explicit Scheduler(SchedulerOptions options = {});

  // Decides for every workload, in priority order (higher first; equal priorities keep
  // the input order, which callers make creation order), assuming each placement (and
  // forgetting each victim) in `snapshot` as it goes. Returns one Decision per workload,
  // in the input order. A workload whose uid is already placed gets its current host and
  // the message "already placed".
  std::vector<Decision> ScheduleBatch(Snapshot& snapshot, std::span<const WorkloadInfo> workloads);
  // One decision, assumed into `snapshot` when a host is found.
  Decision Schedule(Snapshot& snapshot, const WorkloadInfo& w);

  const SchedulerOptions& options() const { return options_; }

 private:
  std::vector<HostId> Candidates(Snapshot& snapshot, const WorkloadInfo& w,
                                 const AffinityState& affinity, Diagnosis* diagnosis,
                                 bool* diagnosed);
  bool Preempt(Snapshot& snapshot, const WorkloadInfo& w, Decision* d);

  SchedulerOptions options_;
  StaticMasks masks_;
};

// Whether `w` may go to `host` in `snapshot` now, by every filter: kPass or the first
// failing filter's reason. What a binder re-checks before committing a decision computed
// on another copy of the state.
Reason CheckPlacement(const Snapshot& snapshot, const WorkloadInfo& w, HostId host);

}  // namespace lintel::scheduler
