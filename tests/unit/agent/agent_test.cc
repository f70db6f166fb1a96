// The agent against an in-process API server (ServerFixture on a real SQLite
// store, through LocalClient): the test plays the scheduler by setting
// status.host.
#include "agent/agent.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>

#include "agent/hollow.h"
#include "common/time_format.h"
#include "drivers/fake/fake_driver.h"
#include "eventually.h"
#include "server/local_client.h"
#include "server_fixture.h"
#include "support/temp_dir.h"

namespace lintel::agent {
namespace {

using drivers::fake::FakeDriver;
using drivers::fake::FakeOptions;
using std::chrono::milliseconds;
using testing::Eventually;

const client::Resource kPods{"lintel.dev", "v1alpha1", "pods", true};
const client::Resource kVms{"lintel.dev", "v1alpha1", "virtualmachines", true};
const client::Resource kHosts{"lintel.dev", "v1alpha1", "hosts", false};
const client::Resource kLeases{"lintel.dev", "v1alpha1", "leases", true};

class AgentTest : public server::testing::ServerFixture {
 protected:
  void SetUp() override {
    ServerFixture::SetUp();
    client_ = std::make_shared<server::LocalClient>(resources_.get(), "system:lintel-agent");
    timers_ = std::make_shared<drivers::fake::Timers>(&agent_clock_);
  }
  void TearDown() override {
    agent_.reset();
    timers_->Stop();
    ServerFixture::TearDown();
  }

  HostConfig Config(const std::string& name) {
    HostConfig c;
    c.name = name;
    c.capacity = {{"cpu", "32"}, {"memory", "128Gi"}, {"pods", "110"}, {"vms", "64"}};
    c.labels = {{"rack", "r1"}};
    c.addresses = Json::array({{{"type", "Hostname"}, {"address", name}}});
    c.agent_version = "v0.0.0-test";
    return c;
  }

  FakeOptions Fake(milliseconds run_delay) {
    FakeOptions o;
    o.run_delay = run_delay;
    o.clock = &agent_clock_;
    o.timers = timers_;
    return o;
  }

