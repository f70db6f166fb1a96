// The Deployment controller end to end in one process, as in
// tests/unit/agent/estate_test.cc: the API server (ServerFixture), the
// scheduler, the garbage collector and the Deployment controller, and an
// agent running two fake-driver hosts, all through the API.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "agent/agent.h"
#include "agent/hollow.h"
#include "api/kind.h"
#include "controllers/deployment/deployment_controller.h"
#include "controllers/gc/garbage_collector.h"
#include "controllers/scheduling/scheduling_controller.h"
#include "drivers/fake/fake_driver.h"
#include "server/local_client.h"
#include "server_fixture.h"

namespace lintel::controllers::deployment {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

const client::Resource kPods{"lintel.dev", "v1alpha1", "pods", true};
const client::Resource kDeployments{"lintel.dev", "v1alpha1", "deployments", true};
const client::Resource kEvents{"lintel.dev", "v1alpha1", "events", true};

template <typename F>
bool Eventually(F&& f, milliseconds timeout = seconds(20)) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!f()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(milliseconds(5));
  }
  return true;
}

std::string Str(const Json& obj, const char* pointer) {
  const Json& v = api::At(obj, pointer);
  return v.is_string() ? v.get<std::string>() : "";
}

int64_t Int(const Json& obj, const char* pointer) {
  const Json& v = api::At(obj, pointer);
  return v.is_number_integer() ? v.get<int64_t>() : -1;
}

// `field` of condition `type` of `obj`, "" when absent.
std::string Cond(const Json& obj, const std::string& type, const char* field) {
  const Json& c = ConditionOf(api::At(obj, "/status"), type);
  return c.is_object() ? c.value(field, "") : "";
}

std::string Annotation(const Json& obj, const std::string& key) {
  const Json& a = api::At(obj, "/metadata/annotations");
  return a.is_object() && a.contains(key) && a[key].is_string() ? a[key].get<std::string>() : "";
}

std::string Revision(const Json& deployment) {
  return Annotation(deployment, "deployment.kubernetes.io/revision");
}

bool IsReady(const Json& pod) { return Cond(pod, "Ready", "status") == "True"; }

// Follows the Pods of one app through a watch and checks, at every event,
// how many are active (not ended, not being deleted) and how many of those
// are ready, and whether old and new ones ran side by side.
class PodWatcher {
 public:
  PodWatcher(client::Client& client, const std::string& app) {
    client::ListOptions opts;
    opts.label_selector = "app=" + app;
    auto list = client.List(kPods, "default", opts);
    EXPECT_TRUE(list.ok());
    for (const auto& item : (*list)["items"]) Apply(item, false);
    Check();
    opts.resource_version = Str(*list, "/metadata/resourceVersion");
    auto w = client.WatchResource(kPods, "default", opts, [this](client::WatchEvent&& ev) {
      if (ev.type == "BOOKMARK" || ev.type == "ERROR") return;
      std::lock_guard<std::mutex> l(mu_);
      Apply(ev.object, ev.type == "DELETED");
      Check();
    });
    EXPECT_TRUE(w.ok());
    if (w.ok()) watch_ = std::move(*w);
  }
  ~PodWatcher() {
    if (watch_) watch_->Stop();
  }
  int max_active() {
    std::lock_guard<std::mutex> l(mu_);
    return max_active_;
  }
  int min_ready() {
    std::lock_guard<std::mutex> l(mu_);
    return min_ready_;
  }
  bool mixed() {
    std::lock_guard<std::mutex> l(mu_);
    return mixed_;
  }
  size_t hashes_seen() {
    std::lock_guard<std::mutex> l(mu_);
    return hashes_.size();
  }
  // Pods ever seen.
  size_t seen() {
    std::lock_guard<std::mutex> l(mu_);
    return uids_.size();
  }

