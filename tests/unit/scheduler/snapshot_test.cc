#include "scheduler/snapshot.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <set>

#include "builders.h"

namespace lintel::scheduler {
namespace {

using testing::Host;
using testing::kGi;
using testing::Pod;
using testing::Sel;
using testing::Vm;

TEST(SnapshotTest, AddHostValidatesAndLabelsHostname) {
  Snapshot s;
  HostId a = testing::MustAdd(s, Host("a", 4, 8, {{"zone", "z1"}}));
  EXPECT_EQ(s.AddHost(Host("a", 4, 8)).status().code(), Code::kAlreadyExists);
  EXPECT_EQ(s.AddHost(Host("", 4, 8)).status().code(), Code::kInvalid);
  HostInfo bad = Host("b", 4, 8);
  bad.overcommit.vm_cpu = 0;
  EXPECT_EQ(s.AddHost(bad).status().code(), Code::kInvalid);
  EXPECT_EQ(s.DomainOf(a, kHostnameLabel), "a");
  EXPECT_EQ(s.DomainOf(a, "zone"), "z1");
  EXPECT_EQ(s.FindHost("a"), a);
  EXPECT_EQ(s.FindHost("zz"), std::nullopt);
  ASSERT_EQ(s.HostsInDomain("zone", "z1").size(), 1u);
  EXPECT_TRUE(s.HostsInDomain("zone", "z9").empty());
}

TEST(SnapshotTest, AssumeAndForgetAccount) {
  Snapshot s;
  HostId h = testing::MustAdd(s, Host("h", 8, 32));
  WorkloadInfo vm = Vm("vm", 4, 1024);
  WorkloadInfo pod = Pod("pod", 500, 256);
  ASSERT_TRUE(s.Assume(vm, h).ok());
  ASSERT_TRUE(s.Assume(pod, h).ok());
  EXPECT_EQ(s.Assume(pod, h).code(), Code::kAlreadyExists);
  EXPECT_EQ(s.Assume(pod, 7).code(), Code::kNotFound);
  const Resources vm_charge = Charge(vm, Overcommit());
  EXPECT_EQ(vm_charge.cpu, 1000);  // 4 vCPUs at 4:1
  EXPECT_EQ(s.used(h), vm_charge + Charge(pod, Overcommit()));
  EXPECT_EQ(s.vm_used(h), vm_charge);
  EXPECT_EQ(s.free(h).cpu, 8000 - 1500);
  EXPECT_EQ(s.workload_count(), 2u);
  ASSERT_TRUE(s.Forget("uid-vm").ok());
  EXPECT_EQ(s.Forget("uid-vm").code(), Code::kNotFound);
  EXPECT_EQ(s.used(h), Charge(pod, Overcommit()));
  EXPECT_EQ(s.vm_used(h), Resources());
  EXPECT_EQ(s.slots_on(h).size(), 1u);
}

TEST(SnapshotTest, UpdateHostKeepsPlacementsAndChangesEpoch) {
  Snapshot s;
  HostId h = testing::MustAdd(s, Host("h", 8, 32, {{"zone", "a"}}));
  ASSERT_TRUE(s.Assume(Pod("p", 100, 64), h).ok());
  uint64_t epoch = s.static_epoch();
  HostInfo changed = Host("h", 8, 32, {{"zone", "b"}});
  changed.ready = false;
  ASSERT_TRUE(s.UpdateHost(h, changed).ok());
  EXPECT_NE(s.static_epoch(), epoch);
  EXPECT_FALSE(s.host(h).ready);
  EXPECT_TRUE(s.HostsInDomain("zone", "a").empty());
  EXPECT_EQ(s.HostsInDomain("zone", "b").size(), 1u);
  EXPECT_EQ(s.workload_count(), 1u);
  EXPECT_EQ(s.UpdateHost(h, Host("renamed", 1, 1)).code(), Code::kInvalid);
  Snapshot copy = s;
  EXPECT_EQ(copy.static_epoch(), s.static_epoch());
}

TEST(SnapshotTest, PlacementIndexCandidatesAndRemoval) {
  Snapshot s;
  HostId h = testing::MustAdd(s, Host("h", 64, 256));
  for (int i = 0; i < 50; ++i) {
    Labels l = {{"app", i % 2 == 0 ? "web" : "db"}, {"shard", std::to_string(i % 5)}};
    ASSERT_TRUE(s.Assume(Pod("p" + std::to_string(i), 1, 1, l), h).ok());
  }
  auto count = [&](std::string_view sel) {
    auto selector = Sel(sel);
    size_t n = 0;
    for (const auto& p : s.placement_index().Candidates("default", selector)) {
      n += selector.Matches(s.placement(p.slot).workload->labels) ? 1 : 0;
    }
    return n;
  };
  EXPECT_EQ(count("app=web"), 25u);
  EXPECT_EQ(count("app=web,shard=0"), 5u);
  EXPECT_EQ(s.placement_index().Candidates("default", Sel("app=web,shard=0")).size(), 10u);
  EXPECT_EQ(count("app notin (web)"), 25u);  // no exact label: the whole namespace
  EXPECT_EQ(count("app=none"), 0u);
  EXPECT_TRUE(s.placement_index().Candidates("other", Sel("")).empty());
  // Remove in a scrambled order; the posting lists stay consistent.
  std::mt19937 rng(7);
  std::vector<int> order(50);
  for (int i = 0; i < 50; ++i) {
    order[i] = i;
  }
  std::shuffle(order.begin(), order.end(), rng);
  for (int k = 0; k < 40; ++k) {
    ASSERT_TRUE(s.Forget("uid-p" + std::to_string(order[k])).ok());
  }
  size_t web = 0;
  for (int k = 40; k < 50; ++k) {
    web += order[k] % 2 == 0 ? 1 : 0;
  }
  EXPECT_EQ(count("app=web"), web);
  EXPECT_EQ(count(""), 10u);
  for (const auto& p : s.placement_index().Candidates("default", Sel("app=db"))) {
    EXPECT_NE(s.placement(p.slot).workload, nullptr);
  }
}

TEST(SnapshotTest, CopyIsIndependent) {
  Snapshot s;
  HostId h = testing::MustAdd(s, Host("h", 8, 32));
  ASSERT_TRUE(s.Assume(Pod("a", 100, 64), h).ok());
  Snapshot copy = s;
  ASSERT_TRUE(copy.Assume(Pod("b", 100, 64), h).ok());
  ASSERT_TRUE(copy.Forget("uid-a").ok());
  EXPECT_NE(s.Find("uid-a"), nullptr);
  EXPECT_EQ(s.Find("uid-b"), nullptr);
  EXPECT_EQ(s.used(h).cpu, 100);
  EXPECT_EQ(copy.used(h).cpu, 100);
}

// The index visits exactly the hosts a brute-force scan finds, in its documented orders.
TEST(SnapshotTest, HostIndexMatchesBruteForce) {
  for (uint32_t seed : {1u, 2u, 3u, 4u, 5u, 6u, 7u, 8u}) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    std::mt19937 rng(seed);
    Snapshot s;
    const int hosts = 1 + static_cast<int>(rng() % 300);
    for (int i = 0; i < hosts; ++i) {
      HostInfo h = Host("h" + std::to_string(i), 4 + rng() % 60, 8 + rng() % 248);
      h.ready = rng() % 10 != 0;  // NotReady hosts read as full
      testing::MustAdd(s, h);
    }
    s.index();
    const int pods = static_cast<int>(rng() % 3000);
    for (int i = 0; i < pods; ++i) {
      HostId h = rng() % hosts;
      ASSERT_TRUE(s.Assume(Pod("p" + std::to_string(i), rng() % 4000, rng() % 16384), h).ok());
    }
    const HostIndex& index = s.index();
    std::vector<uint64_t> mask((index.size() + 63) / 64);
    for (uint32_t pos = 0; pos < index.size(); ++pos) {
      if (rng() % 3 != 0) {
        mask[pos / 64] |= uint64_t{1} << (pos % 64);
      }
    }
    for (int q = 0; q < 50; ++q) {
      const Resources need{static_cast<int64_t>(rng() % 20000),
                           static_cast<int64_t>(rng() % (64 * 1024) * (kGi / 1024) + rng() % 7), 1,
                           0};
      IndexQuery query(need, mask.data());
      std::vector<HostId> want;
      for (uint32_t pos = 0; pos < index.size(); ++pos) {
        Resources f = s.free(index.host_at(pos));
        if (((mask[pos / 64] >> (pos % 64)) & 1) && s.host(index.host_at(pos)).ready &&
            need.FitsIn(f + Resources{0, 0, 0, 1})) {
          want.push_back(index.host_at(pos));
        }
      }
      std::vector<HostId> first_fit;
      index.FirstFit(query, [&](HostId h) {
        first_fit.push_back(h);
        return false;
      });
      EXPECT_EQ(first_fit, want);
      std::vector<HostId> most_free;
      index.MostFree(query, [&](HostId h) {
        most_free.push_back(h);
        return false;
      });
      std::sort(most_free.begin(), most_free.end());
      std::sort(want.begin(), want.end());
      EXPECT_EQ(most_free, want);
    }
    // When every ready host can take an empty request, MostFree starts at the emptiest.
    bool all_fit = true;
    int64_t best = -1;
    for (HostId h = 0; h < s.host_count(); ++h) {
      if (!s.host(h).ready) {
        continue;
      }
      all_fit = all_fit && Resources().FitsIn(s.free(h));
      best = std::max(best, HostIndex::Emptiness(s.host(h).allocatable, s.free(h)));
    }
    if (all_fit) {
      HostId first = kNoHost;
      index.MostFree(IndexQuery(Resources{}, nullptr), [&](HostId h) {
        first = h;
        return true;
      });
      ASSERT_NE(first, kNoHost);
      EXPECT_EQ(HostIndex::Emptiness(s.host(first).allocatable, s.free(first)), best);
    }
    // Positions: largest memory first.
    for (uint32_t pos = 1; pos < index.size(); ++pos) {
      EXPECT_GE(s.host(index.host_at(pos - 1)).allocatable.memory,
                s.host(index.host_at(pos)).allocatable.memory);
    }
  }
}

}  // namespace
}  // namespace lintel::scheduler
