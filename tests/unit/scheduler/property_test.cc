// Randomized properties of the whole loop (each seed is logged): thousands of decisions on
// random hosts and workloads, with forgets, host changes, affinity and preemption mixed in.
// After every batch: no host exceeds its allocatable under the documented accounting, no
// required anti-affinity is violated, and each placement with required affinity had a
// matching workload in its domain (or was the first of its group).
#include <gtest/gtest.h>

#include <random>

#include "builders.h"
#include "invariants.h"
#include "scheduler/scheduler.h"

namespace lintel::scheduler {
namespace {

class World {
 public:
  explicit World(uint32_t seed) : rng_(seed) {
    const int hosts = 20 + Rand(40);
    for (int i = 0; i < hosts; ++i) {
      HostInfo h = testing::Host("h" + std::to_string(i), 4 + Rand(29), 8 + Rand(121),
                                 {{"zone", "z" + std::to_string(Rand(4))}});
      h.allocatable.pods = 5 + Rand(30);
      h.allocatable.vms = 2 + Rand(10);
      h.overcommit = {1000 + 500 * Rand(7), Rand(2) ? 1000 : 1500, 1000 + 250 * Rand(4), 1000};
      if (Rand(8) == 0) {
        h.taints = {{"dedicated", "x",
                     Rand(2) ? TaintEffect::kNoSchedule : TaintEffect::kPreferNoSchedule}};
      }
      h.ready = Rand(20) != 0;
      h.unschedulable = Rand(25) == 0;
      h.accelerator = Rand(5) == 0 ? Accelerator::kTcg : Accelerator::kKvm;
      h.sandbox = Rand(3) != 0;
      testing::MustAdd(snapshot_, h);
    }
  }

  int Rand(int n) { return static_cast<int>(rng_() % static_cast<uint32_t>(n)); }

  WorkloadInfo RandomWorkload() {
    const std::string name = "w" + std::to_string(next_++);
    const std::string group = "g" + std::to_string(Rand(12));
    WorkloadInfo w = Rand(3) == 0 ? testing::Vm(name, 1 + Rand(8), 256 * (1 + Rand(32)))
                                  : testing::Pod(name, 50 * Rand(80), 64 * Rand(64));
    w.labels = {{"group", group}};
    if (w.kind == WorkloadKind::kVirtualMachine) {
      w.requires_kvm = Rand(2) == 0;
    } else if (Rand(6) == 0) {
      w.needs_sandbox = true;
      w.overhead = kSandboxOverhead;
    }
    w.priority = Rand(4) * 10;
    w.policy = Rand(3) == 0 ? Policy::kSpread : Policy::kBinPack;
    if (Rand(6) == 0) {
      w.tolerations = {{"dedicated", true, "", std::nullopt}};
    }
    const int kind = Rand(10);
    const std::string key = Rand(2) ? std::string(kHostnameLabel) : "zone";
    if (kind == 0) {
      w.required_anti_affinity = {testing::Term("group=" + group, key)};
    } else if (kind == 1) {
      w.required_affinity = {testing::Term("group=" + group, "zone")};
    } else if (kind == 2) {
      w.preferred_anti_affinity = {{50, testing::Term("group=" + group, key)}};
    } else if (kind == 3) {
      w.host_selector = {{"zone", "z" + std::to_string(Rand(4))}};
    }
    return w;
  }

  Snapshot& snapshot() { return snapshot_; }