 private:
  struct View {
    std::string hash;
    bool active = false;
    bool ready = false;
  };
  void Apply(const Json& pod, bool deleted) {
    const std::string uid = Str(pod, "/metadata/uid");
    if (deleted) {
      pods_.erase(uid);
      return;
    }
    const std::string phase = Str(pod, "/status/phase");
    View v;
    v.hash = Str(pod, "/metadata/labels/pod-template-hash");
    v.active = api::At(pod, "/metadata/deletionTimestamp").is_null() && phase != "Failed" &&
               phase != "Succeeded";
    v.ready = v.active && IsReady(pod);
    pods_[uid] = v;
    hashes_.insert(v.hash);
    uids_.insert(uid);
  }
  void Check() {
    int active = 0, ready = 0;
    std::set<std::string> hashes;
    for (const auto& [uid, v] : pods_) {
      active += v.active;
      ready += v.ready;
      if (v.active) hashes.insert(v.hash);
    }
    max_active_ = std::max(max_active_, active);
    min_ready_ = std::min(min_ready_, ready);
    mixed_ = mixed_ || hashes.size() > 1;
  }

  std::mutex mu_;
  std::map<std::string, View> pods_;
  std::set<std::string> hashes_;
  std::set<std::string> uids_;
  int max_active_ = 0;
  int min_ready_ = 1 << 20;
  bool mixed_ = false;
  std::unique_ptr<client::Watch> watch_;
};

class DeploymentTest : public server::testing::ServerFixture {
 protected:
  void SetUp() override {
    ServerFixture::SetUp();
    // The namespaces `lintel server` makes (agents write there).
    for (const char* ns : server::kSystemNamespaces) {
      auto r = resources_->Create(Kind("namespaces"), "",
                                  {{"apiVersion", "lintel.dev/v1alpha1"},
                                   {"kind", "Namespace"},
                                   {"metadata", {{"name", ns}}}},
                                  Opts());
      ASSERT_TRUE(r.ok() || r.error().code() == Code::kAlreadyExists) << r.error().ToString();
    }
    client_ = std::make_shared<server::LocalClient>(resources_.get());
    timers_ = std::make_shared<drivers::fake::Timers>(&clock_);
    SchedulingOptions so;
    so.retry_interval = milliseconds(200);
    so.failover_interval = milliseconds(0);
    sched_ = std::make_unique<SchedulingController>(client_, registry(), so);
    ASSERT_TRUE(sched_->Start().ok());
    gc_ = std::make_unique<GarbageCollector>(client_, registry());
    ASSERT_TRUE(gc_->Start().ok());
    DeploymentOptions o;
    o.clock = &clock_;
    deployments_ = std::make_unique<DeploymentController>(client_, o);
    ASSERT_TRUE(deployments_->Start().ok());

    agent::AgentOptions ao;
    ao.clock = &clock_;
    ao.heartbeat = seconds(1);
    agent_ = std::make_unique<agent::Agent>(client_, ao);
    for (const char* h : {"h1", "h2"}) {
      agent::HostConfig c;
      c.name = h;
      c.capacity = {{"cpu", "4"}, {"memory", "16Gi"}, {"pods", "110"}, {"vms", "16"}};
      c.addresses = Json::array({{{"type", "Hostname"}, {"address", h}}});
      drivers::fake::FakeOptions f;
      f.clock = &clock_;
      f.timers = timers_;
      f.run_delay = milliseconds(0);
      agent_->AddHost(std::move(c), std::make_unique<drivers::fake::FakeDriver>(f),
                      std::make_unique<agent::MemoryHandleStore>());
    }
    ASSERT_TRUE(agent_->Start().ok());
    ASSERT_TRUE(agent_->WaitRegistered(seconds(10)));
    ASSERT_TRUE(agent_->WaitSynced(seconds(10)));
  }
  void TearDown() override {
    agent_.reset();
    timers_->Stop();
    deployments_->Stop();
    gc_->Stop();
    sched_->Stop();
    ServerFixture::TearDown();
  }

