// Table tests, one per filter (src/scheduler/filters/).
#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <vector>

#include "builders.h"
#include "scheduler/affinity_state.h"
#include "scheduler/filters/capability.h"
#include "scheduler/filters/chain.h"
#include "scheduler/filters/fit.h"
#include "scheduler/filters/host_selector.h"
#include "scheduler/filters/maintenance.h"
#include "scheduler/filters/pinned.h"
#include "scheduler/filters/readiness.h"
#include "scheduler/filters/taints.h"
#include "scheduler/filters/workload_affinity.h"
#include "scheduler/filters/workload_anti_affinity.h"

namespace lintel::scheduler {
namespace {

using testing::Host;
using testing::Pod;
using testing::Sel;
using testing::Term;
using testing::Vm;

struct HostCase {
  const char* name;
  std::function<void(HostInfo*, WorkloadInfo*)> setup;
  Reason want;
};

// Runs `filter` on a default host and pod changed by each case's setup.
void RunHostCases(const std::vector<HostCase>& cases,
                  const std::function<Reason(const HostInfo&, const WorkloadInfo&)>& filter) {
  for (const HostCase& c : cases) {
    SCOPED_TRACE(c.name);
    HostInfo h = Host("h1", 8, 32, {{"zone", "a"}, {"disk", "ssd"}, {"cores", "8"}});
    WorkloadInfo w = Pod("p", 100, 64);
    c.setup(&h, &w);
    EXPECT_EQ(filter(h, w), c.want);
  }
}

TEST(FilterTest, Pinned) {
  RunHostCases(
      {
          {"not pinned", [](HostInfo*, WorkloadInfo*) {}, kPass},
          {"pinned here", [](HostInfo*, WorkloadInfo* w) { w->pinned_host = "h1"; }, kPass},
          {"pinned elsewhere", [](HostInfo*, WorkloadInfo* w) { w->pinned_host = "h2"; },
           kNotPinnedHost},
      },
      PinnedFilter);
}

TEST(FilterTest, ReadinessAndMaintenance) {
  auto both = [](const HostInfo& h, const WorkloadInfo&) {
    Reason r = ReadinessFilter(h);
    return r.empty() ? MaintenanceFilter(h) : r;
  };
  RunHostCases(
      {
          {"ready", [](HostInfo*, WorkloadInfo*) {}, kPass},
          {"not ready", [](HostInfo* h, WorkloadInfo*) { h->ready = false; }, kNotReady},
          {"cordoned", [](HostInfo* h, WorkloadInfo*) { h->unschedulable = true; }, kUnschedulable},
          {"pinned to a cordoned host still refused",
           [](HostInfo* h, WorkloadInfo* w) {
             h->unschedulable = true;
             w->pinned_host = "h1";
           },
           kUnschedulable},
      },
      both);
}

TEST(FilterTest, Taints) {
  auto taint = [](TaintEffect e) { return Taint{"dedicated", "gpu", e}; };
  RunHostCases(
      {
          {"no taints", [](HostInfo*, WorkloadInfo*) {}, kPass},
          {"NoSchedule untolerated",
           [&](HostInfo* h, WorkloadInfo*) { h->taints = {taint(TaintEffect::kNoSchedule)}; },
           kUntoleratedTaint},
          {"NoExecute untolerated",
           [&](HostInfo* h, WorkloadInfo*) { h->taints = {taint(TaintEffect::kNoExecute)}; },
           kUntoleratedTaint},
          {"PreferNoSchedule only scores",
           [&](HostInfo* h, WorkloadInfo*) { h->taints = {taint(TaintEffect::kPreferNoSchedule)}; },
           kPass},
          {"tolerated by key and value",
           [&](HostInfo* h, WorkloadInfo* w) {
             h->taints = {taint(TaintEffect::kNoSchedule)};
             w->tolerations = {{"dedicated", false, "gpu", std::nullopt}};
           },
           kPass},
          {"tolerated for another effect only",
           [&](HostInfo* h, WorkloadInfo* w) {
             h->taints = {taint(TaintEffect::kNoExecute)};
             w->tolerations = {{"dedicated", true, "", TaintEffect::kNoSchedule}};
           },
           kUntoleratedTaint},
          {"one of two tolerated",
           [&](HostInfo* h, WorkloadInfo* w) {
             h->taints = {taint(TaintEffect::kNoSchedule), {"x", "", TaintEffect::kNoSchedule}};
             w->tolerations = {{"dedicated", true, "", std::nullopt}};
           },
           kUntoleratedTaint},
      },
      TaintFilter);
}

TEST(FilterTest, HostSelectorAndRequiredHostAffinity) {
  RunHostCases(
      {
          {"nothing asked", [](HostInfo*, WorkloadInfo*) {}, kPass},
          {"selector matches",
           [](HostInfo*, WorkloadInfo* w) {
             w->host_selector = {{"zone", "a"}};
           },
           kPass},
          {"selector value differs",
           [](HostInfo*, WorkloadInfo* w) {
             w->host_selector = {{"zone", "b"}};
           },
           kHostSelectorMismatch},
          {"selector key missing",
           [](HostInfo*, WorkloadInfo* w) {
             w->host_selector = {{"gpu", "yes"}};
           },
           kHostSelectorMismatch},
          {"hostname label added by the snapshot is not here",
           [](HostInfo*, WorkloadInfo* w) {
             w->host_selector = {{std::string(kHostnameLabel), "h1"}};
           },
           kHostSelectorMismatch},
          {"terms ORed: second matches",
           [](HostInfo*, WorkloadInfo* w) {
             w->required_host_terms = {Sel("zone=b"), Sel("disk in (ssd,nvme)")};
           },
           kPass},
          {"terms: none matches",
           [](HostInfo*, WorkloadInfo* w) {
             w->required_host_terms = {Sel("zone=b"), Sel("!disk")};
           },
           kHostAffinityMismatch},
          {"Gt", [](HostInfo*, WorkloadInfo* w) { w->required_host_terms = {Sel("cores>4")}; },
           kPass},
          {"Lt fails",
           [](HostInfo*, WorkloadInfo* w) { w->required_host_terms = {Sel("cores<4")}; },
           kHostAffinityMismatch},
          {"NotIn and Exists ANDed",
           [](HostInfo*, WorkloadInfo* w) {
             w->required_host_terms = {Sel("zone notin (b),disk")};
           },
           kPass},
          {"empty term matches nothing",
           [](HostInfo*, WorkloadInfo* w) {
             w->required_host_terms = {apimachinery::LabelSelector::Nothing()};
           },
           kHostAffinityMismatch},
      },
      HostSelectorFilter);
}

TEST(FilterTest, Capability) {
  RunHostCases(
      {
          {"pod anywhere", [](HostInfo* h, WorkloadInfo*) { h->accelerator = Accelerator::kNone; },
           kPass},
          {"vm on kvm", [](HostInfo*, WorkloadInfo* w) { *w = Vm("v", 1, 256); }, kPass},
          {"vm on tcg",
           [](HostInfo* h, WorkloadInfo* w) {
             *w = Vm("v", 1, 256);
             h->accelerator = Accelerator::kTcg;
           },
           kPass},
          {"vm where no VMs run",
           [](HostInfo* h, WorkloadInfo* w) {
             *w = Vm("v", 1, 256);
             h->accelerator = Accelerator::kNone;
           },
           kNoVmSupport},
          {"kvm vm on tcg",
           [](HostInfo* h, WorkloadInfo* w) {
             *w = Vm("v", 1, 256);
             w->requires_kvm = true;
             h->accelerator = Accelerator::kTcg;
           },
           kKvmRequired},
          {"sandbox pod without sandbox",
           [](HostInfo* h, WorkloadInfo* w) {
             w->needs_sandbox = true;
             h->sandbox = false;
           },
           kSandboxRequired},
          {"sandbox pod with sandbox", [](HostInfo*, WorkloadInfo* w) { w->needs_sandbox = true; },
           kPass},
      },
      CapabilityFilter);
}

TEST(FilterTest, Fit) {
  struct Case {
    const char* name;
    Resources charge;
    Resources free;
    Reason want;
  };
  const Case cases[] = {
      {"fits exactly", {1000, 100, 1, 0}, {1000, 100, 1, 0}, kPass},
      {"memory short", {1000, 101, 1, 0}, {1000, 100, 5, 5}, kInsufficientMemory},
      {"cpu short", {1001, 100, 1, 0}, {1000, 100, 5, 5}, kInsufficientCpu},
      {"cpu reported before memory", {2000, 200, 1, 0}, {1000, 100, 5, 5}, kInsufficientCpu},
      {"pods full", {1, 1, 1, 0}, {1000, 100, 0, 5}, kTooManyPods},
      {"vms full", {1, 1, 0, 1}, {1000, 100, 5, 0}, kTooManyVms},
      {"overcommitted host refuses zero request", {0, 0, 1, 0}, {-5, 100, 5, 5}, kInsufficientCpu},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(FitFilter(c.charge, c.free), c.want);
  }
}

// Hosts h0..h3 in zones a, a, b, c (h3 has no zone label in one case).
class WorkloadAffinityFilterTest : public ::testing::Test {
 public:
  void SetUp() override {
    testing::MustAdd(s_, Host("h0", 8, 32, {{"zone", "a"}}));
    testing::MustAdd(s_, Host("h1", 8, 32, {{"zone", "a"}}));
    testing::MustAdd(s_, Host("h2", 8, 32, {{"zone", "b"}}));
    testing::MustAdd(s_, Host("h3", 8, 32));
  }
  void Place(const std::string& name, Labels labels, HostId host,
             std::vector<WorkloadTerm> anti = {}) {
    WorkloadInfo w = Pod(name, 100, 64, std::move(labels));
    w.required_anti_affinity = std::move(anti);
    ASSERT_TRUE(s_.Assume(w, host).ok());
  }
  // The reason per host, "" for pass.
  std::vector<std::string> Reasons(const WorkloadInfo& w) {
    AffinityState a = PrepareAffinity(s_, w);
    std::vector<std::string> out;
    for (HostId h = 0; h < s_.host_count(); ++h) {
      Reason r = AffinityFilter(s_, a, h);
      if (r.empty()) {
        r = AntiAffinityFilter(s_, a, h);
      }
      out.emplace_back(r);
    }
    return out;
  }
  Snapshot s_;
};

TEST_F(WorkloadAffinityFilterTest, Table) {
  struct Case {
    const char* name;
    std::function<void(WorkloadAffinityFilterTest*)> place;
    std::function<void(WorkloadInfo*)> setup;
    std::vector<std::string> want;
  };
  const std::string A = "affinity", X = "anti-affinity";
  const std::vector<Case> cases = {
      {"no terms", [](auto*) {}, [](WorkloadInfo*) {}, {"", "", "", ""}},
      {"affinity by zone to a placed db",
       [](auto* t) {
         t->Place("db", {{"app", "db"}}, 2);
       },
       [](WorkloadInfo* w) { w->required_affinity = {Term("app=db", "zone")}; },
       {A, A, "", A}},
      {"first of a self-selecting group goes anywhere with the key",
       [](auto*) {},
       [](WorkloadInfo* w) {
         w->labels = {{"app", "web"}};
         w->required_affinity = {Term("app=web", "zone")};
       },
       {"", "", "", A}},
      {"not first when it does not select itself",
       [](auto*) {},
       [](WorkloadInfo* w) { w->required_affinity = {Term("app=db", "zone")}; },
       {A, A, A, A}},
      {"affinity looks in its own namespace by default",
       [](auto* t) {
         WorkloadInfo db = Pod("db", 100, 64, {{"app", "db"}});
         db.ns = "other";
         ASSERT_TRUE(t->s_.Assume(db, 0).ok());
       },
       [](WorkloadInfo* w) { w->required_affinity = {Term("app=db", "zone")}; },
       {A, A, A, A}},
      {"affinity to other namespaces when listed",
       [](auto* t) {
         WorkloadInfo db = Pod("db", 100, 64, {{"app", "db"}});
         db.ns = "other";
         ASSERT_TRUE(t->s_.Assume(db, 0).ok());
       },
       [](WorkloadInfo* w) {
         w->required_affinity = {Term("app=db", "zone")};
         w->required_affinity[0].namespaces = {"other"};
       },
       {"", "", A, A}},
      {"anti-affinity by hostname",
       [](auto* t) {
         t->Place("web-0", {{"app", "web"}}, 1);
       },
       [](WorkloadInfo* w) {
         w->required_anti_affinity = {Term("app=web", std::string(kHostnameLabel))};
       },
       {"", X, "", ""}},
      {"anti-affinity by zone; host without the label passes",
       [](auto* t) {
         t->Place("web-0", {{"app", "web"}}, 0);
       },
       [](WorkloadInfo* w) { w->required_anti_affinity = {Term("app=web", "zone")}; },
       {X, X, "", ""}},
      {"a VM counts like a Pod",
       [](auto* t) {
         ASSERT_TRUE(t->s_.Assume(Vm("vm", 1, 256, {{"app", "web"}}), 2).ok());
       },
       [](WorkloadInfo* w) { w->required_anti_affinity = {Term("app=web", "zone")}; },
       {"", "", X, ""}},
      {"symmetric: a placed workload's anti-affinity repels the newcomer",
       [](auto* t) {
         t->Place("lonely", {{"app", "lonely"}}, 2, {Term("app=web", "zone")});
       },
       [](WorkloadInfo* w) {
         w->labels = {{"app", "web"}};
       },
       {"", "", X, ""}},
      {"symmetric term with a set selector (no exact label)",
       [](auto* t) {
         t->Place("lonely", {{"app", "lonely"}}, 0, {Term("tier", std::string(kHostnameLabel))});
       },
       [](WorkloadInfo* w) {
         w->labels = {{"tier", "x"}};
       },
       {X, "", "", ""}},
      {"symmetric term does not select the newcomer",
       [](auto* t) {
         t->Place("lonely", {{"app", "lonely"}}, 2, {Term("app=web", "zone")});
       },
       [](WorkloadInfo* w) {
         w->labels = {{"app", "api"}};
       },
       {"", "", "", ""}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    s_ = Snapshot();
    SetUp();
    c.place(this);
    WorkloadInfo w = Pod("new", 100, 64);
    c.setup(&w);
    NormalizeLabels(&w.labels);
    EXPECT_EQ(Reasons(w), c.want);
  }
}

TEST(FilterTest, ChainOrderGivesTheFirstReason) {
  Snapshot s;
  HostInfo h = Host("h1", 1, 1);
  h.ready = false;
  h.taints = {{"k", "", TaintEffect::kNoSchedule}};
  HostId id = testing::MustAdd(s, h);
  WorkloadInfo w = Pod("p", 5000, 4096);
  AffinityState a = PrepareAffinity(s, w);
  EXPECT_EQ(RunFilters(s, w, a, id), kNotReady);
  w.pinned_host = "other";
  EXPECT_EQ(RunFilters(s, w, a, id), kNotPinnedHost);
  w.pinned_host = "";
  h.ready = true;
  ASSERT_TRUE(s.UpdateHost(id, h).ok());
  EXPECT_EQ(RunFilters(s, w, a, id), kUntoleratedTaint);
  h.taints.clear();
  ASSERT_TRUE(s.UpdateHost(id, h).ok());
  EXPECT_EQ(RunFilters(s, w, a, id), kInsufficientCpu);
}

}  // namespace
}  // namespace lintel::scheduler
