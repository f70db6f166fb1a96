#include "drivers/by_kind.h"

#include <gtest/gtest.h>

#include "drivers/fake/fake_driver.h"

namespace lintel::drivers {
namespace {

WorkloadSpec Spec(WorkloadKind kind, const std::string& uid) {
  WorkloadSpec w;
  w.kind = kind;
  w.ns = "default";
  w.name = uid;
  w.uid = uid;
  w.spec = {{"containers", {{{"name", "main"}, {"image", "busybox"}}}}};
  return w;
}

TEST(ByKindDriverTest, PodsGoToThePodDriverAndVmsAreRefused) {
  fake::FakeOptions o;
  o.run_delay = std::chrono::milliseconds(0);
  o.accelerator = "kvm";
  ByKindDriver d(std::make_unique<fake::FakeDriver>(o), nullptr);
  Capabilities c = d.capabilities();
  EXPECT_EQ(c.name, "fake");
  EXPECT_TRUE(c.pods);
  EXPECT_FALSE(c.vms);
  EXPECT_EQ(c.accelerator, "none");

  ASSERT_TRUE(d.Start(Spec(WorkloadKind::kPod, "p1")).ok());
  EXPECT_TRUE(d.StatusOf("p1").ok());
  auto vm = d.Start(Spec(WorkloadKind::kVirtualMachine, "v1"));
  ASSERT_FALSE(vm.ok());
  EXPECT_EQ(vm.error().message(), "no VM driver on this host");
  EXPECT_FALSE(vm.error().retryable());
  EXPECT_EQ(d.StatusOf("v1").error().code(), Code::kNotFound);

  Handle h;
  h.uid = "v2";
  EXPECT_EQ(d.Recover(h, Spec(WorkloadKind::kVirtualMachine, "v2")).code(), Code::kNotFound);
  ASSERT_TRUE(d.Stop("p1", std::chrono::milliseconds(0)).ok());
  ASSERT_TRUE(d.Destroy("p1").ok());
  EXPECT_EQ(d.StatusOf("p1").error().code(), Code::kNotFound);
  EXPECT_EQ(d.Logs("p1", {}, [](const LogLine&) { return true; }).code(), Code::kNotFound);
}

TEST(ByKindDriverTest, BothKinds) {
  fake::FakeOptions o;
  o.run_delay = std::chrono::milliseconds(0);
  o.accelerator = "tcg";
  ByKindDriver d(std::make_unique<fake::FakeDriver>(o), std::make_unique<fake::FakeDriver>(o));
  EXPECT_TRUE(d.capabilities().vms);
  EXPECT_EQ(d.capabilities().accelerator, "tcg");
  ASSERT_TRUE(d.Start(Spec(WorkloadKind::kVirtualMachine, "v1")).ok());
  EXPECT_TRUE(d.StatusOf("v1").ok());
  // Fake drivers keep no logs.
  EXPECT_EQ(d.Logs("v1", {}, [](const LogLine&) { return true; }).code(), Code::kNotSupported);
}

}  // namespace
}  // namespace lintel::drivers