  static Json Deployment(const std::string& name, int replicas, Json spec_extra = Json::object(),
                         Json template_annotations = Json::object()) {
    Json d = {{"apiVersion", "lintel.dev/v1alpha1"},
              {"kind", "Deployment"},
              {"metadata", {{"name", name}}},
              {"spec",
               {{"replicas", replicas},
                {"selector", {{"matchLabels", {{"app", name}}}}},
                {"template",
                 {{"metadata", {{"labels", {{"app", name}}}}},
                  {"spec",
                   {{"containers",
                     {{{"name", "main"},
                       {"image", "busybox"},
                       {"resources", {{"requests", {{"cpu", "100m"}, {"memory", "32Mi"}}}}}}}}}}}}}}};
    if (!template_annotations.empty()) {
      d["spec"]["template"]["metadata"]["annotations"] = template_annotations;
    }
    d["spec"].update(spec_extra);
    return d;
  }

  Json Create(const Json& d) {
    auto r = client_->Create(kDeployments, "default", d);
    EXPECT_TRUE(r.ok()) << r.error().ToString();
    return r.ok() ? *r : Json();
  }
  Json Get(const std::string& name) {
    auto r = client_->Get(kDeployments, "default", name);
    return r.ok() ? *r : Json();
  }
  Status Patch(const std::string& name, const Json& patch, const char* subresource = "") {
    return client_->Patch(kDeployments, "default", name, client::PatchType::kMerge, patch, {},
                          subresource)
        .status();
  }
  // The app's Pods that are not being deleted.
  std::vector<Json> Pods(const std::string& app) {
    client::ListOptions opts;
    opts.label_selector = "app=" + app;
    auto list = client_->List(kPods, "default", opts);
    std::vector<Json> out;
    if (!list.ok()) return out;
    for (const auto& p : (*list)["items"]) {
      if (api::At(p, "/metadata/deletionTimestamp").is_null()) out.push_back(p);
    }
    return out;
  }
  // Rolled out as `lintel rollout status` waits for it, with every Pod of
  // the app Running and ready.
  bool RolledOut(const std::string& name, int64_t replicas) {
    Json d = Get(name);
    if (Int(d, "/status/observedGeneration") < Int(d, "/metadata/generation")) return false;
    for (const char* f : {"/spec/replicas", "/status/replicas", "/status/updatedReplicas",
                          "/status/readyReplicas", "/status/availableReplicas"}) {
      if (Int(d, f) != replicas) return false;
    }
    auto pods = Pods(name);
    if (static_cast<int64_t>(pods.size()) != replicas) return false;
    for (const auto& p : pods) {
      if (Str(p, "/status/phase") != "Running" || !IsReady(p)) return false;
    }
    return true;
  }
  std::string Describe(const std::string& name) {
    std::string out = Get(name).dump() + "\npods:";
    for (const auto& p : Pods(name)) {
      out += "\n  " + Str(p, "/metadata/name") + " " + Str(p, "/status/phase") + " " +
             Str(p, "/status/host");
    }
    return out;
  }
  // Events about Deployment `name` with `reason`, their messages.
  std::vector<std::string> Events(const std::string& name, const std::string& reason) {
    std::vector<std::string> out;
    auto list = client_->List(kEvents, "default", {});
    if (!list.ok()) return out;
    for (const auto& e : (*list)["items"]) {
      if (Str(e, "/involvedObject/kind") == "Deployment" &&
          Str(e, "/involvedObject/name") == name && Str(e, "/reason") == reason) {
        out.push_back(Str(e, "/message"));
      }
    }
    return out;
  }
  bool HasEvent(const std::string& name, const std::string& reason, const std::string& message) {
    auto events = Events(name, reason);
    return std::find(events.begin(), events.end(), message) != events.end();
  }

  std::shared_ptr<client::Client> client_;
  std::shared_ptr<drivers::fake::Timers> timers_;
  std::unique_ptr<SchedulingController> sched_;
  std::unique_ptr<GarbageCollector> gc_;
  std::unique_ptr<DeploymentController> deployments_;
  std::unique_ptr<agent::Agent> agent_;
};

