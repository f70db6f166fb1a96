#include "drivers/fake/fake_driver.h"

#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <thread>
#include <vector>

#include "eventually.h"

namespace lintel::drivers::fake {
namespace {

using agent::testing::Eventually;
using std::chrono::milliseconds;

WorkloadSpec Pod(const std::string& uid, std::map<std::string, std::string> annotations = {}) {
  WorkloadSpec s;
  s.kind = WorkloadKind::kPod;
  s.ns = "default";
  s.name = "p-" + uid;
  s.uid = uid;
  s.annotations = std::move(annotations);
  s.spec = {{"containers",
             {{{"name", "main"}, {"image", "busybox"}}, {{"name", "side"}, {"image", "nginx"}}}}};
  return s;
}

WorkloadSpec Vm(const std::string& uid, const std::string& accelerator = "Auto") {
  WorkloadSpec s;
  s.kind = WorkloadKind::kVirtualMachine;
  s.ns = "default";
  s.name = "vm-" + uid;
  s.uid = uid;
  s.spec = {{"image", "tiny"}, {"cpu", 1}, {"accelerator", accelerator}};
  return s;
}

// Records listener calls.
struct Recorder {
  std::mutex mu;
  std::vector<std::pair<std::string, WorkloadStatus>> calls;
  std::atomic<bool> on_caller_thread{false};
  std::thread::id caller = std::this_thread::get_id();

  Listener listener() {
    return [this](const std::string& uid, const WorkloadStatus& st) {
      if (std::this_thread::get_id() == caller) on_caller_thread = true;
      std::lock_guard<std::mutex> l(mu);
      calls.emplace_back(uid, st);
    };
  }
  size_t size() {
    std::lock_guard<std::mutex> l(mu);
    return calls.size();
  }
  WorkloadStatus last() {
    std::lock_guard<std::mutex> l(mu);
    return calls.back().second;
  }
};

class FakeDriverTest : public ::testing::Test {
 protected:
  FakeDriverTest() {
    FakeOptions o;
    o.clock = &clock_;
    o.run_delay = milliseconds(1000);
    driver_ = std::make_unique<FakeDriver>(o);
    driver_->SetListener(rec_.listener());
  }
  RunState StateOf(const std::string& uid) {
    auto st = driver_->StatusOf(uid);
    EXPECT_TRUE(st.ok()) << st.error().ToString();
    return st.ok() ? st->state : RunState::kFailed;
  }

