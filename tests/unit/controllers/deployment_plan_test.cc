// The Deployment controller's pure parts: planning (PlanSync), status
// (ComputeStatus), facts from JSON, and expectations. Table tests: each case
// is named and traced.
#include <gtest/gtest.h>

#include "common/time_format.h"
#include "controllers/deployment/deployment_facts.h"
#include "controllers/deployment/deployment_plan.h"
#include "controllers/deployment/deployment_status.h"
#include "controllers/expectations.h"

namespace lintel::controllers::deployment {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

const WallTime kNow = *ParseRfc3339("2026-01-01T12:00:00Z");

enum class State { kUnbound, kBound, kReady, kReadyJustNow, kFailed, kSucceeded, kDeleting };

// A Pod of template `hash`, created `age` seconds ago; kReady has been ready
// for a minute, kReadyJustNow for ten seconds.
PodFacts Pod(const std::string& name, const std::string& hash, State s, int age = 300) {
  PodFacts p;
  p.name = name;
  p.uid = "uid-" + name;
  p.hash = hash;
  p.created = kNow - seconds(age);
  p.bound = s != State::kUnbound;
  p.ready = s == State::kReady || s == State::kReadyJustNow;
  p.ready_since = kNow - seconds(s == State::kReadyJustNow ? 10 : 60);
  p.ended = s == State::kFailed || s == State::kSucceeded;
  p.failed = s == State::kFailed;
  p.deleting = s == State::kDeleting;
  return p;
}

IntOrPercent Int(int64_t v) { return {v, false}; }
IntOrPercent Pct(int64_t v) { return {v, true}; }

DeploymentFacts Rolling(int64_t replicas, IntOrPercent surge = Pct(25),
                        IntOrPercent unavailable = Pct(25)) {
  DeploymentFacts d;
  d.name = "web";
  d.generation = 1;
  d.replicas = replicas;
  d.hash = "new";
  d.revision = 2;
  d.max_surge = surge;
  d.max_unavailable = unavailable;
  return d;
}

DeploymentFacts Recreate(int64_t replicas) {
  DeploymentFacts d = Rolling(replicas);
  d.strategy = Strategy::kRecreate;
  return d;
}

DeploymentFacts Paused(int64_t replicas) {
  DeploymentFacts d = Rolling(replicas);
  d.paused = true;
  return d;
}

std::vector<std::string> Names(const std::vector<PodRef>& refs) {
  std::vector<std::string> out;
  for (const auto& r : refs) out.push_back(r.name);
  return out;
}

TEST(DeploymentPlanTest, ResolveFencepostsRoundsAsKube) {
  struct Case {
    IntOrPercent surge, unavailable;
    int64_t replicas, want_surge, want_unavailable;
  } cases[] = {
      {Pct(25), Pct(25), 4, 1, 1},   {Pct(25), Pct(25), 1, 1, 0},   {Pct(25), Pct(25), 10, 3, 2},
      {Pct(30), Pct(30), 10, 3, 3},  {Int(0), Pct(1), 2, 0, 1},     {Pct(1), Pct(25), 2, 1, 0},
      {Int(0), Int(0), 5, 0, 1},     {Int(2), Int(3), 5, 2, 3},     {Pct(25), Pct(25), 0, 0, 1},
      {Pct(100), Pct(100), 3, 3, 3},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(std::to_string(c.replicas) + " replicas, surge " +
                 std::to_string(c.surge.value) + (c.surge.percent ? "%" : "") + ", unavailable " +
                 std::to_string(c.unavailable.value) + (c.unavailable.percent ? "%" : ""));
    Fenceposts f = ResolveFenceposts(c.surge, c.unavailable, c.replicas);
    EXPECT_EQ(f.surge, c.want_surge);
    EXPECT_EQ(f.unavailable, c.want_unavailable);
  }
}

TEST(DeploymentPlanTest, PlansCreatesAndDeletes) {
  struct Case {
    const char* name;
    DeploymentFacts d;
    std::vector<PodFacts> pods;
    int64_t creates;
    std::vector<std::string> deletes;
  } cases[] = {
      {"creates from nothing", Rolling(3), {}, 3, {}},
      {"at size: nothing",
       Rolling(2),
       {Pod("a", "new", State::kReady), Pod("b", "new", State::kBound)},
       0,
       {}},
      {"scales down: unbound, then not ready, then newest",
       Rolling(1),
       {Pod("old-ready", "new", State::kReady, 900), Pod("young-ready", "new", State::kReady, 100),
        Pod("bound", "new", State::kBound, 50), Pod("unbound", "new", State::kUnbound, 950)},
       0,
       {"unbound", "bound", "young-ready"}},
      {"ended Pods are deleted and replaced",
       Rolling(2),
       {Pod("a", "new", State::kReady), Pod("f", "new", State::kFailed, 3600),
        Pod("s", "new", State::kSucceeded, 3600)},
       1,
       {"f", "s"}},
      {"terminating Pods do not count",
       Rolling(2),
       {Pod("a", "new", State::kReady), Pod("d", "new", State::kDeleting)},
       1,
       {}},
      {"rolling 25%/25% of 4: one up, one down",
       Rolling(4),
       {Pod("o1", "old", State::kReady, 400), Pod("o2", "old", State::kReady, 300),
        Pod("o3", "old", State::kReady, 200), Pod("o4", "old", State::kReady, 100)},
       1,
       {"o4"}},
      {"surge 1, unavailable 0: surge first",
       Rolling(3, Int(1), Int(0)),
       {Pod("o1", "old", State::kReady), Pod("o2", "old", State::kReady),
        Pod("o3", "old", State::kReady)},
       1,
       {}},
      {"surge 1, unavailable 0: waits for the new Pod",
       Rolling(3, Int(1), Int(0)),
       {Pod("o1", "old", State::kReady), Pod("o2", "old", State::kReady),
        Pod("o3", "old", State::kReady), Pod("n1", "new", State::kBound)},
       0,
       {}},
      {"surge 1, unavailable 0: new ready, one old goes",
       Rolling(3, Int(1), Int(0)),
       {Pod("o1", "old", State::kReady, 400), Pod("o2", "old", State::kReady, 300),
        Pod("o3", "old", State::kReady, 200), Pod("n1", "new", State::kReady, 100)},
       0,
       {"o3"}},
      {"old Pods that are not available go first",
       Rolling(3, Int(1), Int(0)),
       {Pod("o1", "old", State::kReady, 400), Pod("o2", "old", State::kReady, 300),
        Pod("o3", "old", State::kBound, 500), Pod("n1", "new", State::kReady, 100)},
       0,
       {"o3"}},
      {"surge 0, unavailable 1: down first",
       Rolling(3, Int(0), Int(1)),
       {Pod("o1", "old", State::kReady, 300), Pod("o2", "old", State::kReady, 200),
        Pod("o3", "old", State::kReady, 100)},
       0,
       {"o3"}},
      {"both fenceposts round to zero: unavailable 1",
       Rolling(3, Int(0), Pct(10)),
       {Pod("o1", "old", State::kReady, 300), Pod("o2", "old", State::kReady, 200),
        Pod("o3", "old", State::kReady, 100)},
       0,
       {"o3"}},
      {"surge 0: a replacement follows the deletion",
       Rolling(3, Int(0), Int(1)),
       {Pod("o1", "old", State::kReady), Pod("o2", "old", State::kReady)},
       1,
       {}},
      {"more new Pods than replicas mid-rollout",
       Rolling(2),
       {Pod("o1", "old", State::kReady), Pod("n1", "new", State::kReady, 300),
        Pod("n2", "new", State::kReady, 200), Pod("n3", "new", State::kReady, 100)},
       0,
       {"n3"}},
      {"scaled down mid-rollout: old Pods go",
       Rolling(2),
       {Pod("o1", "old", State::kReady, 300), Pod("o2", "old", State::kReady, 200),
        Pod("o3", "old", State::kReady, 100), Pod("n1", "new", State::kBound)},
       0,
       {"o3"}},
      {"scaled to zero: everything goes",
       Rolling(0),
       {Pod("o1", "old", State::kReady), Pod("o2", "old", State::kReady)},
       0,
       {"o1", "o2"}},
      {"Recreate: old Pods go, no new yet",
       Recreate(2),
       {Pod("o1", "old", State::kReady, 300), Pod("o2", "old", State::kUnbound, 200)},
       0,
       {"o2", "o1"}},
      {"Recreate: waits for terminating old Pods",
       Recreate(2),
       {Pod("o1", "old", State::kDeleting)},
       0,
       {}},
      {"Recreate: then creates", Recreate(2), {Pod("o1", "old", State::kFailed)}, 2, {"o1"}},
      {"paused: scales up with the current template",
       Paused(4),
       {Pod("o1", "old", State::kReady), Pod("o2", "old", State::kReady),
        Pod("n1", "new", State::kReady)},
       1,
       {}},
      {"paused: scales down, old Pods first",
       Paused(1),
       {Pod("o1", "old", State::kReady, 300), Pod("o2", "old", State::kReady, 200),
        Pod("n1", "new", State::kReady, 100)},
       0,
       {"o2", "o1"}},
      {"paused: no rollout",
       Paused(2),
       {Pod("o1", "old", State::kReady), Pod("o2", "old", State::kReady)},
       0,
       {}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    Plan p = PlanSync(c.d, c.pods, kNow);
    EXPECT_EQ(p.creates, c.creates);
    EXPECT_EQ(Names(p.deletes), c.deletes);
    EXPECT_FALSE(p.backing_off);
  }
}

TEST(DeploymentPlanTest, MinReadySecondsHoldsTheRolloutAndWakesItUp) {
  DeploymentFacts d = Rolling(2, Int(1), Int(0));
  d.min_ready_seconds = 30;
  std::vector<PodFacts> pods = {Pod("o1", "old", State::kReady, 400),
                                Pod("o2", "old", State::kReady, 300),
                                Pod("n1", "new", State::kReadyJustNow)};
  Plan p = PlanSync(d, pods, kNow);
  EXPECT_EQ(p.creates, 0);
  EXPECT_TRUE(p.deletes.empty());
  // n1 has been ready for 10s: available in 20s.
  EXPECT_EQ(p.requeue_after, milliseconds(20001));

  p = PlanSync(d, pods, kNow + seconds(20));
  EXPECT_EQ(Names(p.deletes), std::vector<std::string>{"o2"});
}

TEST(DeploymentPlanTest, EndedPodsCountAsFastFailuresAndBackoffHoldsCreates) {
  DeploymentFacts d = Rolling(2);
  std::vector<PodFacts> pods = {Pod("a", "new", State::kReady),
                                Pod("young", "new", State::kFailed, 5),
                                Pod("old", "new", State::kFailed, 3600)};
  Plan p = PlanSync(d, pods, kNow);
  EXPECT_EQ(Names(p.ended), (std::vector<std::string>{"young", "old"}));
  EXPECT_EQ(p.failed_fast, 1);
  EXPECT_EQ(p.creates, 1);

  EXPECT_EQ(p.backoff.failures, 1);
  EXPECT_EQ(p.backoff.until, kNow);  // the first is replaced at once

  // The second fast failure in a row: creates wait a second.
  d.backoff = p.backoff;
  p = PlanSync(d, pods, kNow);
  EXPECT_EQ(p.creates, 0);
  EXPECT_TRUE(p.backing_off);
  EXPECT_EQ(p.backoff.until, kNow + seconds(1));
  EXPECT_EQ(Names(p.deletes), (std::vector<std::string>{"young", "old"}));
  EXPECT_EQ(p.requeue_after, milliseconds(1001));

  // Still waiting, with nothing new ended.
  d.backoff = p.backoff;
  p = PlanSync(d, {Pod("a", "new", State::kReady)}, kNow + milliseconds(500));
  EXPECT_EQ(p.creates, 0);
  EXPECT_TRUE(p.backing_off);
  EXPECT_EQ(p.requeue_after, milliseconds(501));
  p = PlanSync(d, {Pod("a", "new", State::kReady)}, kNow + seconds(1));
  EXPECT_EQ(p.creates, 1);
}

TEST(DeploymentPlanTest, BackoffDoublesAndResets) {
  Backoff b;
  b = NextBackoff(b, 1, kNow);
  EXPECT_EQ(b.until, kNow);  // the first failure is replaced at once
  b = NextBackoff(b, 1, kNow);
  EXPECT_EQ(b.until, kNow + seconds(1));
  b = NextBackoff(b, 1, kNow);
  EXPECT_EQ(b.until, kNow + seconds(2));
  b = NextBackoff(b, 2, kNow);
  EXPECT_EQ(b.until, kNow + seconds(8));
  for (int i = 0; i < 30; ++i) b = NextBackoff(b, 1, kNow);
  EXPECT_EQ(b.until, kNow + std::chrono::minutes(5));
  EXPECT_EQ(NextBackoff(b, 0, kNow).failures, b.failures);
  // Quiet for longer than the window: starts over.
  const WallTime later = kNow + std::chrono::minutes(11);
  b = NextBackoff(b, 1, later);
  EXPECT_EQ(b.failures, 1);
  EXPECT_EQ(b.until, later);
}

// --- status ---

Json Cond(const Json& status, const std::string& type) { return ConditionOf(status, type); }

// A status as last written: generation 1 observed, `replicas` Pods of which
// `updated` new, and a Progressing condition.
Json OldStatus(int replicas, int updated, const std::string& status, const std::string& reason,
               const std::string& last_update) {
  return {{"observedGeneration", 1},
          {"replicas", replicas},
          {"updatedReplicas", updated},
          {"conditions",
           {{{"type", "Progressing"},
             {"status", status},
             {"reason", reason},
             {"lastUpdateTime", last_update},
             {"lastTransitionTime", "2026-01-01T11:00:00Z"}}}}};
}

TEST(DeploymentStatusTest, CountsAndConditions) {
  const std::string now = FormatRfc3339(kNow);
  const std::string before = "2026-01-01T11:00:00Z";
  struct Case {
    const char* name;
    DeploymentFacts d;
    std::vector<PodFacts> pods;
    Json old_status;
    SyncOutcome outcome;
    Json counts;  // replicas, updated, ready, available, unavailable
    std::string available, progressing;  // "status/reason"
    std::string progressing_updated;     // its lastUpdateTime
  } cases[] = {
      {"new Deployment",
       Rolling(3),
       {},
       Json(),
       {true, 3, ""},
       {0, 0, 0, 0, 3},
       "False/MinimumReplicasUnavailable",
       "True/PodsUpdating",
       now},
      {"all new and available",
       Rolling(3),
       {Pod("a", "new", State::kReady), Pod("b", "new", State::kReady),
        Pod("c", "new", State::kReady), Pod("f", "new", State::kFailed)},
       OldStatus(0, 0, "True", "PodsUpdating", before),
       {},
       {3, 3, 3, 3, 0},
       "True/MinimumReplicasAvailable",
       "True/NewPodsAvailable",
       now},
      {"mid-rollout: old ready, new not yet",
       Rolling(4),
       {Pod("o1", "old", State::kReady), Pod("o2", "old", State::kReady),
        Pod("o3", "old", State::kReady), Pod("n1", "new", State::kBound),
        Pod("n2", "new", State::kUnbound)},
       Json(),
       {},
       {5, 2, 3, 3, 1},
       "True/MinimumReplicasAvailable",
       "True/PodsUpdating",
       now},
      {"no progress past the deadline",
       Rolling(2),
       {Pod("n1", "new", State::kBound)},
       OldStatus(1, 1, "True", "PodsUpdating", "2026-01-01T11:49:00Z"),
       {},
       {1, 1, 0, 0, 2},
       "False/MinimumReplicasUnavailable",
       "False/ProgressDeadlineExceeded",
       now},
      {"no progress within the deadline",
       Rolling(2),
       {Pod("n1", "new", State::kBound)},
       OldStatus(1, 1, "True", "PodsUpdating", "2026-01-01T11:51:00Z"),
       {},
       {1, 1, 0, 0, 2},
       "False/MinimumReplicasUnavailable",
       "True/PodsUpdating",
       "2026-01-01T11:51:00Z"},
      {"progress after the deadline",
       Rolling(2),
       {Pod("n1", "new", State::kReady), Pod("n2", "new", State::kBound)},
       OldStatus(1, 1, "False", "ProgressDeadlineExceeded", before),
       {},
       {2, 2, 1, 1, 1},
       "False/MinimumReplicasUnavailable",
       "True/PodsUpdating",
       now},
      {"paused",
       Paused(1),
       {Pod("o1", "old", State::kReady)},
       Json(),
       {},
       {1, 0, 1, 1, 0},
       "True/MinimumReplicasAvailable",
       "Unknown/DeploymentPaused",
       now},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    Json s = ComputeStatus(c.d, c.pods, c.old_status, c.outcome, kNow);
    EXPECT_EQ(s["observedGeneration"], c.d.generation);
    EXPECT_EQ((Json{s["replicas"], s["updatedReplicas"], s["readyReplicas"],
                    s["availableReplicas"], s["unavailableReplicas"]}),
              c.counts);
    Json a = Cond(s, "Available"), p = Cond(s, "Progressing");
    EXPECT_EQ(a.value("status", "") + "/" + a.value("reason", ""), c.available);
    EXPECT_EQ(p.value("status", "") + "/" + p.value("reason", ""), c.progressing);
    EXPECT_EQ(p.value("lastUpdateTime", ""), c.progressing_updated);
    EXPECT_TRUE(Cond(s, "ReplicaFailure").is_null());
  }
}

TEST(DeploymentStatusTest, TransitionTimesMoveOnlyWithTheStatus) {
  DeploymentFacts d = Rolling(1);
  std::vector<PodFacts> pods = {Pod("a", "new", State::kReady)};
  Json first = ComputeStatus(d, pods, Json(), {}, kNow);
  Json again = ComputeStatus(d, pods, first, {}, kNow + seconds(30));
  EXPECT_EQ(first, again);  // nothing to write
  pods[0].ready = false;
  Json worse = ComputeStatus(d, pods, again, {}, kNow + seconds(60));
  EXPECT_EQ(Cond(worse, "Available")["lastTransitionTime"], FormatRfc3339(kNow + seconds(60)));
  EXPECT_EQ(Cond(worse, "Progressing")["reason"], "PodsUpdating");
}

TEST(DeploymentStatusTest, ReplicaFailureComesAndGoes) {
  DeploymentFacts d = Rolling(2);
  std::vector<PodFacts> pods = {Pod("a", "new", State::kReady)};
  Json s = ComputeStatus(d, pods, Json(), {false, 0, "pods \"web-\" is forbidden: quota"}, kNow);
  Json f = Cond(s, "ReplicaFailure");
  EXPECT_EQ(f["status"], "True");
  EXPECT_EQ(f["reason"], "FailedCreate");
  EXPECT_EQ(f["message"], "pods \"web-\" is forbidden: quota");
  // Nothing created since, a Pod still missing: it stays.
  s = ComputeStatus(d, pods, s, {}, kNow);
  EXPECT_FALSE(Cond(s, "ReplicaFailure").is_null());
  // A create went through: gone.
  EXPECT_TRUE(Cond(ComputeStatus(d, pods, s, {false, 1, ""}, kNow), "ReplicaFailure").is_null());
  // Nothing missing any more: gone.
  pods.push_back(Pod("b", "new", State::kReady));
  EXPECT_TRUE(Cond(ComputeStatus(d, pods, s, {}, kNow), "ReplicaFailure").is_null());
}

TEST(DeploymentStatusTest, UntilProgressDeadline) {
  DeploymentFacts d = Rolling(2);
  d.progress_deadline_seconds = 600;
  Json s = ComputeStatus(d, {}, Json(), {true, 0, ""}, kNow);
  EXPECT_EQ(UntilProgressDeadline(d, s, kNow + seconds(100)), milliseconds(500000));
  EXPECT_EQ(UntilProgressDeadline(d, s, kNow + seconds(600)), std::nullopt);
  d.paused = true;
  EXPECT_EQ(UntilProgressDeadline(d, s, kNow), std::nullopt);
}

// --- facts ---

TEST(DeploymentFactsTest, TemplateHashIsStableAndCanonical) {
  Json a = *ParseJson(R"({"metadata":{"labels":{"app":"web","tier":"fe"}},"spec":{"x":1}})");
  Json b = *ParseJson(R"({"spec":{"x":1},"metadata":{"labels":{"tier":"fe","app":"web"}}})");
  EXPECT_EQ(TemplateHash(a), TemplateHash(b));
  EXPECT_EQ(TemplateHash(a).size(), 10u);
  EXPECT_EQ(TemplateHash(a).find_first_not_of("0123456789abcdef"), std::string::npos);
  EXPECT_EQ(TemplateHash(a), "ebc008d0d3");  // stable across builds and releases
  b["spec"]["x"] = 2;
  EXPECT_NE(TemplateHash(a), TemplateHash(b));
}

TEST(DeploymentFactsTest, ReadsTheDeployment) {
  Json d = *ParseJson(R"({
    "metadata": {"name": "web", "namespace": "default", "uid": "u1", "generation": 4,
                 "annotations": {"deployment.kubernetes.io/revision": "7"}},
    "spec": {"replicas": 5, "minReadySeconds": 3, "progressDeadlineSeconds": 60, "paused": true,
             "strategy": {"type": "RollingUpdate",
                          "rollingUpdate": {"maxSurge": 2, "maxUnavailable": "40%"}},
             "template": {"metadata": {"labels": {"app": "web"}}, "spec": {}}}})");
  auto f = DeploymentFactsOf(d);
  ASSERT_TRUE(f.ok()) << f.error().ToString();
  EXPECT_EQ(f->name, "web");
  EXPECT_EQ(f->generation, 4);
  EXPECT_EQ(f->replicas, 5);
  EXPECT_EQ(f->revision, 7);
  EXPECT_EQ(f->hash, TemplateHash(d["spec"]["template"]));
  EXPECT_EQ(f->strategy, Strategy::kRollingUpdate);
  EXPECT_EQ(f->max_surge.value, 2);
  EXPECT_FALSE(f->max_surge.percent);
  EXPECT_EQ(f->max_unavailable.value, 40);
  EXPECT_TRUE(f->max_unavailable.percent);
  EXPECT_EQ(f->min_ready_seconds, 3);
  EXPECT_EQ(f->progress_deadline_seconds, 60);
  EXPECT_TRUE(f->paused);

  d["spec"]["strategy"]["rollingUpdate"]["maxSurge"] = "two";
  EXPECT_EQ(DeploymentFactsOf(d).error().code(), Code::kInvalid);
  d["spec"].erase("strategy");
  f = DeploymentFactsOf(d);
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f->max_surge.value, 25);
  EXPECT_TRUE(f->max_surge.percent);
}