TEST_F(DeploymentTest, CreatesScalesAndIsCollected) {
  Json d = Create(Deployment("web", 3));
  ASSERT_TRUE(Eventually([&] { return RolledOut("web", 3); })) << Describe("web");
  Json live = Get("web");
  EXPECT_EQ(Revision(live), "1");
  const std::string hash = TemplateHash(live["spec"]["template"]);
  for (const auto& p : Pods("web")) {
    EXPECT_EQ(Str(p, "/metadata/labels/pod-template-hash"), hash);
    EXPECT_EQ(Annotation(p, "lintel.dev/revision"), "1");
    EXPECT_EQ(Str(p, "/metadata/name").rfind("web-" + hash + "-", 0), 0u);
    const Json& ref = p["metadata"]["ownerReferences"][0];
    EXPECT_EQ(ref["uid"], d["metadata"]["uid"]);
    EXPECT_EQ(ref["kind"], "Deployment");
    EXPECT_EQ(ref["controller"], true);
    EXPECT_EQ(ref["blockOwnerDeletion"], true);
  }
  EXPECT_EQ(Cond(live, "Available", "reason"), "MinimumReplicasAvailable");
  EXPECT_EQ(Cond(live, "Progressing", "reason"), "NewPodsAvailable");
  EXPECT_EQ(Int(live, "/status/unavailableReplicas"), 0);
  EXPECT_TRUE(Eventually([&] { return HasEvent("web", "ScalingUp", "Scaled up to 3"); }));

  // Through /scale, as `kubectl scale` does.
  ASSERT_TRUE(Patch("web", {{"spec", {{"replicas", 5}}}}, "scale").ok());
  ASSERT_TRUE(Eventually([&] { return RolledOut("web", 5); })) << Describe("web");
  EXPECT_TRUE(Eventually([&] { return HasEvent("web", "ScalingUp", "Scaled up to 5"); }));
  ASSERT_TRUE(Patch("web", {{"spec", {{"replicas", 1}}}}, "scale").ok());
  ASSERT_TRUE(Eventually([&] { return RolledOut("web", 1); })) << Describe("web");
  EXPECT_TRUE(Eventually([&] { return HasEvent("web", "ScalingDown", "Scaled down to 1"); }));
  EXPECT_EQ(Revision(Get("web")), "1");

  // Deleting the Deployment takes its Pods (the garbage collector, by ownerReference).
  ASSERT_TRUE(client_->Delete(kDeployments, "default", "web").ok());
  EXPECT_TRUE(Eventually([&] { return Pods("web").empty(); })) << Describe("web");
}

TEST_F(DeploymentTest, RollingUpdateKeepsWithinSurgeAndUnavailable) {
  // 4 replicas, maxSurge 1, maxUnavailable 1: at most 5 Pods, at least 3 ready.
  Create(Deployment("roll", 4,
                    {{"strategy", {{"rollingUpdate", {{"maxSurge", 1}, {"maxUnavailable", 1}}}}}}));
  ASSERT_TRUE(Eventually([&] { return RolledOut("roll", 4); })) << Describe("roll");
  const std::string old_hash = TemplateHash(Get("roll")["spec"]["template"]);
  {
    PodWatcher watcher(*client_, "roll");
    ASSERT_TRUE(Patch("roll", {{"spec", {{"template", {{"metadata", {{"annotations",
                                                                     {{"version", "2"}}}}}}}}}})
                    .ok());
    ASSERT_TRUE(Eventually([&] {
      return RolledOut("roll", 4) &&
             TemplateHash(Get("roll")["spec"]["template"]) != old_hash;
    })) << Describe("roll");
    EXPECT_LE(watcher.max_active(), 5);
    EXPECT_GE(watcher.min_ready(), 3);
    EXPECT_EQ(watcher.hashes_seen(), 2u) << "the watch saw " << watcher.seen() << " Pods";
  }
  Json live = Get("roll");
  EXPECT_EQ(Revision(live), "2");
  const std::string hash = TemplateHash(live["spec"]["template"]);
  for (const auto& p : Pods("roll")) {
    EXPECT_EQ(Str(p, "/metadata/labels/pod-template-hash"), hash);
    EXPECT_EQ(Annotation(p, "lintel.dev/revision"), "2");
    EXPECT_EQ(Annotation(p, "version"), "2");
  }
  EXPECT_TRUE(Eventually([&] { return !Events("roll", "ScalingDown").empty(); }));

  // Surge only (maxUnavailable 0): never fewer than 4 ready.
  ASSERT_TRUE(Patch("roll", {{"spec", {{"strategy", {{"rollingUpdate", {{"maxSurge", 2},
                                                                        {"maxUnavailable", 0}}}}}}}})
                  .ok());
  ASSERT_TRUE(Eventually([&] { return RolledOut("roll", 4); })) << Describe("roll");
  PodWatcher watcher(*client_, "roll");
  ASSERT_TRUE(Patch("roll", {{"spec", {{"template", {{"metadata", {{"annotations",
                                                                   {{"version", "3"}}}}}}}}}})
                  .ok());
  ASSERT_TRUE(Eventually([&] {
    return RolledOut("roll", 4) &&
           Revision(Get("roll")) == "3";
  })) << Describe("roll");
  EXPECT_LE(watcher.max_active(), 6);
  EXPECT_GE(watcher.min_ready(), 4);
}

