#include "controllers/deployment/deployment_plan.h"

#include <algorithm>
#include <optional>
#include <tuple>

namespace lintel::controllers::deployment {

namespace {

using std::chrono::duration_cast;
using std::chrono::milliseconds;

constexpr std::chrono::seconds kBackoffBase{1};
constexpr std::chrono::minutes kBackoffMax{5};

// Pods split by template and by whether they count.
struct Groups {
  std::vector<const PodFacts*> new_active, old_active;
  std::vector<const PodFacts*> ended;
  bool old_present = false;  // any old Pod not yet ended, terminating ones included
};

Groups Group(const DeploymentFacts& d, const std::vector<PodFacts>& pods) {
  Groups g;
  for (const auto& p : pods) {
    const bool is_new = p.hash == d.hash;
    if (p.ended) {
      if (!p.deleting) g.ended.push_back(&p);
      continue;
    }
    if (!is_new) g.old_present = true;
    if (p.deleting) continue;
    (is_new ? g.new_active : g.old_active).push_back(&p);
  }
  return g;
}

int64_t CountAvailable(const std::vector<const PodFacts*>& pods, const DeploymentFacts& d,
                       WallTime now) {
  return std::count_if(pods.begin(), pods.end(), [&](const PodFacts* p) {
    return IsAvailable(*p, d.min_ready_seconds, now);
  });
}

void DeleteFirst(const std::vector<const PodFacts*>& ranked_source, int64_t n, Plan* plan) {
  std::vector<const PodFacts*> ranked = RankForDeletion(ranked_source);
  for (int64_t i = 0; i < n && i < static_cast<int64_t>(ranked.size()); ++i) {
    plan->deletes.push_back({ranked[i]->name, ranked[i]->uid});
  }
}

// Scales `pods` (all of one kind) to `want`.
void ScaleTo(const std::vector<const PodFacts*>& pods, int64_t want, Plan* plan) {
  const int64_t have = static_cast<int64_t>(pods.size());
  if (have < want) plan->creates += want - have;
  if (have > want) DeleteFirst(pods, have - want, plan);
}

void PlanRolling(const DeploymentFacts& d, const Groups& g, WallTime now, Plan* plan) {
  const int64_t n_new = static_cast<int64_t>(g.new_active.size());
  const int64_t n_old = static_cast<int64_t>(g.old_active.size());
  if (n_old == 0) {
    ScaleTo(g.new_active, d.replicas, plan);
    return;
  }
  if (n_new > d.replicas) {
    DeleteFirst(g.new_active, n_new - d.replicas, plan);
    return;
  }
  const Fenceposts f = ResolveFenceposts(d.max_surge, d.max_unavailable, d.replicas);
  const int64_t total = n_new + n_old;
  const int64_t max_total = d.replicas + f.surge;
  if (total > max_total) {  // scaled down mid-rollout
    DeleteFirst(g.old_active, total - max_total, plan);
    return;
  }
  plan->creates = std::max<int64_t>(0, std::min(max_total - total, d.replicas - n_new));

  const int64_t min_available = d.replicas - f.unavailable;
  const int64_t new_available = CountAvailable(g.new_active, d, now);
  const int64_t new_unavailable = n_new - new_available;
  int64_t budget = total - min_available - new_unavailable;
  if (budget <= 0) return;
  // Old Pods that are not available cost no availability: they go first.
  std::vector<const PodFacts*> old_unavailable, old_available;
  for (const PodFacts* p : g.old_active) {
    (IsAvailable(*p, d.min_ready_seconds, now) ? old_available : old_unavailable).push_back(p);
  }
  const int64_t cleanup = std::min(budget, static_cast<int64_t>(old_unavailable.size()));
  DeleteFirst(old_unavailable, cleanup, plan);
  budget -= cleanup;
  const int64_t available = new_available + static_cast<int64_t>(old_available.size());
  const int64_t more = std::min(budget, available - min_available);
  if (more > 0) DeleteFirst(old_available, more, plan);
}

void PlanRecreate(const DeploymentFacts& d, const Groups& g, Plan* plan) {
  if (!g.old_active.empty()) DeleteFirst(g.old_active, static_cast<int64_t>(g.old_active.size()), plan);
  if (g.old_present) return;  // new Pods only once every old one is gone
  ScaleTo(g.new_active, d.replicas, plan);
}

void PlanPaused(const DeploymentFacts& d, const Groups& g, Plan* plan) {
  const int64_t total = static_cast<int64_t>(g.new_active.size() + g.old_active.size());
  if (total < d.replicas) plan->creates = d.replicas - total;
  if (total <= d.replicas) return;
  int64_t excess = total - d.replicas;
  const int64_t from_old = std::min(excess, static_cast<int64_t>(g.old_active.size()));
  DeleteFirst(g.old_active, from_old, plan);
  DeleteFirst(g.new_active, excess - from_old, plan);
}

}  // namespace

int64_t ScaledValue(IntOrPercent v, int64_t total, bool round_up) {
  if (!v.percent) return v.value;
  const int64_t scaled = v.value * total;
  return round_up ? (scaled + 99) / 100 : scaled / 100;
}

Fenceposts ResolveFenceposts(IntOrPercent max_surge, IntOrPercent max_unavailable,
                             int64_t replicas) {
  Fenceposts f{ScaledValue(max_surge, replicas, true),
               ScaledValue(max_unavailable, replicas, false)};
  if (f.surge == 0 && f.unavailable == 0) f.unavailable = 1;
  return f;
}

bool IsActive(const PodFacts& p) { return !p.deleting && !p.ended; }

bool IsAvailable(const PodFacts& p, int64_t min_ready_seconds, WallTime now) {
  if (!IsActive(p) || !p.ready) return false;
  return min_ready_seconds <= 0 || now - p.ready_since >= std::chrono::seconds(min_ready_seconds);
}

std::vector<const PodFacts*> RankForDeletion(std::vector<const PodFacts*> pods) {
  std::stable_sort(pods.begin(), pods.end(), [](const PodFacts* a, const PodFacts* b) {
    // false sorts first: unbound, then not ready; then the newest, then by name.
    return std::make_tuple(a->bound, a->ready, b->created, a->name) <
           std::make_tuple(b->bound, b->ready, a->created, b->name);
  });
  return pods;
}

Plan PlanSync(const DeploymentFacts& d, const std::vector<PodFacts>& pods, WallTime now) {
  Plan plan;
  const Groups g = Group(d, pods);
  for (const PodFacts* p : RankForDeletion(g.ended)) {
    plan.deletes.push_back({p->name, p->uid});
    plan.ended.push_back({p->name, p->uid});
    if (now - p->created < kFastFailureWindow) ++plan.failed_fast;
  }
  if (d.paused) {
    PlanPaused(d, g, &plan);
  } else if (d.strategy == Strategy::kRecreate) {
    PlanRecreate(d, g, &plan);
  } else {
    PlanRolling(d, g, now, &plan);
  }
  std::optional<WallTime> wake;
  plan.backoff = NextBackoff(d.backoff, plan.failed_fast, now);
  if (plan.creates > 0 && now < plan.backoff.until) {
    plan.creates = 0;
    plan.backing_off = true;
    wake = plan.backoff.until;
  }
  // A ready Pod becomes available after minReadySeconds: look again then.
  if (d.min_ready_seconds > 0) {
    for (const auto* list : {&g.new_active, &g.old_active}) {
      for (const PodFacts* p : *list) {
        if (!p->ready || IsAvailable(*p, d.min_ready_seconds, now)) continue;
        WallTime at = p->ready_since + std::chrono::seconds(d.min_ready_seconds);
        if (!wake || at < *wake) wake = at;
      }
    }
  }
  if (wake) {
    plan.requeue_after =
        std::max(milliseconds(1), duration_cast<milliseconds>(*wake - now) + milliseconds(1));
  }
  return plan;
}

Backoff NextBackoff(Backoff b, int64_t failed_fast, WallTime now) {
  if (failed_fast <= 0) return b;
  if (b.failures > 0 && now - b.last_failure > kFastFailureWindow) b.failures = 0;
  b.failures += failed_fast;
  b.last_failure = now;
  if (b.failures <= 1) {
    b.until = now;
    return b;
  }
  // 1s, 2s, 4s, ... from the second failure on, at most 5 minutes.
  const int64_t shift = std::min<int64_t>(b.failures - 2, 20);
  auto delay = std::min<std::chrono::seconds>(kBackoffBase * (int64_t{1} << shift), kBackoffMax);
  b.until = now + delay;
  return b;
}

}  // namespace lintel::controllers::deployment
