#include "scheduler/scheduler.h"

#include <gtest/gtest.h>

#include <map>
#include <set>

#include "builders.h"

namespace lintel::scheduler {
namespace {

using testing::Host;
using testing::Pod;
using testing::Sel;
using testing::Term;
using testing::Vm;

TEST(SchedulerTest, BatchSeesCapacityTakenEarlierInTheBatch) {
  Snapshot s;
  testing::MustAdd(s, Host("a", 4, 8));
  testing::MustAdd(s, Host("b", 4, 8));
  std::vector<WorkloadInfo> batch = {Pod("p1", 3000, 1024), Pod("p2", 3000, 1024),
                                     Pod("p3", 3000, 1024)};
  auto d = Scheduler().ScheduleBatch(s, batch);
  ASSERT_EQ(d.size(), 3u);
  EXPECT_TRUE(d[0].scheduled());
  EXPECT_TRUE(d[1].scheduled());
  EXPECT_NE(d[0].host, d[1].host);
  EXPECT_FALSE(d[2].scheduled());
  EXPECT_EQ(d[2].message, "0/2 hosts available: 2 insufficient cpu.");
  EXPECT_EQ(d[2].reasons, (std::vector<ReasonCount>{{"insufficient cpu", 2}}));
  EXPECT_EQ(s.workload_count(), 2u);
}

TEST(SchedulerTest, PriorityOrderThenInputOrder) {
  Snapshot s;
  testing::MustAdd(s, Host("a", 4, 8));
  std::vector<WorkloadInfo> batch = {Pod("low", 3000, 1024), Pod("high", 3000, 1024),
                                     Pod("mid", 3000, 1024)};
  batch[1].priority = 10;
  batch[2].priority = 5;
  SchedulerOptions o;
  o.preemption = false;
  auto d = Scheduler(o).ScheduleBatch(s, batch);
  EXPECT_FALSE(d[0].scheduled());
  EXPECT_TRUE(d[1].scheduled());
  EXPECT_FALSE(d[2].scheduled());
  EXPECT_EQ(d[1].key, "default/high");
}

TEST(SchedulerTest, UnschedulableMessageCountsFirstFailingFilter) {
  Snapshot s;
  for (int i = 0; i < 8; ++i) {
    testing::MustAdd(s, Host("small-" + std::to_string(i), 8, 1));
  }
  for (int i = 0; i < 4; ++i) {
    HostInfo h = Host("gpu-" + std::to_string(i), 8, 64);
    h.taints = {{"gpu", "", TaintEffect::kNoSchedule}};
    testing::MustAdd(s, h);
  }
  Decision d = Scheduler().Schedule(s, Pod("big", 1000, 4096));
  EXPECT_FALSE(d.scheduled());
  EXPECT_EQ(d.message, "0/12 hosts available: 8 insufficient memory, 4 untolerated taint.");
}

TEST(SchedulerTest, BinPackFillsOneHostSpreadUsesAll) {
  for (Policy policy : {Policy::kBinPack, Policy::kSpread}) {
    SCOPED_TRACE(policy == Policy::kBinPack ? "bin-pack" : "spread");
    Snapshot s;
    for (int i = 0; i < 4; ++i) {
      testing::MustAdd(s, Host("h" + std::to_string(i), 16, 64));
    }
    std::vector<WorkloadInfo> batch;
    for (int i = 0; i < 8; ++i) {
      batch.push_back(Pod("p" + std::to_string(i), 1000, 1024));
      batch.back().policy = policy;
    }
    auto d = Scheduler().ScheduleBatch(s, batch);
    std::map<std::string, int> per_host;
    for (const auto& x : d) {
      ASSERT_TRUE(x.scheduled());
      ++per_host[x.host];
    }
    if (policy == Policy::kBinPack) {
      EXPECT_EQ(per_host.size(), 1u);
    } else {
      EXPECT_EQ(per_host, (std::map<std::string, int>{{"h0", 2}, {"h1", 2}, {"h2", 2}, {"h3", 2}}));
    }
  }
}

TEST(SchedulerTest, BinPackOpensTheLargestHostFirst) {
  Snapshot s;
  testing::MustAdd(s, Host("small", 8, 32));
  testing::MustAdd(s, Host("large", 64, 256));
  testing::MustAdd(s, Host("medium", 32, 128));
  EXPECT_EQ(Scheduler().Schedule(s, Pod("p", 100, 64)).host, "large");
}

TEST(SchedulerTest, PinnedHostOnlyThatHostAndFiltersStillApply) {
  Snapshot s;
  testing::MustAdd(s, Host("a", 16, 64));
  HostInfo b = Host("b", 16, 64);
  b.unschedulable = true;
  testing::MustAdd(s, b);
  WorkloadInfo w = Pod("p", 100, 64);
  w.pinned_host = "a";
  EXPECT_EQ(Scheduler().Schedule(s, w).host, "a");
  WorkloadInfo w2 = Pod("q", 100, 64);
  w2.pinned_host = "b";
  Decision d = Scheduler().Schedule(s, w2);
  EXPECT_FALSE(d.scheduled());
  EXPECT_EQ(d.message, "0/2 hosts available: 1 not the pinned host, 1 unschedulable.");
  WorkloadInfo w3 = Pod("r", 100, 64);
  w3.pinned_host = "nowhere";
  EXPECT_EQ(Scheduler().Schedule(s, w3).message, "0/2 hosts available: 2 not the pinned host.");
}

TEST(SchedulerTest, AlreadyPlacedIsReportedNotMoved) {
  Snapshot s;
  testing::MustAdd(s, Host("a", 16, 64));
  testing::MustAdd(s, Host("b", 16, 64));
  WorkloadInfo w = Pod("p", 100, 64);
  ASSERT_TRUE(s.Assume(w, 1).ok());
  Decision d = Scheduler().Schedule(s, w);
  EXPECT_EQ(d.host, "b");
  EXPECT_EQ(d.message, "already placed");
  EXPECT_EQ(s.workload_count(), 1u);
}

TEST(SchedulerTest, ReplicasWithHostAntiAffinitySpreadAndTheRestWait) {
  Snapshot s;
  for (int i = 0; i < 3; ++i) {
    testing::MustAdd(s, Host("h" + std::to_string(i), 16, 64));
  }
  std::vector<WorkloadInfo> batch;
  for (int i = 0; i < 4; ++i) {
    batch.push_back(Pod("web-" + std::to_string(i), 100, 64, {{"app", "web"}}));
    batch.back().required_anti_affinity = {Term("app=web", std::string(kHostnameLabel))};
  }
  auto d = Scheduler().ScheduleBatch(s, batch);
  std::set<std::string> hosts;
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(d[i].scheduled());
    hosts.insert(d[i].host);
  }
  EXPECT_EQ(hosts.size(), 3u);
  EXPECT_EQ(d[3].message, "0/3 hosts available: 3 anti-affinity.");
}

TEST(SchedulerTest, AffinityGroupFollowsItsFirstMember) {
  Snapshot s;
  for (int i = 0; i < 6; ++i) {
    testing::MustAdd(s, Host("h" + std::to_string(i), 16, 64, {{"zone", i < 3 ? "a" : "b"}}));
  }
  // Fill zone a's hosts except h1 so that the group's first member lands... wherever
  // bin-pack puts it; the rest must follow into the same zone.
  std::vector<WorkloadInfo> batch;
  for (int i = 0; i < 5; ++i) {
    batch.push_back(Pod("cache-" + std::to_string(i), 4000, 1024, {{"app", "cache"}}));
    batch.back().required_affinity = {Term("app=cache", "zone")};
  }
  auto d = Scheduler().ScheduleBatch(s, batch);
  std::set<std::string_view> zones;
  for (const auto& x : d) {
    ASSERT_TRUE(x.scheduled()) << x.message;
    zones.insert(*s.DomainOf(*s.FindHost(x.host), "zone"));
  }
  EXPECT_EQ(zones.size(), 1u);
}

TEST(SchedulerTest, PreferredHostAffinityWinsOverPacking) {
  Snapshot s;
  testing::MustAdd(s, Host("big", 64, 256, {{"disk", "hdd"}}));
  for (int i = 0; i < 20; ++i) {
    testing::MustAdd(s, Host("n" + std::to_string(i), 8, 32, {{"disk", "hdd"}}));
  }
  testing::MustAdd(s, Host("fast", 8, 32, {{"disk", "ssd"}}));
  WorkloadInfo w = Pod("p", 100, 64);
  w.preferred_host_terms = {{50, Sel("disk=ssd")}};
  EXPECT_EQ(Scheduler().Schedule(s, w).host, "fast");
}

TEST(SchedulerTest, PreferredAntiAffinityAvoidsOccupiedZones) {
  Snapshot s;
  for (int i = 0; i < 30; ++i) {
    testing::MustAdd(s, Host("h" + std::to_string(i), 16, 64, {{"zone", i < 27 ? "a" : "b"}}));
  }
  ASSERT_TRUE(s.Assume(Pod("api-0", 100, 64, {{"app", "api"}}), 0).ok());
  WorkloadInfo w = Pod("api-1", 100, 64, {{"app", "api"}});
  w.preferred_anti_affinity = {{100, Term("app=api", "zone")}};
  Decision d = Scheduler().Schedule(s, w);
  EXPECT_EQ(s.DomainOf(*s.FindHost(d.host), "zone"), "b");
}

TEST(SchedulerTest, VmsNeedKvmAndOvercommitCpu) {
  Snapshot s;
  HostInfo tcg = Host("tcg", 64, 256);
  tcg.accelerator = Accelerator::kTcg;
  testing::MustAdd(s, tcg);
  testing::MustAdd(s, Host("kvm", 4, 64));
  WorkloadInfo vm = Vm("v", 16, 1024);  // 16 vCPUs on 4 cores at 4:1
  vm.requires_kvm = true;
  EXPECT_EQ(Scheduler().Schedule(s, vm).host, "kvm");
  WorkloadInfo more = Vm("w", 1, 1024);
  more.requires_kvm = true;
  EXPECT_EQ(Scheduler().Schedule(s, more).message,
            "0/2 hosts available: 1 insufficient cpu, 1 kvm required.");
}

// With more candidates than hosts the index hands every feasible host to scoring, in the
// same order as the exhaustive scan: the decisions must be the same.
TEST(SchedulerTest, ExhaustiveAndIndexedAgreeOnSmallClusters) {
  auto run = [](bool exhaustive) {
    Snapshot s;
    for (int i = 0; i < 10; ++i) {
      testing::MustAdd(s, Host("h" + std::to_string(i), 8 + i, 16 + 4 * i));
    }
    std::vector<WorkloadInfo> batch;
    for (int i = 0; i < 60; ++i) {
      batch.push_back(Pod("p" + std::to_string(i), 500 + 100 * (i % 7), 512 * (1 + i % 5)));
      batch.back().policy = i % 3 == 0 ? Policy::kSpread : Policy::kBinPack;
    }
    SchedulerOptions o;
    o.exhaustive = exhaustive;
    o.candidates = 100;
    std::vector<std::string> hosts;
    for (const auto& x : Scheduler(o).ScheduleBatch(s, batch)) {
      hosts.push_back(x.host);
    }
    return hosts;
  };
  EXPECT_EQ(run(false), run(true));
}

TEST(SchedulerTest, TruncatedSearchFallsBackToTheFullScan) {
  Snapshot s;
  for (int i = 0; i < 6; ++i) {
    testing::MustAdd(s, Host("h" + std::to_string(i), 16, 64));
  }
  // The first hosts in index order each hold a replica the newcomer must avoid.
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(s.Assume(Pod("web-" + std::to_string(i), 100, 64, {{"app", "web"}}), i).ok());
  }
  WorkloadInfo w = Pod("web-new", 100, 64, {{"app", "web"}});
  w.required_anti_affinity = {Term("app=web", std::string(kHostnameLabel))};
  SchedulerOptions o;
  o.max_rejections = 2;
  Decision d = Scheduler(o).Schedule(s, w);
  EXPECT_EQ(d.host, "h5") << d.message;
}

TEST(SchedulerTest, HostChangesInvalidateCachedMasks) {
  Snapshot s;
  HostId a = testing::MustAdd(s, Host("a", 64, 256));
  testing::MustAdd(s, Host("b", 16, 64));
  Scheduler scheduler;
  EXPECT_EQ(scheduler.Schedule(s, Pod("p1", 100, 64)).host, "a");
  HostInfo cordoned = s.host(a);
  cordoned.unschedulable = true;
  ASSERT_TRUE(s.UpdateHost(a, cordoned).ok());
  EXPECT_EQ(scheduler.Schedule(s, Pod("p2", 100, 64)).host, "b");
}

TEST(SchedulerTest, CheckPlacementReChecksEveryFilter) {
  Snapshot s;
  HostId h = testing::MustAdd(s, Host("a", 1, 1));
  EXPECT_EQ(CheckPlacement(s, Pod("p", 500, 512), h), kPass);
  EXPECT_EQ(CheckPlacement(s, Pod("p", 500, 2048), h), "insufficient memory");
}

}  // namespace
}  // namespace lintel::scheduler
