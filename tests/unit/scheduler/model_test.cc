#include "scheduler/model.h"

#include <gtest/gtest.h>

#include "builders.h"

namespace lintel::scheduler {
namespace {

using testing::kGi;
using testing::kMi;

TEST(ModelTest, ChargeAppliesRatiosPerKindAndAddsOverhead) {
  struct Case {
    const char* name;
    WorkloadInfo w;
    Overcommit ratios;
    Resources want;
  };
  Overcommit custom{3000, 1500, 2000, 1000};
  const Case cases[] = {
      {"pod at 1:1", testing::Pod("p", 500, 256), {}, {500, 256 * kMi, 1, 0}},
      {"vm cpu 4:1", testing::Vm("v", 2, 1024), {}, {500, (1024 + 88) * kMi, 0, 1}},
      {"vm cpu rounds up",
       testing::Vm("v", 1, 1024),
       custom,
       {334, 715827883 + 80 * kMi, 0, 1}},  // ceil(1Gi / 1.5) + overhead
      {"pod cpu 2:1 rounds up", testing::Pod("p", 3, 0), custom, {2, 0, 1, 0}},
      {"sandbox pod adds fixed overhead",
       [] {
         WorkloadInfo w = testing::Pod("p", 100, 64);
         w.needs_sandbox = true;
         w.overhead = kSandboxOverhead;
         return w;
       }(),
       {},
       {350, 224 * kMi, 1, 0}},
      {"zero requests", testing::Pod("p", 0, 0), {}, {0, 0, 1, 0}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(Charge(c.w, c.ratios), c.want) << Charge(c.w, c.ratios).ToString();
  }
}

TEST(ModelTest, VmMemoryOverheadFormula) {
  struct Case {
    int64_t guest;
    int64_t vcpus;
    int64_t want;
  };
  const Case cases[] = {
      {256 * kMi, 1, 64 * kMi + 8 * kMi + 2 * kMi},
      {1 * kGi, 2, 64 * kMi + 16 * kMi + 8 * kMi},
      {64 * kGi, 16, 64 * kMi + 128 * kMi + 512 * kMi},
      {1, 0, 65 * kMi},  // rounds up to a MiB
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.guest);
    EXPECT_EQ(VmMemoryOverhead(c.guest, c.vcpus), c.want);
  }
}

TEST(ModelTest, ScaleByRatioIsCeilingAndSaturates) {
  EXPECT_EQ(ScaleByRatio(1000, 4000), 250);
  EXPECT_EQ(ScaleByRatio(1001, 4000), 251);
  EXPECT_EQ(ScaleByRatio(0, 4000), 0);
  EXPECT_EQ(ScaleByRatio(-5, 1000), 0);
  EXPECT_EQ(ScaleByRatio(INT64_MAX, 1), INT64_MAX / 4);
}

TEST(ModelTest, Tolerations) {
  const Taint t{"dedicated", "gpu", TaintEffect::kNoSchedule};
  struct Case {
    const char* name;
    Toleration tol;
    bool want;
  };
  const Case cases[] = {
      {"equal key and value", {"dedicated", false, "gpu", std::nullopt}, true},
      {"equal wrong value", {"dedicated", false, "db", std::nullopt}, false},
      {"exists key", {"dedicated", true, "", std::nullopt}, true},
      {"exists any key", {"", true, "", std::nullopt}, true},
      {"empty key equal matches nothing", {"", false, "", std::nullopt}, false},
      {"effect matches", {"dedicated", true, "", TaintEffect::kNoSchedule}, true},
      {"effect differs", {"dedicated", true, "", TaintEffect::kNoExecute}, false},
      {"other key", {"zone", true, "", std::nullopt}, false},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(c.tol.Tolerates(t), c.want);
  }
}

TEST(ModelTest, NormalizeLabelsSortsAndKeepsLastDuplicate) {
  Labels l = {{"b", "1"}, {"a", "x"}, {"b", "2"}};
  NormalizeLabels(&l);
  EXPECT_EQ(l, (Labels{{"a", "x"}, {"b", "2"}}));
  EXPECT_EQ(FindLabel(l, "b"), "2");
  EXPECT_EQ(FindLabel(l, "c"), std::nullopt);
}

}  // namespace
}  // namespace lintel::scheduler