TEST(DeploymentFactsTest, PodFromTemplateAndBack) {
  Json d = *ParseJson(R"({
    "apiVersion": "lintel.dev/v1alpha1", "kind": "Deployment",
    "metadata": {"name": "web", "namespace": "prod", "uid": "d-uid"},
    "spec": {"template": {"metadata": {"labels": {"app": "web"}, "annotations": {"a": "b"}},
                          "spec": {"containers": [{"name": "m", "image": "busybox"}]}}}})");
  Json pod = PodFromTemplate(d, "abcdef0123", 3);
  EXPECT_EQ(pod["kind"], "Pod");
  EXPECT_EQ(pod["metadata"]["generateName"], "web-abcdef0123-");
  EXPECT_EQ(pod["metadata"]["namespace"], "prod");
  EXPECT_EQ(pod["metadata"]["labels"], (Json{{"app", "web"}, {"pod-template-hash", "abcdef0123"}}));
  EXPECT_EQ(pod["metadata"]["annotations"], (Json{{"a", "b"}, {"lintel.dev/revision", "3"}}));
  EXPECT_EQ(pod["metadata"]["ownerReferences"],
            Json::array({{{"apiVersion", "lintel.dev/v1alpha1"},
                          {"kind", "Deployment"},
                          {"name", "web"},
                          {"uid", "d-uid"},
                          {"controller", true},
                          {"blockOwnerDeletion", true}}}));
  EXPECT_EQ(pod["spec"], d["spec"]["template"]["spec"]);

  pod["metadata"]["name"] = "web-abcdef0123-x1";
  pod["metadata"]["uid"] = "p-uid";
  pod["metadata"]["creationTimestamp"] = "2026-01-01T11:00:00Z";
  pod["status"] = {{"phase", "Running"},
                   {"host", "h1"},
                   {"conditions",
                    {{{"type", "Ready"},
                      {"status", "True"},
                      {"lastTransitionTime", "2026-01-01T11:00:05Z"}}}}};
  IndexedPod p = IndexedPodOf(pod);
  EXPECT_EQ(p.ns, "prod");
  EXPECT_EQ(p.controller_uid, "d-uid");
  EXPECT_EQ(p.facts.name, "web-abcdef0123-x1");
  EXPECT_EQ(p.facts.uid, "p-uid");
  EXPECT_EQ(p.facts.hash, "abcdef0123");
  EXPECT_TRUE(p.facts.bound);
  EXPECT_TRUE(p.facts.ready);
  EXPECT_EQ(p.facts.ready_since, *ParseRfc3339("2026-01-01T11:00:05Z"));
  EXPECT_EQ(p.facts.created, *ParseRfc3339("2026-01-01T11:00:00Z"));
  EXPECT_FALSE(p.facts.ended);
  pod["status"]["phase"] = "Failed";
  pod["metadata"]["deletionTimestamp"] = "2026-01-01T11:01:00Z";
  p = IndexedPodOf(pod);
  EXPECT_TRUE(p.facts.ended && p.facts.failed && p.facts.deleting);
}

