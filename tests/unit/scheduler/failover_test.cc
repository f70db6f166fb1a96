#include "scheduler/failover.h"

#include <gtest/gtest.h>

#include "builders.h"

namespace lintel::scheduler {
namespace {

using testing::Host;
using testing::Pod;
using testing::Vm;

// Three hosts of 64 GiB; each VM charges its guest memory + overhead.
Snapshot ThreeHosts() {
  Snapshot s;
  for (int i = 0; i < 3; ++i) {
    testing::MustAdd(s, Host("h" + std::to_string(i), 32, 64));
  }
  return s;
}

TEST(FailoverTest, VmsFitOnTheOtherHosts) {
  Snapshot s = ThreeHosts();
  ASSERT_TRUE(s.Assume(Vm("v1", 2, 16 * 1024), 0).ok());
  ASSERT_TRUE(s.Assume(Vm("v2", 2, 16 * 1024), 0).ok());
  ASSERT_TRUE(s.Assume(Pod("p", 1000, 1024), 0).ok());
  ASSERT_TRUE(s.Assume(Vm("v3", 2, 40 * 1024), 1).ok());
  FailoverResult r = CanFailover(s, 0);
  EXPECT_TRUE(r.ok) << r.message;
  EXPECT_EQ(r.placed.size(), 2u);  // the Pod is its controller's business
  for (const auto& [vm, host] : r.placed) {
    EXPECT_NE(host, "h0");
  }
  EXPECT_EQ(r.message, "2 VMs restart elsewhere");
  EXPECT_EQ(s.host(0).ready, true);  // the argument is untouched
  EXPECT_EQ(s.workload_count(), 4u);
}

TEST(FailoverTest, ReportsWhatDoesNotFit) {
  Snapshot s = ThreeHosts();
  ASSERT_TRUE(s.Assume(Vm("big", 4, 48 * 1024), 0).ok());
  ASSERT_TRUE(s.Assume(Vm("fill1", 4, 40 * 1024), 1).ok());
  ASSERT_TRUE(s.Assume(Vm("fill2", 4, 40 * 1024), 2).ok());
  FailoverResult r = CanFailover(s, 0);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.unplaced, (std::vector<std::string>{"default/big"}));
  EXPECT_NE(r.message.find("0/3 hosts available: 2 insufficient memory, 1 not ready."),
            std::string::npos)
      << r.message;
}

TEST(FailoverTest, PinnedVmCannotMove) {
  Snapshot s = ThreeHosts();
  WorkloadInfo pinned = Vm("pinned", 1, 1024);
  pinned.pinned_host = "h0";
  ASSERT_TRUE(s.Assume(pinned, 0).ok());
  FailoverResult r = CanFailover(s, 0);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.unplaced, (std::vector<std::string>{"default/pinned"}));
}

TEST(FailoverTest, ReserveForFailuresAdmitsWhileRoomRemains) {
  Snapshot s = ThreeHosts();
  ASSERT_TRUE(s.Assume(Vm("a", 2, 20 * 1024), 0).ok());
  ASSERT_TRUE(s.Assume(Vm("b", 2, 20 * 1024), 1).ok());
  // A 20 GiB VM: any one host's VMs can still restart on the other two.
  ReserveResult ok = ReserveForFailures(s, Vm("c", 2, 20 * 1024), 1);
  EXPECT_TRUE(ok.ok) << ok.message;
  EXPECT_FALSE(ok.host.empty());
  EXPECT_EQ(ok.failed_hosts.size(), 1u);
  // A 60 GiB VM fits somewhere, but then losing its host leaves it nowhere to go.
  ReserveResult no = ReserveForFailures(s, Vm("huge", 2, 60 * 1024), 1);
  EXPECT_FALSE(no.ok);
  EXPECT_FALSE(no.host.empty());
  EXPECT_EQ(no.unplaced, (std::vector<std::string>{"default/huge"}));
  // Nothing at all fits: not admitted, no host.
  ReserveResult none = ReserveForFailures(s, Vm("giant", 2, 100 * 1024), 1);
  EXPECT_FALSE(none.ok);
  EXPECT_TRUE(none.host.empty());
  // Two failures out of three: a, b and a 25 GiB c (66 GiB with overhead) exceed the last
  // host's 64 GiB, while one failure leaves room.
  EXPECT_TRUE(ReserveForFailures(s, Vm("c", 2, 25 * 1024), 1).ok);
  EXPECT_FALSE(ReserveForFailures(s, Vm("c", 2, 25 * 1024), 2).ok);
  EXPECT_EQ(s.workload_count(), 2u);
}

}  // namespace
}  // namespace lintel::scheduler
