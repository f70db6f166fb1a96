// The control plane with hollow hosts, end to end in one process: the API
// server (ServerFixture), the scheduling and host lifecycle controllers, and
// agents running fake-driver hosts, all through the API. Hosts join, fill up,
// go NotReady and come back; the workloads follow.
#include <gtest/gtest.h>

#include "agent/agent.h"
#include "agent/hollow.h"
#include "api/kind.h"
#include "common/time_format.h"
#include "controllers/hostlifecycle/host_lifecycle_controller.h"
#include "controllers/scheduling/scheduling_controller.h"
#include "drivers/fake/fake_driver.h"
#include "eventually.h"
#include "server/local_client.h"
#include "server_fixture.h"

namespace lintel::agent {
namespace {

using drivers::fake::FakeDriver;
using drivers::fake::FakeOptions;
using std::chrono::milliseconds;
using std::chrono::seconds;
using testing::Eventually;

const client::Resource kPods{"lintel.dev", "v1alpha1", "pods", true};
const client::Resource kHosts{"lintel.dev", "v1alpha1", "hosts", false};
const client::Resource kLeases{"lintel.dev", "v1alpha1", "leases", true};

constexpr milliseconds kHeartbeat{1000};  // on the fake clock
constexpr seconds kGrace{4};

class EstateTest : public server::testing::ServerFixture {
 protected:
  void SetUp() override {
    ServerFixture::SetUp();
    client_ = std::make_shared<server::LocalClient>(resources_.get(), "system:lintel-agent");
    timers_ = std::make_shared<drivers::fake::Timers>(&clock_);
    controllers::SchedulingOptions so;
    so.retry_interval = milliseconds(200);
    so.failover_interval = milliseconds(0);
    sched_ = std::make_unique<controllers::SchedulingController>(client_, registry(), so);
    ASSERT_TRUE(sched_->Start().ok());
    controllers::HostLifecycleOptions lo;
    lo.grace = kGrace;
    lo.period = std::chrono::hours(1);  // checked by the test, on the fake clock
    lo.clock = &clock_;
    lifecycle_ = std::make_unique<controllers::HostLifecycleController>(client_, lo);
    ASSERT_TRUE(lifecycle_->Start().ok());
  }
  void TearDown() override {
    agents_.clear();
    timers_->Stop();
    lifecycle_->Stop();
    sched_->Stop();
    ServerFixture::TearDown();
  }

  // An agent process running `hosts`, each with 4 cpus (one per test Pod).
  // Restarting one with the same name means: new process, same machine, so
  // it keeps the machine's handle store (the fake driver's workloads live in
  // the HostAgent, so a restart re-adopts by starting them again).
  void StartAgent(const std::string& agent, const std::vector<std::string>& hosts) {
    agents_.erase(agent);
    AgentOptions o;
    o.clock = &clock_;
    o.heartbeat = kHeartbeat;
    auto a = std::make_unique<Agent>(client_, o);
    for (const auto& h : hosts) {
      HostConfig c;
      c.name = h;
      c.capacity = {{"cpu", "4"}, {"memory", "16Gi"}, {"pods", "110"}, {"vms", "16"}};
      c.addresses = Json::array({{{"type", "Hostname"}, {"address", h}}});
      FakeOptions f;
      f.clock = &clock_;
      f.timers = timers_;
      f.run_delay = milliseconds(0);
      a->AddHost(std::move(c), std::make_unique<FakeDriver>(f),
                 std::make_unique<MemoryHandleStore>());
    }
    ASSERT_TRUE(a->Start().ok());
    ASSERT_TRUE(a->WaitRegistered(seconds(10)));
    ASSERT_TRUE(a->WaitSynced(seconds(10)));
    agents_[agent] = std::move(a);
  }

  void CreatePod(const std::string& name) {
    Json pod = {{"apiVersion", "lintel.dev/v1alpha1"},
                {"kind", "Pod"},
                {"metadata", {{"name", name}}},
                {"spec",
                 {{"containers",
                   {{{"name", "m"},
                     {"image", "busybox"},
                     {"resources", {{"requests", {{"cpu", "1"}, {"memory", "1Gi"}}}}}}}}}}};
    auto r = client_->Create(kPods, "default", pod);
    ASSERT_TRUE(r.ok()) << r.error().ToString();
  }

  Json Get(const client::Resource& r, const std::string& name) {
    auto got = client_->Get(r, r.namespaced ? "default" : "", name);
    return got.ok() ? *got : Json::object();
  }
  static std::string Str(const Json& obj, const char* pointer) {
    const Json& v = api::At(obj, pointer);
    return v.is_string() ? v.get<std::string>() : "";
  }
  static Json ConditionOf(const Json& obj, const std::string& type) {
    for (const auto& c : api::At(obj, "/status/conditions")) {
      if (c.value("type", "") == type) return c;
    }
    return Json::object();
  }
  std::string HostReady(const std::string& host) {
    return ConditionOf(Get(kHosts, host), "Ready").value("status", "");
  }