// --- expectations ---

TEST(ExpectationsTest, WaitsForWhatItWroteUntilSeenOrExpired) {
  using Mono = Expectations::MonoTime;
  const Mono t0{};
  Expectations e(seconds(60));
  EXPECT_TRUE(e.Satisfied("ns/web", t0));
  e.ExpectCreate("ns/web", "p1", t0);
  e.ExpectCreate("ns/web", "p2", t0);
  e.ExpectDelete("ns/web", "p3", t0);
  EXPECT_FALSE(e.Satisfied("ns/web", t0 + seconds(1)));
  EXPECT_EQ(e.UntilExpiry("ns/web", t0 + seconds(1)), seconds(59));
  EXPECT_EQ(e.ObservedCreate("p1"), "");
  EXPECT_EQ(e.ObservedCreate("p3"), "");  // p3 is expected gone, not created
  EXPECT_EQ(e.ObservedDelete("p2"), "");  // created and gone before it was seen
  EXPECT_EQ(e.ObservedDelete("p3"), "ns/web");
  EXPECT_TRUE(e.Satisfied("ns/web", t0 + seconds(1)));
  EXPECT_EQ(e.pending(), 0u);

  e.ExpectCreate("ns/web", "p4", t0);
  EXPECT_FALSE(e.Satisfied("ns/web", t0 + seconds(59)));
  EXPECT_TRUE(e.Satisfied("ns/web", t0 + seconds(61)));
  EXPECT_EQ(e.pending(), 0u);
  e.ExpectCreate("ns/web", "p5", t0);
  e.Forget("ns/web");
  EXPECT_TRUE(e.Satisfied("ns/web", t0));
  EXPECT_EQ(e.ObservedCreate("p5"), "");
}

}  // namespace
}  // namespace lintel::controllers::deployment
