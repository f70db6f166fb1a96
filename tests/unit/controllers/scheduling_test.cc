// The scheduling and host lifecycle controllers against a real API stack
// (Resources on SQLite, in-process client): bindings, capacity, unschedulable
// conditions and Events, parking and retry, NotReady hosts, failover status.
#include "controllers/scheduling/scheduling_controller.h"

#include <thread>

#include "common/time_format.h"
#include "controllers/hostlifecycle/host_lifecycle_controller.h"
#include "server/local_client.h"
#include "server_fixture.h"

namespace lintel::controllers {
namespace {

class SchedulingTest : public server::testing::ServerFixture {
 protected:
  void SetUp() override {
    ServerFixture::SetUp();
    client_ = std::make_shared<server::LocalClient>(resources_.get());
  }
  void TearDown() override {
    if (sched_) sched_->Stop();
    ServerFixture::TearDown();
  }
  void StartScheduler(SchedulingOptions o = {}) {
    o.retry_interval = std::chrono::milliseconds(200);
    sched_ = std::make_unique<SchedulingController>(client_, registry(), o);
    ASSERT_TRUE(sched_->Start().ok());
  }

  // A Host as an agent registers it: cpu cores, memory, Ready with a heartbeat now.
  void AddHost(const std::string& name, int cpu, const std::string& memory,
               const std::string& ready = "True", Json labels = Json::object()) {
    labels["lintel.dev/hostname"] = name;
    MustCreate({{"apiVersion", "lintel.dev/v1alpha1"},
                {"kind", "Host"},
                {"metadata", {{"name", name}, {"labels", labels}}}},
               "", "hosts");
    SetHostStatus(name, cpu, memory, ready, FormatRfc3339(std::chrono::system_clock::now()));
  }
  void SetHostStatus(const std::string& name, int cpu, const std::string& memory,
                     const std::string& ready, const std::string& heartbeat) {
    Json status = {{"allocatable",
                    {{"cpu", std::to_string(cpu)}, {"memory", memory}, {"pods", "110"}}},
                   {"runtime", {{"accelerator", "kvm"}}},
                   {"conditions",
                    {{{"type", "Ready"},
                      {"status", ready},
                      {"lastHeartbeatTime", heartbeat},
                      {"lastTransitionTime", heartbeat}}}}};
    auto r = client_->Patch(Hosts(), "", name, client::PatchType::kMerge, {{"status", status}},
                            {}, "status");
    ASSERT_TRUE(r.ok()) << r.error().ToString();
  }
  static client::Resource Hosts() { return {"lintel.dev", "v1alpha1", "hosts", false}; }

  Json Pod(const std::string& name, const std::string& cpu) {
    return {{"apiVersion", "lintel.dev/v1alpha1"},
            {"kind", "Pod"},
            {"metadata", {{"name", name}}},
            {"spec",
             {{"containers",
               {{{"name", "m"},
                 {"image", "busybox"},
                 {"resources", {{"requests", {{"cpu", cpu}, {"memory", "64Mi"}}}}}}}}}}};
  }
  Json BigVm(const std::string& name, const std::string& memory) {
    return {{"apiVersion", "lintel.dev/v1alpha1"},
            {"kind", "VirtualMachine"},
            {"metadata", {{"name", name}}},
            {"spec", {{"image", "tiny"}, {"cpu", 2}, {"memory", memory}}}};
  }