  // Pods per host among those Running; "" counts the ones not bound.
  std::map<std::string, int> Placement(int pods) {
    std::map<std::string, int> n;
    for (int i = 0; i < pods; ++i) {
      Json p = Get(kPods, "p" + std::to_string(i));
      std::string host = Str(p, "/status/host");
      if (host.empty() || Str(p, "/status/phase") == "Running") {
        ++n[host];
      } else {
        ++n[host + " (" + Str(p, "/status/phase") + ")"];
      }
    }
    return n;
  }

  // Moves the fake clock past the grace, lets the live agents' heartbeats
  // land, and runs the lifecycle check.
  void PassTheGrace(const std::vector<std::string>& live_hosts) {
    clock_.Advance(kGrace + seconds(1));
    const std::string now = FormatRfc3339Micro(clock_.Now());
    for (const auto& h : live_hosts) {
      ASSERT_TRUE(Eventually([&] {
        auto seen = lifecycle_->LastRenewal(h);
        return seen && FormatRfc3339Micro(*seen) >= now;
      })) << h << " did not beat";
    }
    lifecycle_->CheckOnce();
  }

  FakeClock clock_;
  std::shared_ptr<client::Client> client_;
  std::shared_ptr<drivers::fake::Timers> timers_;
  std::unique_ptr<controllers::SchedulingController> sched_;
  std::unique_ptr<controllers::HostLifecycleController> lifecycle_;
  std::map<std::string, std::unique_ptr<Agent>> agents_;
};

TEST_F(EstateTest, HostsJoinFillGoNotReadyAndComeBack) {
  // Two hosts of 4 cpus; ten 1-cpu Pods: eight run, two wait with a reason.
  StartAgent("a", {"h1", "h2"});
  for (int i = 0; i < 10; ++i) CreatePod("p" + std::to_string(i));
  ASSERT_TRUE(Eventually([&] {
    auto n = Placement(10);
    return n["h1"] == 4 && n["h2"] == 4 && n[""] == 2;
  })) << "placement " << ::testing::PrintToString(Placement(10));
  ASSERT_TRUE(Eventually([&] {
    for (int i = 0; i < 10; ++i) {
      Json p = Get(kPods, "p" + std::to_string(i));
      if (Str(p, "/status/host").empty()) {
        return ConditionOf(p, "Scheduled").value("message", "") ==
               "0/2 hosts available: 2 insufficient cpu.";
      }
    }
    return false;
  }));

  // A third host joins: the two waiting Pods run there.
  StartAgent("b", {"h3"});
  ASSERT_TRUE(Eventually([&] {
    auto n = Placement(10);
    return n["h1"] == 4 && n["h2"] == 4 && n["h3"] == 2 && n[""] == 0;
  })) << "placement " << ::testing::PrintToString(Placement(10));

  // h3's agent stops: past the grace h3 is NotReady and gets nothing new,
  // although it has room; the others stay Ready.
  agents_.erase("b");
  PassTheGrace({"h1", "h2"});
  EXPECT_EQ(HostReady("h3"), "Unknown");
  EXPECT_EQ(HostReady("h1"), "True");
  EXPECT_EQ(HostReady("h2"), "True");
  ASSERT_TRUE(Eventually([&] { return sched_->HostReady("h3") == std::optional<bool>(false); }));
  CreatePod("p10");
  ASSERT_TRUE(Eventually([&] {
    return ConditionOf(Get(kPods, "p10"), "Scheduled").value("reason", "") == "Unschedulable";
  }));
  EXPECT_EQ(Str(Get(kPods, "p10"), "/status/host"), "");
  EXPECT_NE(ConditionOf(Get(kPods, "p10"), "Scheduled").value("message", "").find("not ready"),
            std::string::npos)
      << ConditionOf(Get(kPods, "p10"), "Scheduled").dump();

  // h3 comes back: Ready again, the waiting Pod lands on it, and its two
  // Pods from before are still Running there.
  StartAgent("b", {"h3"});
  ASSERT_TRUE(Eventually([&] { return HostReady("h3") == "True"; }));
  ASSERT_TRUE(Eventually([&] {
    return Str(Get(kPods, "p10"), "/status/host") == "h3" &&
           Str(Get(kPods, "p10"), "/status/phase") == "Running";
  }));
  auto n = Placement(11);
  EXPECT_EQ(n["h3"], 3);
  EXPECT_EQ(n[""], 0);
}

}  // namespace
}  // namespace lintel::agent