TEST_F(DeploymentTest, RecreateNeverRunsOldAndNewTogether) {
  Create(Deployment("rec", 3, {{"strategy", {{"type", "Recreate"}}}}));
  ASSERT_TRUE(Eventually([&] { return RolledOut("rec", 3); })) << Describe("rec");
  PodWatcher watcher(*client_, "rec");
  ASSERT_TRUE(
      Patch("rec", {{"spec", {{"template", {{"metadata", {{"annotations", {{"v", "2"}}}}}}}}}})
          .ok());
  ASSERT_TRUE(Eventually([&] {
    return RolledOut("rec", 3) &&
           Revision(Get("rec")) == "2";
  })) << Describe("rec");
  EXPECT_FALSE(watcher.mixed());
  EXPECT_EQ(watcher.min_ready(), 0);
  EXPECT_LE(watcher.max_active(), 3);
}

TEST_F(DeploymentTest, PausedScalesButDoesNotRollOutAndAdoptsOrphans) {
  // An orphan Pod that the selector matches is adopted and counted.
  Json stray = {{"apiVersion", "lintel.dev/v1alpha1"},
                {"kind", "Pod"},
                {"metadata", {{"name", "stray"}, {"labels", {{"app", "calm"}}}}},
                {"spec", {{"containers", {{{"name", "m"}, {"image", "busybox"}}}}}}};
  ASSERT_TRUE(client_->Create(kPods, "default", stray).ok());
  // Running: the controller's informer has long seen it (so it is adopted
  // rather than found after two new Pods were made).
  ASSERT_TRUE(Eventually([&] {
    auto p = client_->Get(kPods, "default", "stray");
    return p.ok() && Str(*p, "/status/phase") == "Running";
  }));
  Json d = Create(Deployment("calm", 2, {{"paused", true}}));
  ASSERT_TRUE(Eventually([&] {
    auto p = client_->Get(kPods, "default", "stray");
    return p.ok() && Str(*p, "/metadata/ownerReferences/0/uid") == Str(d, "/metadata/uid") &&
           Pods("calm").size() == 2 && Int(Get("calm"), "/status/replicas") == 2;
  })) << Describe("calm");
  EXPECT_EQ(Cond(Get("calm"), "Progressing", "reason"), "DeploymentPaused");
  // The stray Pod is of no revision: a rollout would replace it, a paused
  // Deployment leaves it.
  EXPECT_EQ(Int(Get("calm"), "/status/updatedReplicas"), 1);

  // Resumed: the stray Pod is replaced by one of the template.
  ASSERT_TRUE(Patch("calm", {{"spec", {{"paused", false}}}}).ok());
  ASSERT_TRUE(Eventually([&] { return RolledOut("calm", 2); })) << Describe("calm");
  EXPECT_FALSE(client_->Get(kPods, "default", "stray").ok());
}