  FakeClock clock_;
  Recorder rec_;
  std::unique_ptr<FakeDriver> driver_;
};

TEST_F(FakeDriverTest, PodRunsAfterTheDelayAndNotBefore) {
  auto h = driver_->Start(Pod("a"));
  ASSERT_TRUE(h.ok()) << h.error().ToString();
  EXPECT_EQ(h->driver, "fake");
  EXPECT_EQ(h->uid, "a");
  EXPECT_EQ(StateOf("a"), RunState::kStarting);

  clock_.Advance(milliseconds(999));
  // The timer thread polls every 10ms: give it a few polls to (wrongly) fire.
  std::this_thread::sleep_for(milliseconds(40));
  EXPECT_EQ(StateOf("a"), RunState::kStarting);
  EXPECT_EQ(rec_.size(), 0u);

  clock_.Advance(milliseconds(1));
  ASSERT_TRUE(Eventually([&] { return rec_.size() == 1; }));
  WorkloadStatus st = rec_.last();
  EXPECT_EQ(st.state, RunState::kRunning);
  EXPECT_EQ(st.started_at, clock_.Now());
  ASSERT_EQ(st.containers.size(), 2u);
  EXPECT_EQ(st.containers[0].name, "main");
  EXPECT_EQ(st.containers[0].image, "busybox");
  EXPECT_EQ(st.containers[1].state, RunState::kRunning);
  EXPECT_EQ(st.containers[1].started_at, clock_.Now());
  EXPECT_EQ(*driver_->StatusOf("a"), st);
  EXPECT_FALSE(rec_.on_caller_thread);
  EXPECT_EQ(driver_->stats().starts, 1u);
}

TEST_F(FakeDriverTest, ZeroDelayStillReportsFromTheTimerThread) {
  FakeOptions o;
  o.run_delay = milliseconds(0);
  FakeDriver d(o);
  Recorder rec;
  d.SetListener(rec.listener());
  ASSERT_TRUE(d.Start(Pod("z")).ok());
  ASSERT_TRUE(Eventually([&] { return rec.size() == 1; }));
  EXPECT_EQ(rec.last().state, RunState::kRunning);
  EXPECT_FALSE(rec.on_caller_thread);
}

TEST_F(FakeDriverTest, AnnotationOverridesTheRunDelay) {
  ASSERT_TRUE(driver_->Start(Pod("fast", {{kRunDelayAnnotation, "0ms"}})).ok());
  ASSERT_TRUE(Eventually([&] { return StateOf("fast") == RunState::kRunning; }));
  auto bad = driver_->Start(Pod("bad", {{kRunDelayAnnotation, "soon"}}));
  EXPECT_EQ(bad.error().code(), Code::kInvalid);
}

TEST_F(FakeDriverTest, StartTwiceIsAlreadyExists) {
  ASSERT_TRUE(driver_->Start(Pod("a")).ok());
  EXPECT_EQ(driver_->Start(Pod("a")).error().code(), Code::kAlreadyExists);
  EXPECT_EQ(driver_->stats().starts, 1u);
}

TEST_F(FakeDriverTest, StartErrorAnnotationFailsTheStartAndHoldsNothing) {
  auto h = driver_->Start(Pod("e", {{kStartErrorAnnotation, "image busybox not found"}}));
  ASSERT_FALSE(h.ok());
  EXPECT_EQ(h.error().message(), "image busybox not found");
  EXPECT_FALSE(h.error().retryable());
  EXPECT_TRUE(driver_->Workloads().empty());
}

TEST_F(FakeDriverTest, VmsRunWithTheHostsAccelerator) {
  struct Case {
    const char* name;
    std::string host;
    std::string want;
    Code code;
    std::string accelerator;
  } cases[] = {
      {"auto on kvm", "kvm", "Auto", Code::kOk, "kvm"},
      {"tcg asked on kvm", "kvm", "TCG", Code::kOk, "tcg"},
      {"auto on tcg", "tcg", "Auto", Code::kOk, "tcg"},
      {"kvm asked on tcg", "tcg", "KVM", Code::kNotSupported, ""},
      {"no accelerator", "none", "Auto", Code::kNotSupported, ""},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    FakeOptions o;
    o.run_delay = milliseconds(0);
    o.accelerator = c.host;
    FakeDriver d(o);
    EXPECT_EQ(d.capabilities().vms, c.host != "none");
    EXPECT_EQ(d.capabilities().accelerator, c.host);
    auto h = d.Start(Vm("v", c.want));
    EXPECT_EQ(h.status().code(), c.code);
    if (!h.ok()) continue;
    ASSERT_TRUE(Eventually([&] { return d.StatusOf("v")->state == RunState::kRunning; }));
    EXPECT_EQ(d.StatusOf("v")->accelerator, c.accelerator);
    EXPECT_TRUE(d.StatusOf("v")->containers.empty());
  }
}

TEST_F(FakeDriverTest, SandboxedPodsNeedASandbox) {
  WorkloadSpec p = Pod("s");
  p.spec["isolation"] = "vm";
  EXPECT_EQ(driver_->Start(p).status().code(), Code::kNotSupported);
  FakeOptions o;
  o.sandbox = true;
  FakeDriver d(o);
  EXPECT_TRUE(d.capabilities().sandbox);
  EXPECT_TRUE(d.Start(p).ok());
}

TEST_F(FakeDriverTest, StopBeforeRunningDropsThePendingStart) {
  ASSERT_TRUE(driver_->Start(Pod("a")).ok());
  ASSERT_TRUE(driver_->Stop("a", milliseconds(30'000)).ok());
  EXPECT_EQ(driver_->StopGrace("a"), milliseconds(30'000));
  ASSERT_TRUE(Eventually([&] { return rec_.size() == 1; }));
  EXPECT_EQ(rec_.last().state, RunState::kExited);
  EXPECT_EQ(rec_.last().reason, "Stopped");
  clock_.Advance(milliseconds(5000));
  std::this_thread::sleep_for(milliseconds(40));
  EXPECT_EQ(StateOf("a"), RunState::kExited);  // the pending Running was dropped
  EXPECT_EQ(rec_.size(), 1u);
  EXPECT_EQ(driver_->stats().stops, 1u);
}

TEST_F(FakeDriverTest, DestroyForgetsTheWorkload) {
  ASSERT_TRUE(driver_->Start(Pod("a")).ok());
  ASSERT_TRUE(driver_->Destroy("a").ok());
  EXPECT_EQ(driver_->StatusOf("a").error().code(), Code::kNotFound);
  EXPECT_EQ(driver_->Destroy("a").code(), Code::kNotFound);
  EXPECT_EQ(driver_->Stop("a", milliseconds(0)).code(), Code::kNotFound);
  EXPECT_TRUE(driver_->Workloads().empty());
  clock_.Advance(milliseconds(5000));
  std::this_thread::sleep_for(milliseconds(40));
  EXPECT_EQ(rec_.size(), 0u);  // no Running for a destroyed workload
}

TEST_F(FakeDriverTest, RecoverAdoptsUnknownWorkloadsAsRunning) {
  Handle h;
  h.driver = "fake";
  h.uid = "old";
  ASSERT_TRUE(driver_->Recover(h, Pod("old")).ok());
  EXPECT_EQ(StateOf("old"), RunState::kRunning);
  EXPECT_EQ(driver_->StatusOf("old")->containers.size(), 2u);
  EXPECT_EQ(driver_->stats().recovers, 1u);
  EXPECT_EQ(driver_->stats().starts, 0u);

  // One it knows: nothing changes.
  ASSERT_TRUE(driver_->Start(Pod("new")).ok());
  h.uid = "new";
  ASSERT_TRUE(driver_->Recover(h, Pod("new")).ok());
  EXPECT_EQ(StateOf("new"), RunState::kStarting);
  EXPECT_EQ(driver_->stats().recovers, 1u);

  Handle foreign;
  foreign.driver = "qemu";
  foreign.uid = "x";
  EXPECT_EQ(driver_->Recover(foreign, Vm("x")).code(), Code::kInvalid);
  Handle future = h;
  future.version = Handle::kVersion + 1;
  future.uid = "y";
  EXPECT_EQ(driver_->Recover(future, Pod("y")).code(), Code::kInvalid);
}

TEST_F(FakeDriverTest, ExitAfterAnnotationExitsWithTheCode) {
  ASSERT_TRUE(driver_
                  ->Start(Pod("x", {{kRunDelayAnnotation, "0s"},
                                    {kExitAfterAnnotation, "2s"},
                                    {kExitCodeAnnotation, "3"}}))
                  .ok());
  ASSERT_TRUE(Eventually([&] { return rec_.size() == 1; }));
  clock_.Advance(milliseconds(2000));
  ASSERT_TRUE(Eventually([&] { return rec_.size() == 2; }));
  WorkloadStatus st = rec_.last();
  EXPECT_EQ(st.state, RunState::kExited);
  EXPECT_EQ(st.exit_code, 3);
  EXPECT_EQ(st.reason, "Error");
  EXPECT_EQ(st.finished_at, clock_.Now());
  EXPECT_EQ(st.containers[0].state, RunState::kExited);
  EXPECT_EQ(st.containers[0].exit_code, 3);
}

TEST_F(FakeDriverTest, SetListenerDetaches) {
  ASSERT_TRUE(driver_->Start(Pod("a")).ok());
  driver_->SetListener({});
  clock_.Advance(milliseconds(1000));
  ASSERT_TRUE(Eventually([&] { return StateOf("a") == RunState::kRunning; }));
  EXPECT_EQ(rec_.size(), 0u);
}

TEST_F(FakeDriverTest, DriversShareOneTimersThread) {
  FakeOptions o;
  o.clock = &clock_;
  o.run_delay = milliseconds(100);
  o.timers = std::make_shared<Timers>(&clock_);
  std::vector<std::unique_ptr<FakeDriver>> drivers;
  for (int i = 0; i < 50; ++i) {
    drivers.push_back(std::make_unique<FakeDriver>(o));
    ASSERT_TRUE(drivers.back()->Start(Pod("w")).ok());  // the same uid on each host
  }
  drivers.resize(25);  // a driver destroyed with a start pending is harmless
  clock_.Advance(milliseconds(100));
  for (auto& d : drivers) {
    ASSERT_TRUE(Eventually([&] { return d->StatusOf("w")->state == RunState::kRunning; }));
  }
}

TEST(FakeDurationTest, Parses) {
  struct Case {
    const char* text;
    std::optional<milliseconds> want;
  } cases[] = {
      {"500ms", milliseconds(500)},
      {"2s", milliseconds(2000)},
      {"1.5m", milliseconds(90'000)},
      {"1h", milliseconds(3'600'000)},
      {"3", milliseconds(3000)},
      {"0", milliseconds(0)},
      {"", std::nullopt},
      {"s", std::nullopt},
      {"5d", std::nullopt},
      {"-1s", std::nullopt},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.text);
    EXPECT_EQ(ParseDuration(c.text), c.want);
  }
}

}  // namespace
}  // namespace lintel::drivers::fake