  std::string HostOf(const std::string& name, const char* kind) {
    auto r = resources_->Get(Kind(kind), "default", name);
    if (!r.ok()) return "";
    return api::At(*ParseJson(*r), "/status/host").is_string()
               ? api::At(*ParseJson(*r), "/status/host").get<std::string>()
               : "";
  }
  bool Eventually(const std::function<bool()>& cond, int seconds = 10) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
    while (std::chrono::steady_clock::now() < deadline) {
      if (cond()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return cond();
  }
  Json Condition(const Json& obj, const std::string& type) {
    const Json& conds = api::At(obj, "/status/conditions");
    if (conds.is_array()) {
      for (const auto& c : conds) {
        if (c.value("type", "") == type) return c;
      }
    }
    return Json::object();
  }

  std::shared_ptr<server::LocalClient> client_;
  std::unique_ptr<SchedulingController> sched_;
};

TEST_F(SchedulingTest, BindsPodsAndVmsToReadyHostsWithACondition) {
  AddHost("h1", 8, "16Gi");
  AddHost("h2", 8, "16Gi");
  StartScheduler();
  MustCreate(Pod("web", "500m"), "default", "pods");
  MustCreate(BigVm("db", "2Gi"));
  ASSERT_TRUE(Eventually([&] { return !HostOf("web", "pods").empty(); }));
  ASSERT_TRUE(Eventually([&] { return !HostOf("db", "virtualmachines").empty(); }));
  for (auto [name, kind] : {std::pair{"web", "pods"}, {"db", "virtualmachines"}}) {
    Json o = MustGet(name, "default", kind);
    std::string host = api::At(o, "/status/host").get<std::string>();
    EXPECT_TRUE(host == "h1" || host == "h2") << host;
    EXPECT_EQ(Condition(o, "Scheduled").value("status", ""), "True");
  }
  EXPECT_EQ(api::At(MustGet("db"), "/status/phase"), "Scheduled");
  EXPECT_EQ(sched_->stats().bound, 2u);
}

TEST_F(SchedulingTest, NeverOverfillsAHostAndRetriesWhenRoomIsFreed) {
  AddHost("small", 2, "8Gi");
  StartScheduler();
  for (int i = 0; i < 5; ++i) MustCreate(Pod("p" + std::to_string(i), "1"), "default", "pods");
  auto bound = [&] {
    int n = 0;
    for (int i = 0; i < 5; ++i) n += !HostOf("p" + std::to_string(i), "pods").empty();
    return n;
  };
  ASSERT_TRUE(Eventually([&] { return bound() == 2 && sched_->stats().parked == 3; }));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // retries change nothing
  EXPECT_EQ(bound(), 2);

  // The unbound ones say why, once, with an Event.
  std::string unbound;
  for (int i = 0; i < 5; ++i) {
    if (HostOf("p" + std::to_string(i), "pods").empty()) unbound = "p" + std::to_string(i);
  }
  Json cond = Condition(MustGet(unbound, "default", "pods"), "Scheduled");
  EXPECT_EQ(cond.value("status", ""), "False");
  EXPECT_EQ(cond.value("reason", ""), "Unschedulable");
  EXPECT_EQ(cond.value("message", ""), "0/1 hosts available: 1 insufficient cpu.");
  client::ListOptions by_object;
  by_object.field_selector = "involvedObject.name=" + unbound;
  auto events = client_->List({"lintel.dev", "v1alpha1", "events", true}, "default", by_object);
  ASSERT_TRUE(events.ok());
  ASSERT_EQ((*events)["items"].size(), 1u);
  EXPECT_EQ((*events)["items"][0]["reason"], "FailedScheduling");

  // Deleting a bound Pod frees room for exactly one more.
  for (int i = 0; i < 5; ++i) {
    if (!HostOf("p" + std::to_string(i), "pods").empty()) {
      ASSERT_TRUE(resources_->Delete(Kind("pods"), "default", "p" + std::to_string(i), {}).ok());
      break;
    }
  }
  auto remaining_bound = [&] {
    int n = 0;
    for (int i = 0; i < 5; ++i) {
      auto r = resources_->Get(Kind("pods"), "default", "p" + std::to_string(i));
      n += r.ok() && !HostOf("p" + std::to_string(i), "pods").empty();
    }
    return n;
  };
  EXPECT_TRUE(Eventually([&] { return remaining_bound() == 2; }));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_EQ(remaining_bound(), 2);
}

TEST_F(SchedulingTest, UnschedulableVmIsPlacedWhenABigEnoughHostJoins) {
  AddHost("h1", 4, "4Gi");
  StartScheduler();
  MustCreate(BigVm("big", "32Gi"));
  ASSERT_TRUE(Eventually([&] {
    return Condition(MustGet("big"), "Scheduled").value("message", "") ==
           "0/1 hosts available: 1 insufficient memory.";
  }));
  AddHost("h2", 16, "64Gi");
  EXPECT_TRUE(Eventually([&] { return HostOf("big", "virtualmachines") == "h2"; }));
}

TEST_F(SchedulingTest, NotReadyAndMaintenanceHostsGetNothingNew) {
  AddHost("down", 8, "16Gi", "Unknown");
  AddHost("maint", 8, "16Gi");
  Json maintenance = {{"spec", {{"unschedulable", true}}}};
  auto r = client_->Patch(Hosts(), "", "maint", client::PatchType::kMerge, maintenance, {}, "");
  ASSERT_TRUE(r.ok());
  StartScheduler();
  MustCreate(Pod("p", "100m"), "default", "pods");
  ASSERT_TRUE(Eventually([&] { return sched_->stats().parked == 1; }));
  EXPECT_EQ(HostOf("p", "pods"), "");
  AddHost("up", 8, "16Gi");
  EXPECT_TRUE(Eventually([&] { return HostOf("p", "pods") == "up"; }));
}

TEST_F(SchedulingTest, HostsThatStopHeartbeatingBecomeNotReady) {
  AddHost("fresh", 8, "16Gi");
  AddHost("stale", 8, "16Gi");
  SetHostStatus("stale", 8, "16Gi", "True",
                FormatRfc3339(std::chrono::system_clock::now() - std::chrono::minutes(5)));
  HostLifecycleOptions o;
  o.grace = std::chrono::seconds(40);
  o.period = std::chrono::hours(1);  // checked by hand below
  HostLifecycleController hl(client_, o);
  ASSERT_TRUE(hl.Start().ok());
  hl.CheckOnce();
  auto ready = [&](const std::string& h) {
    return Condition(MustGet(h, "", "hosts"), "Ready").value("status", "");
  };
  EXPECT_EQ(ready("stale"), "Unknown");
  EXPECT_EQ(Condition(MustGet("stale", "", "hosts"), "Ready").value("reason", ""),
            "AgentStoppedHeartbeating");
  EXPECT_EQ(ready("fresh"), "True");
  hl.Stop();
}

TEST_F(SchedulingTest, FailoverStatusSaysWhetherVmsCouldRestartElsewhere) {
  AddHost("a", 8, "16Gi", "True", {{"rack", "r1"}});
  SchedulingOptions o;
  o.failover_interval = std::chrono::milliseconds(100);
  StartScheduler(o);
  MustCreate(BigVm("vm1", "8Gi"));
  ASSERT_TRUE(Eventually([&] { return HostOf("vm1", "virtualmachines") == "a"; }));
  // Alone, host a's VM has nowhere to go.
  ASSERT_TRUE(Eventually([&] {
    return api::At(MustGet("a", "", "hosts"), "/status/failover/vmsCanRestart") == false;
  }));
  EXPECT_EQ(api::At(MustGet("a", "", "hosts"), "/status/failover/unplaced"),
            Json::array({"default/vm1"}));
  AddHost("b", 8, "16Gi");
  EXPECT_TRUE(Eventually([&] {
    return api::At(MustGet("a", "", "hosts"), "/status/failover/vmsCanRestart") == true;
  }));
}

TEST_F(SchedulingTest, HaReserveKeepsRoomToRestartTheVmsOfAFailedHost) {
  AddHost("a", 16, "16Gi");
  AddHost("b", 16, "16Gi");
  SchedulingOptions o;
  o.reserve_host_failures = 1;
  StartScheduler(o);
  // One 8 GiB VM: if its host fails it restarts on the other.
  MustCreate(BigVm("vm1", "8Gi"));
  ASSERT_TRUE(Eventually([&] { return !HostOf("vm1", "virtualmachines").empty(); }));
  // A second one would fit, but then neither host could take the other's VM.
  MustCreate(BigVm("vm2", "8Gi"));
  ASSERT_TRUE(Eventually([&] {
    return Condition(MustGet("vm2"), "Scheduled").value("reason", "") == "Unschedulable";
  }));
  EXPECT_EQ(HostOf("vm2", "virtualmachines"), "");
  EXPECT_EQ(Condition(MustGet("vm2"), "Scheduled").value("message", "").rfind("HA admission: ", 0),
            0u)
      << Condition(MustGet("vm2"), "Scheduled").dump();
  // Pods are not held back by the reserve.
  MustCreate(Pod("p", "1"), "default", "pods");
  EXPECT_TRUE(Eventually([&] { return !HostOf("p", "pods").empty(); }));
  // A third host restores the reserve: vm2 is admitted.
  AddHost("c", 16, "16Gi");
  EXPECT_TRUE(Eventually([&] { return !HostOf("vm2", "virtualmachines").empty(); }));
}

TEST_F(SchedulingTest, HostLeaseLapsesAndResumes) {
  AddHost("h", 8, "16Gi");
  const client::Resource leases{"lintel.dev", "v1alpha1", "leases", true};
  const auto now = std::chrono::system_clock::now();
  Json lease = {{"apiVersion", "lintel.dev/v1alpha1"},
                {"kind", "Lease"},
                {"metadata", {{"name", "h"}, {"namespace", "lintel-host-leases"}}},
                {"spec", {{"holderIdentity", "h"}, {"renewTime", FormatRfc3339Micro(now)}}}};
  ASSERT_TRUE(client_->Create(leases, "lintel-host-leases", lease, {}).ok());
  FakeClock clock(now);
  HostLifecycleOptions o;
  o.grace = std::chrono::seconds(40);
  o.period = std::chrono::hours(1);
  o.clock = &clock;
  HostLifecycleController hl(client_, o);
  ASSERT_TRUE(hl.Start().ok());
  auto ready = [&] { return Condition(MustGet("h", "", "hosts"), "Ready"); };
  // Renewed 30 s ago: still Ready.
  clock.Advance(std::chrono::seconds(30));
  hl.CheckOnce();
  EXPECT_EQ(ready().value("status", ""), "True");
  // 50 s: lapsed.
  clock.Advance(std::chrono::seconds(20));
  hl.CheckOnce();
  ASSERT_TRUE(Eventually([&] { return ready().value("status", "") == "Unknown"; }));
  EXPECT_EQ(ready().value("reason", ""), "AgentStoppedHeartbeating");
  // The agent renews again (it never restarted): Ready again.
  clock.Advance(std::chrono::seconds(1));
  const std::string renewed = FormatRfc3339Micro(clock.Now());
  ASSERT_TRUE(client_
                  ->Patch(leases, "lintel-host-leases", "h", client::PatchType::kMerge,
                          {{"spec", {{"renewTime", renewed}}}}, {}, "")
                  .ok());
  ASSERT_TRUE(Eventually([&] {
    auto seen = hl.LastRenewal("h");
    return seen && FormatRfc3339Micro(*seen) == renewed;
  }));
  hl.CheckOnce();
  ASSERT_TRUE(Eventually([&] { return ready().value("status", "") == "True"; }));
  EXPECT_EQ(ready().value("reason", ""), "AgentReady");
  hl.Stop();
}

}  // namespace
}  // namespace lintel::controllers