TEST_F(DeploymentTest, EndedPodsAreReplaced) {
  Create(Deployment("fail", 2));
  ASSERT_TRUE(Eventually([&] { return RolledOut("fail", 2); })) << Describe("fail");
  // Its host failed: the Pod is Failed.
  const std::string victim = Str(Pods("fail")[0], "/metadata/name");
  ASSERT_TRUE(client_
                  ->Patch(kPods, "default", victim, client::PatchType::kMerge,
                          {{"status", {{"phase", "Failed"}, {"reason", "HostFailed"}}}}, {},
                          "status")
                  .ok());
  ASSERT_TRUE(Eventually([&] {
    return !client_->Get(kPods, "default", victim).ok() && RolledOut("fail", 2);
  })) << Describe("fail");
  EXPECT_TRUE(Eventually([&] {
    return HasEvent("fail", "PodEnded", "Pod " + victim + " ended (Failed); replacing it");
  })) << ::testing::PrintToString(Events("fail", "PodEnded"));
}

TEST_F(DeploymentTest, PodsThatKeepFailingAreReplacedWithBackoff) {
  // Every Pod fails to start (the fake driver's start-error).
  Create(Deployment("crash", 1, Json::object(),
                    {{drivers::fake::kStartErrorAnnotation, "exec: no such file"}}));
  // The first failure is replaced at once; the second waits a second of the
  // controller's (fake) clock.
  ASSERT_TRUE(Eventually([&] { return !Events("crash", "BackOff").empty(); })) << Describe("crash");
  EXPECT_EQ(Events("crash", "BackOff")[0],
            "Pods keep ending soon after they start: back-off 1s before replacing them");
  ASSERT_TRUE(Eventually([&] { return Pods("crash").empty(); })) << Describe("crash");
  PodWatcher watcher(*client_, "crash");
  // A second of real time: the controller looks again, and its clock has not moved.
  std::this_thread::sleep_for(milliseconds(1200));
  EXPECT_EQ(watcher.seen(), 0u) << Describe("crash");
  clock_.Advance(seconds(2));
  ASSERT_TRUE(Eventually([&] { return watcher.seen() > 0; })) << Describe("crash");
}

TEST_F(DeploymentTest, FailedCreatesAreReportedAndDeadlineExceeded) {
  // A label value the Deployment's schema takes and a Pod's validation does not.
  Json d = Deployment("bad", 2, {{"progressDeadlineSeconds", 1}});
  d["spec"]["template"]["metadata"]["labels"]["version"] = "-bad-";
  Create(d);
  ASSERT_TRUE(Eventually([&] {
    return Cond(Get("bad"), "ReplicaFailure", "reason") ==
           "FailedCreate";
  })) << Describe("bad");
  auto failed = Events("bad", "FailedCreate");
  ASSERT_FALSE(failed.empty());
  EXPECT_EQ(failed[0].rfind("Error creating: ", 0), 0u) << failed[0];
  EXPECT_NE(failed[0].find("metadata.labels"), std::string::npos) << failed[0];
  EXPECT_NE(Cond(Get("bad"), "ReplicaFailure", "message").find(
                "metadata.labels"),
            std::string::npos);
  EXPECT_EQ(Cond(Get("bad"), "Available", "status"), "False");

  // No progress for progressDeadlineSeconds (on the controller's clock).
  clock_.Advance(seconds(2));
  ASSERT_TRUE(Eventually([&] {
    return Cond(Get("bad"), "Progressing", "reason") ==
           "ProgressDeadlineExceeded";
  })) << Describe("bad");
  EXPECT_EQ(Cond(Get("bad"), "Progressing", "status"), "False");

  // Fixed: the Pods come, the failure goes.
  ASSERT_TRUE(Patch("bad", {{"spec", {{"template", {{"metadata", {{"labels", {{"version",
                                                                              "v2"}}}}}}}}}})
                  .ok());
  ASSERT_TRUE(Eventually([&] { return RolledOut("bad", 2); })) << Describe("bad");
  EXPECT_TRUE(Cond(Get("bad"), "ReplicaFailure", "type").empty());
  EXPECT_EQ(Cond(Get("bad"), "Progressing", "reason"), "NewPodsAvailable");
}

}  // namespace
}  // namespace lintel::controllers::deployment
