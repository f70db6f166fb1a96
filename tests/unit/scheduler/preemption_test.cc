#include "scheduler/preemption.h"

#include <gtest/gtest.h>

#include <functional>

#include "builders.h"
#include "scheduler/scheduler.h"

namespace lintel::scheduler {
namespace {

using testing::Host;
using testing::Pod;
using testing::Vm;

WorkloadInfo WithPriority(WorkloadInfo w, int32_t priority) {
  w.priority = priority;
  return w;
}

TEST(PreemptionTest, Table) {
  struct Case {
    const char* name;
    std::function<void(Snapshot&)> setup;  // hosts a (16 cores, 64 GiB), b (same) exist
    WorkloadInfo incoming;
    PreemptionOptions options;
    std::string want_host;  // "" for none
    std::vector<std::string> want_victims;
  };
  const std::vector<Case> cases = {
      {"evicts the single lower-priority pod that frees enough",
       [](Snapshot& s) {
         ASSERT_TRUE(s.Assume(WithPriority(Pod("a-big", 12000, 1024), 0), 0).ok());
         ASSERT_TRUE(s.Assume(WithPriority(Pod("b-big", 12000, 1024), 5), 1).ok());
       },
       WithPriority(Pod("new", 8000, 1024), 10),
       {},
       "a",
       {"uid-a-big"}},
      {"never evicts equal or higher priority",
       [](Snapshot& s) {
         ASSERT_TRUE(s.Assume(WithPriority(Pod("a-big", 12000, 1024), 10), 0).ok());
         ASSERT_TRUE(s.Assume(WithPriority(Pod("b-big", 12000, 1024), 20), 1).ok());
       },
       WithPriority(Pod("new", 8000, 1024), 10),
       {},
       "",
       {}},
      {"reprieves what it can: only the smallest sufficient set",
       [](Snapshot& s) {
         for (int i = 0; i < 4; ++i) {
           ASSERT_TRUE(s.Assume(WithPriority(Pod("a" + std::to_string(i), 4000, 1024), i), 0).ok());
         }
         ASSERT_TRUE(s.Assume(WithPriority(Pod("b", 16000, 1024), 50), 1).ok());
       },
       WithPriority(Pod("new", 4000, 1024), 10),
       {},
       "a",
       {"uid-a0"}},
      {"prefers the host whose victims have the lowest priority",
       [](Snapshot& s) {
         ASSERT_TRUE(s.Assume(WithPriority(Pod("a", 16000, 1024), 5), 0).ok());
         ASSERT_TRUE(s.Assume(WithPriority(Pod("b", 16000, 1024), 1), 1).ok());
       },
       WithPriority(Pod("new", 1000, 1024), 10),
       {},
       "b",
       {"uid-b"}},
      {"prefers fewer victims at equal priority",
       [](Snapshot& s) {
         ASSERT_TRUE(s.Assume(WithPriority(Pod("a1", 8000, 1024), 1), 0).ok());
         ASSERT_TRUE(s.Assume(WithPriority(Pod("a2", 8000, 1024), 1), 0).ok());
         ASSERT_TRUE(s.Assume(WithPriority(Pod("b1", 16000, 1024), 1), 1).ok());
       },
       WithPriority(Pod("new", 12000, 1024), 10),
       {},
       "b",
       {"uid-b1"}},
      {"VMs are not evicted by default",
       [](Snapshot& s) {
         ASSERT_TRUE(s.Assume(WithPriority(Vm("a", 64, 1024), 0), 0).ok());
         ASSERT_TRUE(s.Assume(WithPriority(Vm("b", 64, 1024), 0), 1).ok());
       },
       WithPriority(Pod("new", 1000, 1024), 10),
       {},
       "",
       {}},
      {"VMs are evicted when the policy allows",
       [](Snapshot& s) {
         ASSERT_TRUE(s.Assume(WithPriority(Vm("a", 64, 1024), 0), 0).ok());
         ASSERT_TRUE(s.Assume(WithPriority(Vm("b", 64, 1024), 3), 1).ok());
       },
       WithPriority(Pod("new", 1000, 1024), 10),
       {true},
       "a",
       {"uid-a"}},
      {"static filters are not solved by eviction",
       [](Snapshot& s) {
         HostInfo a = Host("a", 16, 64);
         a.taints = {{"t", "", TaintEffect::kNoSchedule}};
         ASSERT_TRUE(s.UpdateHost(0, a).ok());
         ASSERT_TRUE(s.Assume(WithPriority(Pod("a", 16000, 1024), 0), 0).ok());
         ASSERT_TRUE(s.Assume(WithPriority(Pod("b", 16000, 1024), 50), 1).ok());
       },
       WithPriority(Pod("new", 1000, 1024), 10),
       {},
       "",
       {}},
      {"evicting a repelling pod resolves anti-affinity",
       [](Snapshot& s) {
         WorkloadInfo lonely = WithPriority(Pod("lonely", 1000, 1024, {{"app", "lonely"}}), 0);
         lonely.required_anti_affinity = {testing::Term("app=web", std::string(kHostnameLabel))};
         ASSERT_TRUE(s.Assume(lonely, 0).ok());
         ASSERT_TRUE(s.Assume(WithPriority(Pod("b", 16000, 1024), 50), 1).ok());
       },
       WithPriority(Pod("new", 1000, 1024, {{"app", "web"}}), 10),
       {},
       "a",
       {"uid-lonely"}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    Snapshot s;
    testing::MustAdd(s, Host("a", 16, 64));
    testing::MustAdd(s, Host("b", 16, 64));
    c.setup(s);
    const size_t before = s.workload_count();
    auto plan = FindPreemption(s, c.incoming, c.options);
    EXPECT_EQ(s.workload_count(), before);  // the simulation left the snapshot as it was
    if (c.want_host.empty()) {
      EXPECT_FALSE(plan.has_value());
      continue;
    }
    ASSERT_TRUE(plan.has_value());
    EXPECT_EQ(s.host(plan->host).name, c.want_host);
    std::vector<std::string> victims;
    for (const auto& v : plan->victims) {
      victims.push_back(v->uid);
    }
    EXPECT_EQ(victims, c.want_victims);
  }
}

TEST(PreemptionTest, SchedulerAppliesThePlan) {
  Snapshot s;
  testing::MustAdd(s, Host("a", 4, 16));
  ASSERT_TRUE(s.Assume(WithPriority(Pod("low", 4000, 1024), 0), 0).ok());
  Decision d = Scheduler().Schedule(s, WithPriority(Pod("high", 2000, 1024), 100));
  EXPECT_EQ(d.host, "a");
  ASSERT_EQ(d.victims.size(), 1u);
  EXPECT_EQ(d.victims[0].key, "default/low");
  EXPECT_EQ(d.message, "preempting 1 workload on a");
  EXPECT_EQ(s.Find("uid-low"), nullptr);
  EXPECT_NE(s.Find("uid-high"), nullptr);

  SchedulerOptions off;
  off.preemption = false;
  Decision none = Scheduler(off).Schedule(s, WithPriority(Pod("higher", 4000, 1024), 200));
  EXPECT_FALSE(none.scheduled());
  EXPECT_TRUE(none.victims.empty());
}

}  // namespace
}  // namespace lintel::scheduler