 private:
  std::mt19937 rng_;
  Snapshot snapshot_;
  int next_ = 0;
};

// After `w` was placed on `host`: each required affinity term has a selected workload in
// the host's domain other than `w`, or none exists anywhere and `w` selects itself.
void ExpectAffinityHeld(const Snapshot& s, const WorkloadInfo& w, HostId host) {
  for (const WorkloadTerm& t : w.required_affinity) {
    auto domain = s.DomainOf(host, t.topology_key);
    ASSERT_TRUE(domain.has_value());
    bool here = false, anywhere = false;
    for (HostId h = 0; h < s.host_count(); ++h) {
      for (uint32_t slot : s.slots_on(h)) {
        const WorkloadInfo& other = *s.placement(slot).workload;
        if (other.uid == w.uid || !TermSelects(t, w.ns, other)) {
          continue;
        }
        auto d = s.DomainOf(h, t.topology_key);
        anywhere = anywhere || d.has_value();
        here = here || (d && *d == *domain);
      }
    }
    ASSERT_TRUE(here || (!anywhere && TermSelects(t, w.ns, w))) << w.Key();
  }
}

void RunSeed(uint32_t seed, int decisions) {
  SCOPED_TRACE("seed " + std::to_string(seed));
  World world(seed);
  Snapshot& s = world.snapshot();
  Scheduler scheduler;
  std::vector<std::string> placed;
  int done = 0, scheduled = 0, preempted = 0;
  while (done < decisions) {
    std::vector<WorkloadInfo> batch;
    const int n = 1 + world.Rand(40);
    for (int i = 0; i < n; ++i) {
      batch.push_back(world.RandomWorkload());
    }
    // What ScheduleBatch does, one decision at a time, so that each can be checked
    // against the state it was made in.
    std::stable_sort(batch.begin(), batch.end(),
                     [](const auto& a, const auto& b) { return a.priority > b.priority; });
    for (const WorkloadInfo& w : batch) {
      const Decision d = scheduler.Schedule(s, w);
      ASSERT_EQ(d.uid, w.uid);
      if (!d.scheduled()) {
        int64_t hosts = 0;
        for (const auto& r : d.reasons) {
          hosts += r.hosts;
        }
        ASSERT_EQ(hosts, static_cast<int64_t>(s.host_count())) << d.message;
        continue;
      }
      ++scheduled;
      const Placement* p = s.Find(d.uid);
      ASSERT_NE(p, nullptr);
      ASSERT_EQ(s.host(p->host).name, d.host);
      for (const Victim& v : d.victims) {
        ++preempted;
        ASSERT_LT(v.priority, w.priority);
        ASSERT_EQ(v.kind, WorkloadKind::kPod);
        ASSERT_EQ(s.Find(v.uid), nullptr);
      }
      ExpectAffinityHeld(s, w, p->host);
      placed.push_back(d.uid);
    }
    done += n;
    testing::ExpectWithinAllocatable(s);
    testing::ExpectNoAntiAffinityViolation(s);
    // Churn: forget some, flip a host.
    for (int k = 0; k < n / 3 && !placed.empty(); ++k) {
      size_t at = static_cast<size_t>(world.Rand(static_cast<int>(placed.size())));
      (void)s.Forget(placed[at]);  // may already be gone (preempted)
      placed[at] = placed.back();
      placed.pop_back();
    }
    if (world.Rand(10) == 0) {
      HostId h = static_cast<HostId>(world.Rand(static_cast<int>(s.host_count())));
      HostInfo changed = s.host(h);
      changed.ready = !changed.ready;
      ASSERT_TRUE(s.UpdateHost(h, changed).ok());
    }
  }
  EXPECT_GT(scheduled, decisions / 4);
  ::testing::Test::RecordProperty("scheduled_" + std::to_string(seed), scheduled);
  ::testing::Test::RecordProperty("preempted_" + std::to_string(seed), preempted);
}

TEST(PropertyTest, RandomWorldsKeepInvariants) {
  for (uint32_t seed : {1u, 2u, 3u, 4u, 5u, 6u}) {
    RunSeed(seed, 3000);
    if (HasFatalFailure()) {
      return;
    }
  }
}

TEST(PropertyTest, ExhaustiveModeKeepsInvariantsToo) {
  SchedulerOptions o;
  o.exhaustive = true;
  World world(42);
  Scheduler scheduler(o);
  for (int b = 0; b < 30; ++b) {
    std::vector<WorkloadInfo> batch;
    for (int i = 0; i < 30; ++i) {
      batch.push_back(world.RandomWorkload());
    }
    (void)scheduler.ScheduleBatch(world.snapshot(), batch);
    testing::ExpectWithinAllocatable(world.snapshot());
    testing::ExpectNoAntiAffinityViolation(world.snapshot());
  }
}

}  // namespace
}  // namespace lintel::scheduler
