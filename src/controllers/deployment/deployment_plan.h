// The Deployment controller's decision: given what a Deployment asks for and
// the facts of the Pods it owns, which Pods to create and which to delete.
// Pure functions over plain structs (no JSON, no clock, no I/O); any thread.
//
// A Pod is "new" when its pod-template-hash label is the hash of the current
// template, "old" otherwise. It is active while it is neither being deleted
// nor ended (phase Succeeded or Failed); ended Pods are deleted and replaced.
// It is available when Ready has been True for minReadySeconds.
//
//   paused ........... scale only: create (current template) or delete to
//                      reach spec.replicas, old Pods deleted first
//   Recreate ......... delete every old Pod; create new ones only once no
//                      old Pod is left at all (not even a terminating one)
//   RollingUpdate .... no old Pod: scale the new ones to spec.replicas.
//                      Otherwise, as kube's rolloutRolling (one ReplicaSet
//                      per template there, one pod-template-hash here):
//     surge, unavail = ResolveFenceposts(maxSurge, maxUnavailable, replicas)
//     new > replicas:            delete new ones down to replicas
//     new + old > replicas+surge: delete old ones down to it (a scale-down)
//     create   min(replicas + surge - (new + old), replicas - new)
//     delete   old ones, at most  (new + old) - (replicas - unavail)
//                                 - (new that are unavailable):
//              first old unavailable ones, then old available ones while
//              available - deleted stays >= replicas - unavail
//
// Which Pods go first (kube's ActivePods ranking, simplified): not bound to
// a host, then bound but not ready, then the newest (creationTimestamp,
// then name).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace lintel::controllers::deployment {

using WallTime = std::chrono::system_clock::time_point;

// The label every Pod of a Deployment carries: the hash of its template.
inline constexpr char kTemplateHashLabel[] = "pod-template-hash";
// On the Deployment: the current revision, bumped when the template changes.
inline constexpr char kRevisionAnnotation[] = "deployment.kubernetes.io/revision";
// On the Deployment: the template hash of that revision.
inline constexpr char kRevisionHashAnnotation[] = "lintel.dev/pod-template-hash";
// On each Pod: the revision it was created for.
inline constexpr char kPodRevisionAnnotation[] = "lintel.dev/revision";

// A Pod that ends this soon after its creation counts as failing fast: when
// they keep doing so, the Deployment backs off before replacing them.
inline constexpr std::chrono::minutes kFastFailureWindow{10};

// What planning needs of one Pod.
struct PodFacts {
  std::string name;
  std::string uid;
  std::string hash;  // its pod-template-hash label
  WallTime created{};
  bool bound = false;     // status.host set
  bool ready = false;     // condition Ready is True
  WallTime ready_since{};  // that condition's lastTransitionTime
  bool deleting = false;  // metadata.deletionTimestamp set
  bool ended = false;     // phase Succeeded or Failed
  bool failed = false;    // phase Failed
  bool operator==(const PodFacts&) const = default;
};

// An int or a percentage ("25%") of spec.replicas (kube's IntOrString).
struct IntOrPercent {
  int64_t value = 0;
  bool percent = false;
};

// `v` of `total`: percentages round up or down.
int64_t ScaledValue(IntOrPercent v, int64_t total, bool round_up);

struct Fenceposts {
  int64_t surge = 0;
  int64_t unavailable = 0;
};

// kube's ResolveFenceposts: surge rounds up, unavailable down; when both come
// to zero, unavailable is 1 (so that a rollout can always move).
Fenceposts ResolveFenceposts(IntOrPercent max_surge, IntOrPercent max_unavailable,
                             int64_t replicas);

// Per Deployment: how often its Pods failed fast lately, and until when
// creates wait. The first failure is replaced at once; each further one
// within kFastFailureWindow of the last doubles the wait, 1s to 5min.
struct Backoff {
  int64_t failures = 0;
  WallTime last_failure{};
  WallTime until{};
};

Backoff NextBackoff(Backoff b, int64_t failed_fast, WallTime now);

enum class Strategy : uint8_t { kRollingUpdate, kRecreate };

// What planning needs of the Deployment.
struct DeploymentFacts {
  std::string name;
  int64_t generation = 0;
  int64_t replicas = 1;
  std::string hash;  // of the current template
  int64_t revision = 0;
  Strategy strategy = Strategy::kRollingUpdate;
  IntOrPercent max_surge{25, true};
  IntOrPercent max_unavailable{25, true};
  int64_t min_ready_seconds = 0;
  int64_t progress_deadline_seconds = 600;
  bool paused = false;
  // Pods failing fast lately: creates wait until backoff.until.
  Backoff backoff;
};

struct PodRef {
  std::string name;
  std::string uid;
  bool operator==(const PodRef&) const = default;
};

struct Plan {
  int64_t creates = 0;
  // Ended Pods first, then the rest in the order they should go.
  std::vector<PodRef> deletes;
  std::vector<PodRef> ended;  // the ended Pods among deletes
  int64_t failed_fast = 0;    // of those, how many ended within kFastFailureWindow
  Backoff backoff;            // the Deployment's, counting those
  // Creates were due but held back by the backoff.
  bool backing_off = false;
  // Look again after this (backoff over, a Pod becoming available); 0: only
  // when something changes.
  std::chrono::milliseconds requeue_after{0};
};

bool IsActive(const PodFacts& p);
bool IsAvailable(const PodFacts& p, int64_t min_ready_seconds, WallTime now);

// The order in which Pods go: unbound, then not ready, then newest first.
std::vector<const PodFacts*> RankForDeletion(std::vector<const PodFacts*> pods);

Plan PlanSync(const DeploymentFacts& d, const std::vector<PodFacts>& pods, WallTime now);


}  // namespace lintel::controllers::deployment
