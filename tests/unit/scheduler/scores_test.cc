// Table tests, one per score (src/scheduler/scores/).
#include <gtest/gtest.h>

#include <vector>

#include "builders.h"
#include "scheduler/affinity_state.h"
#include "scheduler/scores/balance.h"
#include "scheduler/scores/host_affinity.h"
#include "scheduler/scores/normalize.h"
#include "scheduler/scores/resource_policy.h"
#include "scheduler/scores/score.h"
#include "scheduler/scores/taint_preference.h"
#include "scheduler/scores/weighted_sum.h"
#include "scheduler/scores/workload_affinity.h"

namespace lintel::scheduler {
namespace {

using testing::Host;
using testing::Pod;
using testing::Sel;
using testing::Term;

TEST(ScoreTest, PolicyBinPackAndSpread) {
  const Resources alloc{10000, 100, 0, 0};
  struct Case {
    const char* name;
    Policy policy;
    Resources used;
    Resources charge;
    int64_t want;
  };
  const Case cases[] = {
      {"bin-pack empty host scores 0 whatever the request",
       Policy::kBinPack,
       {},
       {5000, 50, 1, 0},
       0},
      {"bin-pack in use: half plus half the share",
       Policy::kBinPack,
       {2500, 50, 1, 0},
       {2500, 50, 1, 0},
       kMaxScore / 2 + 3750},
      {"bin-pack full", Policy::kBinPack, {5000, 50, 1, 0}, {5000, 50, 1, 0}, kMaxScore},
      {"bin-pack in use by count alone",
       Policy::kBinPack,
       {0, 0, 1, 0},
       {0, 0, 1, 0},
       kMaxScore / 2},
      {"bin-pack overcommitted clamps", Policy::kBinPack, {20000, 200, 1, 0}, {}, kMaxScore},
      {"spread empty, zero request", Policy::kSpread, {}, {}, kMaxScore},
      {"spread counts the request", Policy::kSpread, {}, {2500, 25, 1, 0}, 7500},
      {"spread half used", Policy::kSpread, {5000, 50, 1, 0}, {}, 5000},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(PolicyScore(c.policy, alloc, c.used, c.charge), c.want);
  }
  EXPECT_EQ(UsedShare(5, 0), kMaxScore);  // a resource the host lacks counts as full
}

TEST(ScoreTest, Balance) {
  const Resources alloc{1000, 1000, 0, 0};
  struct Case {
    Resources used_after;
    int64_t want;
  };
  const Case cases[] = {
      {{0, 0, 0, 0}, kMaxScore},
      {{500, 500, 0, 0}, kMaxScore},
      {{1000, 0, 0, 0}, kMaxScore / 2},
      {{200, 600, 0, 0}, kMaxScore - 2000},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.used_after.ToString());
    EXPECT_EQ(BalanceScore(alloc, c.used_after), c.want);
  }
}

TEST(ScoreTest, PreferredHostAffinity) {
  HostInfo h = Host("h", 8, 32, {{"zone", "a"}, {"disk", "ssd"}});
  struct Case {
    const char* name;
    std::vector<PreferredHostTerm> terms;
    int64_t want;
  };
  const std::vector<Case> cases = {
      {"none", {}, 0},
      {"one matches", {{30, Sel("zone=a")}, {70, Sel("zone=b")}}, 30},
      {"both match", {{30, Sel("zone=a")}, {70, Sel("disk")}}, 100},
      {"empty term matches nothing", {{50, apimachinery::LabelSelector::Nothing()}}, 0},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    WorkloadInfo w = Pod("p", 1, 1);
    w.preferred_host_terms = c.terms;
    EXPECT_EQ(HostAffinityRaw(h, w), c.want);
  }
}

TEST(ScoreTest, PreferNoScheduleTaints) {
  HostInfo h = Host("h", 8, 32);
  h.taints = {{"a", "", TaintEffect::kPreferNoSchedule},
              {"b", "", TaintEffect::kPreferNoSchedule},
              {"c", "", TaintEffect::kNoSchedule}};
  struct Case {
    const char* name;
    std::vector<Toleration> tolerations;
    int64_t want;
  };
  const std::vector<Case> cases = {
      {"none tolerated", {}, 2},
      {"one tolerated", {{"a", true, "", std::nullopt}}, 1},
      {"all tolerated", {{"", true, "", std::nullopt}}, 0},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    WorkloadInfo w = Pod("p", 1, 1);
    w.tolerations = c.tolerations;
    EXPECT_EQ(UntoleratedPreferNoSchedule(h, w), c.want);
  }
}

TEST(ScoreTest, PreferredWorkloadAffinity) {
  Snapshot s;
  testing::MustAdd(s, Host("h0", 8, 32, {{"zone", "a"}}));
  testing::MustAdd(s, Host("h1", 8, 32, {{"zone", "a"}}));
  testing::MustAdd(s, Host("h2", 8, 32, {{"zone", "b"}}));
  testing::MustAdd(s, Host("h3", 8, 32));
  ASSERT_TRUE(s.Assume(Pod("db-0", 1, 1, {{"app", "db"}}), 0).ok());
  ASSERT_TRUE(s.Assume(Pod("db-1", 1, 1, {{"app", "db"}}), 2).ok());
  ASSERT_TRUE(s.Assume(Pod("db-2", 1, 1, {{"app", "db"}}), 2).ok());
  ASSERT_TRUE(s.Assume(Pod("web-0", 1, 1, {{"app", "web"}}), 2).ok());
  struct Case {
    const char* name;
    std::vector<WeightedWorkloadTerm> affinity;
    std::vector<WeightedWorkloadTerm> anti;
    std::vector<int64_t> want;  // per host
  };
  const std::vector<Case> cases = {
      {"affinity counts matches per domain", {{10, Term("app=db", "zone")}}, {}, {10, 10, 20, 0}},
      {"anti-affinity subtracts", {}, {{5, Term("app=web", "zone")}}, {0, 0, -5, 0}},
      {"both, hostname domain",
       {{10, Term("app=db", std::string(kHostnameLabel))}},
       {{50, Term("app=web", std::string(kHostnameLabel))}},
       {10, 0, -30, 0}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    WorkloadInfo w = Pod("p", 1, 1);
    w.preferred_affinity = c.affinity;
    w.preferred_anti_affinity = c.anti;
    AffinityState a = PrepareAffinity(s, w);
    std::vector<int64_t> got;
    for (HostId h = 0; h < s.host_count(); ++h) {
      got.push_back(WorkloadAffinityRaw(s, a, h));
    }
    EXPECT_EQ(got, c.want);
  }
}

TEST(ScoreTest, Normalize) {
  std::vector<int64_t> v = {0, 5, 10};
  NormalizeByMax(v, false);
  EXPECT_EQ(v, (std::vector<int64_t>{0, kMaxScore / 2, kMaxScore}));
  v = {0, 1, 2};
  NormalizeByMax(v, true);
  EXPECT_EQ(v, (std::vector<int64_t>{kMaxScore, kMaxScore / 2, 0}));
  v = {0, 0};
  NormalizeByMax(v, true);
  EXPECT_EQ(v, (std::vector<int64_t>{kMaxScore, kMaxScore}));
  v = {-10, 0, 10};
  NormalizeMinMax(v);
  EXPECT_EQ(v, (std::vector<int64_t>{0, kMaxScore / 2, kMaxScore}));
  v = {3, 3};
  NormalizeMinMax(v);
  EXPECT_EQ(v, (std::vector<int64_t>{0, 0}));
}

TEST(ScoreTest, WeightedSumPicksFullestForBinPackAndEmptiestForSpread) {
  Snapshot s;
  HostId empty = testing::MustAdd(s, Host("empty", 16, 64));
  HostId half = testing::MustAdd(s, Host("half", 16, 64));
  ASSERT_TRUE(s.Assume(Pod("x", 8000, 32 * 1024), half).ok());
  std::vector<HostId> candidates = {empty, half};
  WorkloadInfo w = Pod("p", 1000, 4096);
  AffinityState a = PrepareAffinity(s, w);
  EXPECT_EQ(candidates[PickBest(s, w, a, candidates, {})], half);
  w.policy = Policy::kSpread;
  EXPECT_EQ(candidates[PickBest(s, w, a, candidates, {})], empty);
}

TEST(ScoreTest, WeightedSumHonoursPreferNoScheduleOverPacking) {
  Snapshot s;
  HostInfo tainted = Host("tainted", 16, 64);
  tainted.taints = {{"spot", "", TaintEffect::kPreferNoSchedule}};
  HostId t = testing::MustAdd(s, tainted);
  HostId clean = testing::MustAdd(s, Host("clean", 16, 64));
  ASSERT_TRUE(s.Assume(Pod("x", 8000, 32 * 1024), t).ok());
  std::vector<HostId> candidates = {t, clean};
  WorkloadInfo w = Pod("p", 1000, 4096);
  AffinityState a = PrepareAffinity(s, w);
  EXPECT_EQ(candidates[PickBest(s, w, a, candidates, {})], clean);
  w.tolerations = {{"spot", true, "", std::nullopt}};
  EXPECT_EQ(candidates[PickBest(s, w, a, candidates, {})], t);
}

}  // namespace
}  // namespace lintel::scheduler