  // A fresh agent (replacing any earlier one) with one FakeDriver per host;
  // drivers_[name] points at each.
  // `handle_dir`: kept on disk there (FileHandleStore, one folder per host),
  // as a real agent keeps them across restarts; "": in memory.
  void StartAgent(const std::vector<std::string>& hosts, milliseconds run_delay = milliseconds(0),
                  milliseconds heartbeat = milliseconds(10'000),
                  const std::string& handle_dir = "") {
    agent_.reset();
    drivers_.clear();
    AgentOptions o;
    o.clock = &agent_clock_;
    o.heartbeat = heartbeat;
    agent_ = std::make_unique<Agent>(client_, o);
    for (const auto& h : hosts) {
      auto d = std::make_unique<FakeDriver>(Fake(run_delay));
      drivers_[h] = d.get();
      std::unique_ptr<HandleStore> handles;
      if (handle_dir.empty()) {
        handles = std::make_unique<MemoryHandleStore>();
      } else {
        auto file = FileHandleStore::Open(handle_dir + "/" + h);
        ASSERT_TRUE(file.ok());
        handles = std::move(*file);
      }
      agent_->AddHost(Config(h), std::move(d), std::move(handles));
    }
    ASSERT_TRUE(agent_->Start().ok());
    ASSERT_TRUE(agent_->WaitRegistered(std::chrono::seconds(10)));
    ASSERT_TRUE(agent_->WaitSynced(std::chrono::seconds(10)));
  }

  Json Get(const client::Resource& r, const std::string& name, const std::string& ns = "default") {
    auto got = client_->Get(r, r.namespaced ? ns : "", name);
    return got.ok() ? *got : Json();
  }

  static std::string Phase(const Json& obj) {
    return obj.is_object() && obj.contains("status") ? obj["status"].value("phase", "") : "";
  }

  static Json ConditionOf(const Json& obj, const std::string& type) {
    if (!obj.is_object() || !obj.contains("status")) return Json();
    for (const auto& c : obj["status"].value("conditions", Json::array())) {
      if (c.value("type", "") == type) return c;
    }
    return Json();
  }

  Json CreatePod(const std::string& name, Json annotations = Json::object()) {
    Json containers = Json::array(
        {{{"name", "main"}, {"image", "busybox"}}, {{"name", "side"}, {"image", "nginx"}}});
    Json pod = {{"apiVersion", "lintel.dev/v1alpha1"},
                {"kind", "Pod"},
                {"metadata", {{"name", name}, {"annotations", annotations}}},
                {"spec", {{"containers", containers}}}};
    auto r = client_->Create(kPods, "default", pod);
    EXPECT_TRUE(r.ok()) << r.error().ToString();
    return r.ok() ? *r : Json();
  }

  Json CreateVm(const std::string& name) {
    auto r = client_->Create(kVms, "default", Vm(name));
    EXPECT_TRUE(r.ok()) << r.error().ToString();
    return r.ok() ? *r : Json();
  }

  // What the scheduler does: status.host and a Scheduled condition.
  void Bind(const client::Resource& r, const std::string& name, const std::string& host) {
    Json patch = {
        {"status",
         {{"host", host},
          {"conditions", Json::array({{{"type", "Scheduled"},
                                       {"status", "True"},
                                       {"reason", "Scheduled"},
                                       {"lastTransitionTime", "2026-01-01T00:00:00Z"}}})}}}};
    if (&r == &kVms) patch["status"]["phase"] = "Scheduled";
    auto p = client_->Patch(r, "default", name, client::PatchType::kMerge, patch, {}, "status");
    ASSERT_TRUE(p.ok()) << p.error().ToString();
  }

  bool Running(const client::Resource& r, const std::string& name) {
    return Eventually([&] { return Phase(Get(r, name)) == "Running"; });
  }

  std::shared_ptr<client::Client> client_;
  FakeClock agent_clock_;  // the agent's and its drivers' time
  std::shared_ptr<drivers::fake::Timers> timers_;
  std::unique_ptr<Agent> agent_;
  std::map<std::string, FakeDriver*> drivers_;
};

TEST_F(AgentTest, HostsRegisterWithCapacityRuntimeAndReady) {
  StartAgent({"h1", "h2"});
  for (const char* name : {"h1", "h2"}) {
    SCOPED_TRACE(name);
    Json h = Get(kHosts, name);
    ASSERT_TRUE(h.is_object());
    EXPECT_EQ(h["metadata"]["labels"], Json({{"lintel.dev/hostname", name}, {"rack", "r1"}}));
    Json capacity = {{"cpu", "32"}, {"memory", "128Gi"}, {"pods", "110"}, {"vms", "64"}};
    EXPECT_EQ(h["status"]["capacity"], capacity);
    EXPECT_EQ(h["status"]["allocatable"], capacity);
    EXPECT_EQ(h["status"]["runtime"], Json({{"accelerator", "kvm"},
                                            {"sandbox", false},
                                            {"drivers", {"fake"}},
                                            {"agentVersion", "v0.0.0-test"}}));
    EXPECT_EQ(h["status"]["addresses"], Json::array({{{"type", "Hostname"}, {"address", name}}}));
    Json ready = ConditionOf(h, "Ready");
    EXPECT_EQ(ready["status"], "True");
    EXPECT_EQ(ready["reason"], "AgentReady");
    EXPECT_EQ(ready["lastHeartbeatTime"], FormatRfc3339(agent_clock_.Now()));
    EXPECT_EQ(ready["lastTransitionTime"], FormatRfc3339(agent_clock_.Now()));
    EXPECT_EQ(h["spec"]["unschedulable"], false);  // the server's default, untouched
  }
  EXPECT_EQ(agent_->registered(), 2u);
}

TEST_F(AgentTest, ReRegistrationLeavesTheOperatorsSpecAndLabelsAlone) {
  Json host = {{"apiVersion", "lintel.dev/v1alpha1"},
               {"kind", "Host"},
               {"metadata", {{"name", "h1"}, {"labels", {{"team", "db"}, {"rack", "old"}}}}},
               {"spec", {{"unschedulable", true}}}};
  ASSERT_TRUE(client_->Create(kHosts, "", host).ok());
  StartAgent({"h1"});
  Json h = Get(kHosts, "h1");
  EXPECT_EQ(h["spec"]["unschedulable"], true);
  EXPECT_EQ(h["metadata"]["labels"],
            Json({{"lintel.dev/hostname", "h1"}, {"rack", "r1"}, {"team", "db"}}));
  EXPECT_EQ(ConditionOf(h, "Ready")["status"], "True");
}

TEST_F(AgentTest, HeartbeatRenewsTheHostsLease) {
  StartAgent({"h1"}, milliseconds(0), milliseconds(10'000));
  const std::string t0 = FormatRfc3339(agent_clock_.Now());
  Json lease = Get(kLeases, "h1", "lintel-host-leases");
  ASSERT_TRUE(lease.is_object());
  EXPECT_EQ(lease["spec"]["holderIdentity"], "h1");
  EXPECT_EQ(lease["spec"]["leaseDurationSeconds"], 40);
  EXPECT_EQ(lease["spec"]["renewTime"], FormatRfc3339Micro(agent_clock_.Now()));
  EXPECT_EQ(lease["metadata"]["ownerReferences"][0]["uid"], Get(kHosts, "h1")["metadata"]["uid"]);
  const std::string host_rv = Get(kHosts, "h1")["metadata"]["resourceVersion"];
  agent_clock_.Advance(std::chrono::seconds(10));
  const std::string t1 = FormatRfc3339Micro(agent_clock_.Now());
  ASSERT_TRUE(Eventually(
      [&] { return Get(kLeases, "h1", "lintel-host-leases")["spec"]["renewTime"] == t1; }));
  // The Host is not written by heartbeats: Ready as registration wrote it.
  Json host = Get(kHosts, "h1");
  EXPECT_EQ(host["metadata"]["resourceVersion"], host_rv);
  EXPECT_EQ(ConditionOf(host, "Ready")["status"], "True");
  EXPECT_EQ(ConditionOf(host, "Ready")["lastTransitionTime"], t0);
}

TEST_F(AgentTest, HeartbeatReRegistersAHostDeletedUnderIt) {
  StartAgent({"h1"}, milliseconds(0), milliseconds(10'000));
  ASSERT_TRUE(client_->Delete(kHosts, "", "h1").ok());
  // What the garbage collector does with the Host's Lease (not running here).
  ASSERT_TRUE(client_->Delete(kLeases, "lintel-host-leases", "h1").ok());
  agent_clock_.Advance(std::chrono::seconds(10));
  ASSERT_TRUE(
      Eventually([&] { return ConditionOf(Get(kHosts, "h1"), "Ready")["status"] == "True"; }));
  EXPECT_EQ(Get(kHosts, "h1")["status"]["capacity"]["cpu"], "32");
  ASSERT_TRUE(Eventually([&] {
    return Get(kLeases, "h1", "lintel-host-leases")["metadata"]["ownerReferences"][0]["uid"] ==
           Get(kHosts, "h1")["metadata"]["uid"];
  }));
}

TEST_F(AgentTest, TransitionsAreRecordedAsEvents) {
  StartAgent({"h1"});
  CreatePod("web");
  Bind(kPods, "web", "h1");
  ASSERT_TRUE(Running(kPods, "web"));
  const client::Resource events{"lintel.dev", "v1alpha1", "events", true};
  // "REASON: MESSAGE" of the Events about the pod.
  auto about = [&](const std::string& name) {
    std::vector<std::string> out;
    auto list = client_->List(events, "default", {});
    if (!list.ok()) return out;
    for (const auto& e : (*list)["items"]) {
      if (e["involvedObject"].value("name", "") != name) continue;
      out.push_back(e.value("reason", "") + ": " + e.value("message", ""));
    }
    std::sort(out.begin(), out.end());
    return out;
  };
  ASSERT_TRUE(Eventually([&] { return about("web").size() == 2; }));
  EXPECT_EQ(about("web"), (std::vector<std::string>{"Started: Started container main",
                                                    "Started: Started container side"}));
  ASSERT_TRUE(client_->Delete(kPods, "default", "web").ok());
  ASSERT_TRUE(Eventually([&] { return about("web").size() == 3; }));
  EXPECT_EQ(about("web")[0], "Killing: Stopping the pod's containers (grace 30s)");
}

TEST_F(AgentTest, BoundPodAndVmRunAfterTheRunDelay) {
  StartAgent({"h1", "h2"}, milliseconds(1000));
  CreatePod("web");
  CreateVm("db");
  CreatePod("unbound");
  Bind(kPods, "web", "h1");
  Bind(kVms, "db", "h2");
  ASSERT_TRUE(Eventually([&] { return drivers_["h1"]->Workloads().size() == 1; }));
  ASSERT_TRUE(Eventually([&] { return drivers_["h2"]->Workloads().size() == 1; }));
  // Started, not yet Running: the API is not told anything yet.
  EXPECT_EQ(Phase(Get(kPods, "web")), "");
  EXPECT_EQ(Phase(Get(kVms, "db")), "Scheduled");

  agent_clock_.Advance(milliseconds(1000));
  ASSERT_TRUE(Running(kPods, "web"));
  ASSERT_TRUE(Running(kVms, "db"));
  const std::string now = FormatRfc3339(agent_clock_.Now());

  Json pod = Get(kPods, "web");
  EXPECT_EQ(pod["status"]["host"], "h1");
  EXPECT_EQ(pod["status"]["startTime"], now);
  Json ready = ConditionOf(pod, "Ready");
  EXPECT_EQ(ready["status"], "True");
  EXPECT_EQ(ready["lastTransitionTime"], now);
  EXPECT_EQ(ConditionOf(pod, "Scheduled")["status"], "True");  // the scheduler's, kept
  ASSERT_EQ(pod["status"]["containerStatuses"].size(), 2u);
  for (const auto& cs : pod["status"]["containerStatuses"]) {
    EXPECT_EQ(cs["ready"], true);
    EXPECT_EQ(cs["restartCount"], 0);
    EXPECT_EQ(cs["state"]["running"]["startedAt"], now);
  }
  EXPECT_EQ(pod["status"]["containerStatuses"][0]["name"], "main");

  Json vm = Get(kVms, "db");
  EXPECT_EQ(vm["status"]["accelerator"], "kvm");
  EXPECT_EQ(vm["status"]["startTime"], now);
  EXPECT_EQ(ConditionOf(vm, "Ready")["status"], "True");
  EXPECT_EQ(ConditionOf(vm, "Scheduled")["status"], "True");

  // Unbound workloads are not ours.
  EXPECT_EQ(Phase(Get(kPods, "unbound")), "");
  EXPECT_EQ(drivers_["h1"]->stats().starts + drivers_["h2"]->stats().starts, 2u);
  // One write per transition: the Running one for each.
  ASSERT_TRUE(Eventually([&] { return agent_->stats().writer.succeeded >= 2 + 2; }));
  EXPECT_EQ(agent_->stats().totals.reports, 2u);
}

TEST_F(AgentTest, WorkloadBoundToAnotherHostIsIgnored) {
  StartAgent({"h1", "h2"});
  CreatePod("elsewhere");
  Bind(kPods, "elsewhere", "real-host-9");
  CreatePod("here");
  Bind(kPods, "here", "h1");
  ASSERT_TRUE(Running(kPods, "here"));
  EXPECT_EQ(Phase(Get(kPods, "elsewhere")), "");
  EXPECT_EQ(drivers_["h1"]->stats().starts + drivers_["h2"]->stats().starts, 1u);
}

TEST_F(AgentTest, DeletedWorkloadIsStoppedAndDestroyed) {
  StartAgent({"h1"});
  CreatePod("web");
  Bind(kPods, "web", "h1");
  ASSERT_TRUE(Running(kPods, "web"));
  std::string uid = Get(kPods, "web")["metadata"]["uid"];
  ASSERT_TRUE(client_->Delete(kPods, "default", "web").ok());
  FakeDriver* d = drivers_["h1"];
  ASSERT_TRUE(Eventually([&] { return d->Workloads().empty(); }));
  EXPECT_EQ(d->stats().stops, 1u);
  EXPECT_EQ(d->stats().destroys, 1u);
  EXPECT_EQ(d->StopGrace(uid), milliseconds(30'000));  // terminationGracePeriodSeconds
  ASSERT_TRUE(Eventually([&] { return agent_->stats().workloads == 0; }));
}

TEST_F(AgentTest, ReboundWorkloadMovesBetweenHosts) {
  StartAgent({"h1", "h2"});
  CreateVm("db");
  Bind(kVms, "db", "h1");
  ASSERT_TRUE(Running(kVms, "db"));
  Bind(kVms, "db", "h2");
  ASSERT_TRUE(Eventually([&] {
    return drivers_["h1"]->Workloads().empty() && drivers_["h2"]->Workloads().size() == 1;
  }));
  EXPECT_EQ(drivers_["h1"]->stats().stops, 1u);
  EXPECT_EQ(drivers_["h2"]->stats().starts, 1u);
}

TEST_F(AgentTest, StartErrorIsReportedAsFailed) {
  StartAgent({"h1"});
  CreatePod("broken", {{drivers::fake::kStartErrorAnnotation, "image busybox: not found"}});
  Bind(kPods, "broken", "h1");
  ASSERT_TRUE(Eventually([&] { return Phase(Get(kPods, "broken")) == "Failed"; }));
  Json pod = Get(kPods, "broken");
  EXPECT_EQ(pod["status"]["reason"], "StartError");
  EXPECT_EQ(pod["status"]["message"], "image busybox: not found");
  EXPECT_EQ(ConditionOf(pod, "Ready")["status"], "False");
  EXPECT_EQ(pod["status"]["containerStatuses"][0]["state"]["terminated"]["reason"], "StartError");
}

TEST_F(AgentTest, VmUserDataFromASecretWaitsForTheSecret) {
  StartAgent({"h1"});
  Json vm = Vm("with-secret");
  vm["spec"]["cloudInit"] = {{"userDataSecretRef", {{"name", "ud"}}}};
  ASSERT_TRUE(client_->Create(kVms, "default", vm).ok());
  Bind(kVms, "with-secret", "h1");
  const client::Resource events{"lintel.dev", "v1alpha1", "events", true};
  auto failed_start = [&] {
    auto list = client_->List(events, "default", {});
    if (!list.ok()) return std::string();
    for (const auto& e : (*list)["items"]) {
      if (e.value("reason", "") == "FailedStart") return e.value("message", "");
    }
    return std::string();
  };
  ASSERT_TRUE(Eventually([&] { return !failed_start().empty(); }));
  EXPECT_NE(failed_start().find("spec.cloudInit.userDataSecretRef: secret default/ud not found"),
            std::string::npos)
      << failed_start();
  EXPECT_NE(Phase(Get(kVms, "with-secret")), "Running");
  // The Secret arrives: the next attempt starts the VM.
  const client::Resource secrets{"lintel.dev", "v1alpha1", "secrets", true};
  Json secret = {{"apiVersion", "lintel.dev/v1alpha1"},
                 {"kind", "Secret"},
                 {"metadata", {{"name", "ud"}}},
                 {"stringData", {{"userdata", "#!/bin/sh\necho hi\n"}}}};
  ASSERT_TRUE(client_->Create(secrets, "default", secret).ok());
  EXPECT_TRUE(Running(kVms, "with-secret"));
}

TEST_F(AgentTest, ExitedPodIsReportedSucceeded) {
  StartAgent({"h1"});
  CreatePod("job", {{drivers::fake::kExitAfterAnnotation, "5s"}});
  Bind(kPods, "job", "h1");
  ASSERT_TRUE(Running(kPods, "job"));
  agent_clock_.Advance(std::chrono::seconds(5));
  ASSERT_TRUE(Eventually([&] { return Phase(Get(kPods, "job")) == "Succeeded"; }));
  Json pod = Get(kPods, "job");
  EXPECT_EQ(pod["status"]["containerStatuses"][0]["state"]["terminated"]["exitCode"], 0);
  EXPECT_EQ(ConditionOf(pod, "Ready")["status"], "False");
}

TEST_F(AgentTest, RestartReadoptsWithoutStartingTwiceOrRewriting) {
  StartAgent({"h1", "h2"});
  for (int i = 0; i < 5; ++i) {
    std::string name = "p" + std::to_string(i);
    CreatePod(name);
    Bind(kPods, name, i % 2 ? "h1" : "h2");
  }
  CreateVm("db");
  Bind(kVms, "db", "h1");
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(Running(kPods, "p" + std::to_string(i)));
  ASSERT_TRUE(Running(kVms, "db"));
  std::map<std::string, std::string> rvs;
  for (int i = 0; i < 5; ++i) {
    std::string name = "p" + std::to_string(i);
    rvs[name] = Get(kPods, name)["metadata"]["resourceVersion"];
  }
  rvs["db"] = Get(kVms, "db")["metadata"]["resourceVersion"];

  // The agent process goes away (the fake driver's memory with it); a pod is
  // bound while it is down; then a new agent starts on the same hosts.
  agent_.reset();
  CreatePod("late");
  Bind(kPods, "late", "h1");
  StartAgent({"h1", "h2"});
  ASSERT_TRUE(Running(kPods, "late"));
  ASSERT_TRUE(Eventually(
      [&] { return drivers_["h1"]->stats().recovers + drivers_["h2"]->stats().recovers == 6; }));
  EXPECT_EQ(drivers_["h1"]->stats().starts + drivers_["h2"]->stats().starts, 1u);  // late only
  EXPECT_EQ(drivers_["h1"]->Workloads().size() + drivers_["h2"]->Workloads().size(), 7u);
  for (int i = 0; i < 5; ++i) {
    std::string name = "p" + std::to_string(i);
    Json pod = Get(kPods, name);
    EXPECT_EQ(Phase(pod), "Running");
    EXPECT_EQ(pod["metadata"]["resourceVersion"], rvs[name]) << name << " was rewritten";
  }
  EXPECT_EQ(Get(kVms, "db")["metadata"]["resourceVersion"], rvs["db"]);
  EXPECT_EQ(agent_->stats().totals.reports, 1u);  // "late" only

  // Still reconciling: a re-adopted pod is stopped when deleted.
  ASSERT_TRUE(client_->Delete(kPods, "default", "p1").ok());
  ASSERT_TRUE(Eventually([&] { return drivers_["h1"]->stats().stops == 1; }));

  // The hosts re-registered in place (no second object, still Ready).
  auto hosts = client_->List(kHosts, "", {});
  ASSERT_TRUE(hosts.ok());
  EXPECT_EQ((*hosts)["items"].size(), 2u);
}

TEST_F(AgentTest, RestartReapsWorkloadsDeletedWhileTheAgentWasDown) {
  lintel::testing::TempDir dir;
  StartAgent({"h1"}, milliseconds(0), milliseconds(10'000), dir.path());
  CreatePod("stays");
  Bind(kPods, "stays", "h1");
  CreatePod("goes");
  Bind(kPods, "goes", "h1");
  CreateVm("vm-goes");
  Bind(kVms, "vm-goes", "h1");
  ASSERT_TRUE(Running(kPods, "stays"));
  ASSERT_TRUE(Running(kPods, "goes"));
  ASSERT_TRUE(Running(kVms, "vm-goes"));
  // The handles are on disk once each runs.
  ASSERT_TRUE(Eventually([&] {
    return std::distance(std::filesystem::directory_iterator(dir.path() + "/h1"),
                         std::filesystem::directory_iterator()) == 3;
  }));
  agent_.reset();
  // Deleted while no agent runs: nobody stops them now.
  ASSERT_TRUE(client_->Delete(kPods, "default", "goes").ok());
  ASSERT_TRUE(client_->Delete(kVms, "default", "vm-goes").ok());
  StartAgent({"h1"}, milliseconds(0), milliseconds(10'000), dir.path());
  // The restarted agent takes back "stays" and reaps the two that are gone.
  ASSERT_TRUE(Eventually([&] { return drivers_["h1"]->stats().destroys == 2; }));
  EXPECT_EQ(drivers_["h1"]->stats().starts, 0u);
  EXPECT_EQ(drivers_["h1"]->Workloads().size(), 1u);
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir.path() + "/h1"),
                          std::filesystem::directory_iterator()),
            1);
  EXPECT_EQ(Phase(Get(kPods, "stays")), "Running");
}

TEST_F(AgentTest, SurvivesAStatusWriteConflict) {
  StartAgent({"h1"});
  CreatePod("web");
  Bind(kPods, "web", "h1");
  ASSERT_TRUE(Running(kPods, "web"));
  Json pod = Get(kPods, "web");
  // A write from a stale resourceVersion conflicts, re-reads, and lands.
  WorkloadStatusPatch p;
  p.resource = kPods;
  p.ns = "default";
  p.name = "web";
  p.uid = pod["metadata"]["uid"];
  p.host = "h1";
  p.resource_version = "1";
  p.status = {{"message", "rewritten"}};
  p.conditions = Json::array({{{"type", "Ready"}, {"status", "True"}}});
  ASSERT_TRUE(WriteWorkloadStatus(*client_, p).ok());
  Json after = Get(kPods, "web");
  EXPECT_EQ(after["status"]["message"], "rewritten");
  EXPECT_EQ(ConditionOf(after, "Ready")["lastTransitionTime"],
            ConditionOf(pod, "Ready")["lastTransitionTime"]);
  // Not ours any more (another uid, or bound elsewhere): nothing is written.
  p.uid = "someone-else";
  p.resource_version.clear();
  p.status = {{"message", "must not land"}};
  ASSERT_TRUE(WriteWorkloadStatus(*client_, p).ok());
  EXPECT_EQ(Get(kPods, "web")["status"]["message"], "rewritten");
}

TEST_F(AgentTest, TwoHundredHollowHostsRegisterQuickly) {
  AgentOptions o;
  o.clock = &agent_clock_;
  agent_ = std::make_unique<Agent>(client_, o);
  HollowOptions h;
  h.hosts = 200;
  h.host = Config("unused");
  h.fake = Fake(milliseconds(0));
  AddHollowHosts(*agent_, h);
  auto t0 = std::chrono::steady_clock::now();
  ASSERT_TRUE(agent_->Start().ok());
  ASSERT_TRUE(agent_->WaitRegistered(std::chrono::seconds(5)));
  auto took = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  RecordProperty("register_seconds", std::to_string(took));
  std::cout << "200 hollow hosts registered in " << took << "s\n";
  auto hosts = client_->List(kHosts, "", {});
  ASSERT_TRUE(hosts.ok());
  ASSERT_EQ((*hosts)["items"].size(), 200u);
  EXPECT_EQ((*hosts)["items"][0]["metadata"]["name"], "hollow-00000");
  EXPECT_EQ((*hosts)["items"][199]["metadata"]["name"], "hollow-00199");
  for (const auto& item : (*hosts)["items"]) {
    EXPECT_EQ(ConditionOf(item, "Ready")["status"], "True");
  }
  // Workloads across them go through the shared watches.
  ASSERT_TRUE(agent_->WaitSynced(std::chrono::seconds(5)));
  for (int i = 0; i < 20; ++i) {
    std::string name = "w" + std::to_string(i);
    CreatePod(name);
    Bind(kPods, name, HollowHostName("hollow-", i * 10));
  }
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(Running(kPods, "w" + std::to_string(i)));
  EXPECT_EQ(agent_->stats().totals.starts, 20u);
}

// VirtualMachine power actions: the server records them (resources_vm_actions)
// and the agent carries them out through the driver.
class VmPowerTest : public AgentTest {
 protected:
  Json Act(const std::string& vm, const std::string& action, Code* code = nullptr) {
    auto r = resources_->VmAction(Kind("virtualmachines"), "default", vm, action, Opts());
    if (code) *code = r.ok() ? Code::kOk : r.error().code();
    return r.ok() ? *ParseJson(r->json) : Json();
  }
  std::string Uid(const std::string& vm) { return Get(kVms, vm)["metadata"]["uid"]; }
  bool PhaseIs(const std::string& vm, const std::string& phase) {
    return Eventually([&] { return Phase(Get(kVms, vm)) == phase; });
  }
};

TEST_F(VmPowerTest, StopAndStartKeepTheVmAndFlipItsRunStrategy) {
  StartAgent({"h1"});
  CreateVm("db");
  Bind(kVms, "db", "h1");
  ASSERT_TRUE(Running(kVms, "db"));
  const std::string uid = Uid("db");
  FakeDriver* d = drivers_["h1"];

  Json stopped = Act("db", "stop");
  EXPECT_EQ(stopped["spec"]["runStrategy"], "Halted");
  ASSERT_TRUE(PhaseIs("db", "Stopped"));
  EXPECT_EQ(d->stats().stops, 1u);
  EXPECT_EQ(d->stats().destroys, 0u);  // its disks stay
  ASSERT_EQ(d->Workloads().size(), 1u);

  // A restart of a stopped VM is refused and changes nothing.
  Code code;
  Act("db", "restart", &code);
  EXPECT_EQ(code, Code::kConflict);
  EXPECT_EQ(Get(kVms, "db")["spec"]["runStrategy"], "Halted");

  Json started = Act("db", "start");
  EXPECT_EQ(started["spec"]["runStrategy"], "Always");
  ASSERT_TRUE(Running(kVms, "db"));
  EXPECT_EQ(d->stats().restarts, 1u);  // booted again on what it kept
  EXPECT_EQ(d->stats().starts, 1u);
  EXPECT_EQ(Uid("db"), uid);
}

TEST_F(VmPowerTest, HaltedVmIsNotStartedUntilAsked) {
  StartAgent({"h1"});
  Json vm = Vm("cold");
  vm["spec"]["runStrategy"] = "Halted";
  ASSERT_TRUE(client_->Create(kVms, "default", vm).ok());
  Bind(kVms, "cold", "h1");
  ASSERT_TRUE(PhaseIs("cold", "Stopped"));
  EXPECT_EQ(drivers_["h1"]->stats().starts, 0u);
  EXPECT_EQ(ConditionOf(Get(kVms, "cold"), "Ready")["reason"], "Stopped");
  Act("cold", "start");
  ASSERT_TRUE(Running(kVms, "cold"));
  EXPECT_EQ(drivers_["h1"]->stats().starts, 1u);
}

TEST_F(VmPowerTest, ManualVmRunsWhenPoweredOn) {
  StartAgent({"h1"});
  Json vm = Vm("manual");
  vm["spec"]["runStrategy"] = "Manual";
  ASSERT_TRUE(client_->Create(kVms, "default", vm).ok());
  Bind(kVms, "manual", "h1");
  ASSERT_TRUE(PhaseIs("manual", "Stopped"));
  Json on = Act("manual", "start");
  EXPECT_EQ(on["metadata"]["annotations"]["lintel.dev/power"], "on");
  EXPECT_EQ(on["spec"]["runStrategy"], "Manual");
  ASSERT_TRUE(Running(kVms, "manual"));
  Act("manual", "stop");
  ASSERT_TRUE(PhaseIs("manual", "Stopped"));
  EXPECT_EQ(drivers_["h1"]->stats().stops, 1u);
}

TEST_F(VmPowerTest, PauseUnpauseAndRestart) {
  StartAgent({"h1"});
  CreateVm("db");
  Bind(kVms, "db", "h1");
  ASSERT_TRUE(Running(kVms, "db"));
  FakeDriver* d = drivers_["h1"];
  const std::string uid = Uid("db");

  Code code;
  Act("db", "unpause", &code);
  EXPECT_EQ(code, Code::kConflict);  // not paused

  Act("db", "pause");
  ASSERT_TRUE(PhaseIs("db", "Paused"));
  EXPECT_TRUE(d->StatusOf(uid)->paused);
  EXPECT_EQ(ConditionOf(Get(kVms, "db"), "Ready")["status"], "False");
  Act("db", "unpause");
  ASSERT_TRUE(Running(kVms, "db"));
  EXPECT_FALSE(d->StatusOf(uid)->paused);

  Act("db", "restart");
  ASSERT_TRUE(Eventually([&] { return d->stats().restarts == 1u; }));
  ASSERT_TRUE(Running(kVms, "db"));
  EXPECT_EQ(d->stats().starts, 1u);
  // A second agent (a restart of this one) does not repeat the old request.
  StartAgent({"h1"});
  ASSERT_TRUE(Running(kVms, "db"));
  EXPECT_EQ(drivers_["h1"]->stats().restarts, 0u);
}

TEST_F(VmPowerTest, ActionsOnAPodOrAMissingVmAreRefused) {
  auto r = resources_->VmAction(Kind("virtualmachines"), "default", "nope", "start", Opts());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), Code::kNotFound);
  auto p = resources_->VmAction(Kind("pods"), "default", "nope", "start", Opts());
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.error().code(), Code::kNotFound);
}

}  // namespace
}  // namespace lintel::agent
