#include "agent/workload_status.h"

#include <gtest/gtest.h>

#include "common/time_format.h"

namespace lintel::agent {
namespace {

using drivers::ContainerStatus;
using drivers::RunState;
using drivers::WorkloadKind;
using drivers::WorkloadStatus;

Clock::WallTime T(const char* rfc3339) { return *ParseRfc3339(rfc3339); }

WorkloadStatus RunningPod() {
  WorkloadStatus st;
  st.state = RunState::kRunning;
  st.started_at = T("2026-01-01T00:00:05Z");
  ContainerStatus c;
  c.name = "main";
  c.image = "busybox";
  c.state = RunState::kRunning;
  c.started_at = st.started_at;
  st.containers.push_back(c);
  return st;
}

TEST(WorkloadStatusTest, NothingToReportWhileStarting) {
  WorkloadStatus st;
  EXPECT_FALSE(ReportFor(WorkloadKind::kPod, st).has_value());
  EXPECT_FALSE(ReportFor(WorkloadKind::kVirtualMachine, st).has_value());
}

TEST(WorkloadStatusTest, APodHeldUpWhileStartingSaysWhy) {
  WorkloadStatus st;
  drivers::ContainerStatus c;
  c.name = "main";
  c.image = "nope:1";
  c.state = drivers::RunState::kStarting;
  st.containers.push_back(c);
  // Plain ContainerCreating: nothing worth a write.
  EXPECT_FALSE(ReportFor(WorkloadKind::kPod, st).has_value());
  st.containers[0].reason = "ContainerCreating";
  EXPECT_FALSE(ReportFor(WorkloadKind::kPod, st).has_value());
  st.containers[0].reason = "ErrImagePull";
  st.containers[0].message = "image nope:1 not found";
  auto r = ReportFor(WorkloadKind::kPod, st);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->phase, "Pending");
  EXPECT_FALSE(r->ready);
  EXPECT_EQ(r->status["containerStatuses"][0]["state"],
            Json::parse(R"({"waiting": {"reason": "ErrImagePull",
                                        "message": "image nope:1 not found"}})"));
  EXPECT_EQ(r->ready_condition.value("reason", ""), "ContainersNotReady");
  EXPECT_EQ(r->ready_condition.value("message", ""),
            "container main: ErrImagePull: image nope:1 not found");
  // Back-off after the failed pull is a new report.
  auto first = r->digest;
  st.containers[0].reason = "ImagePullBackOff";
  EXPECT_NE(ReportFor(WorkloadKind::kPod, st)->digest, first);
}

TEST(WorkloadStatusTest, RunningPod) {
  auto r = ReportFor(WorkloadKind::kPod, RunningPod());
  ASSERT_TRUE(r);
  EXPECT_EQ(r->phase, "Running");
  EXPECT_TRUE(r->ready);
  EXPECT_EQ(r->status, Json::parse(R"({
    "phase": "Running", "startTime": "2026-01-01T00:00:05Z",
    "containerStatuses": [{"name": "main", "image": "busybox", "ready": true, "started": true,
                           "restartCount": 0,
                           "state": {"running": {"startedAt": "2026-01-01T00:00:05Z"}}}]})"));
  EXPECT_EQ(r->ready_condition, Json::parse(R"({"type": "Ready", "status": "True",
                                                "lastTransitionTime": "2026-01-01T00:00:05Z"})"));
}

TEST(WorkloadStatusTest, RunningVm) {
  WorkloadStatus st;
  st.state = RunState::kRunning;
  st.started_at = T("2026-01-01T00:00:05Z");
  st.accelerator = "kvm";
  auto r = ReportFor(WorkloadKind::kVirtualMachine, st);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, Json::parse(R"({"phase": "Running", "startTime": "2026-01-01T00:00:05Z",
                                       "accelerator": "kvm"})"));
  EXPECT_EQ(r->ready_condition["status"], "True");
}

TEST(WorkloadStatusTest, EstateAddressesAreReported) {
  WorkloadStatus st = RunningPod();
  auto before = ReportFor(WorkloadKind::kPod, st);
  ASSERT_TRUE(before);
  EXPECT_FALSE(before->status.contains("podIP"));
  st.ip = "10.244.3.5";
  auto pod = ReportFor(WorkloadKind::kPod, st);
  ASSERT_TRUE(pod);
  EXPECT_EQ(pod->status["podIP"], "10.244.3.5");
  EXPECT_EQ(pod->status["podIPs"], Json::parse(R"([{"ip": "10.244.3.5"}])"));
  EXPECT_NE(pod->digest, before->digest);  // a new address is worth a write
  WorkloadStatus vm;
  vm.state = RunState::kRunning;
  vm.ip = "10.244.3.6";
  vm.ready = false;  // its readiness probe has not passed yet
  auto r = ReportFor(WorkloadKind::kVirtualMachine, vm);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status["ip"], "10.244.3.6");
  EXPECT_EQ(r->status["ipAddresses"], Json::parse(R"(["10.244.3.6"])"));
  EXPECT_EQ(r->phase, "Running");
  EXPECT_FALSE(r->ready);
  vm.ready = true;
  EXPECT_TRUE(ReportFor(WorkloadKind::kVirtualMachine, vm)->ready);
}

TEST(WorkloadStatusTest, ExitedWorkloadsEndByExitCode) {
  struct Case {
    const char* name;
    WorkloadKind kind;
    int code;
    const char* phase;
  } cases[] = {
      {"pod ok", WorkloadKind::kPod, 0, "Succeeded"},
      {"pod failed", WorkloadKind::kPod, 2, "Failed"},
      {"vm ok", WorkloadKind::kVirtualMachine, 0, "Stopped"},
      {"vm failed", WorkloadKind::kVirtualMachine, 1, "Failed"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    WorkloadStatus st = RunningPod();
    st.state = RunState::kExited;
    st.exit_code = c.code;
    st.reason = c.code == 0 ? "Completed" : "Error";
    st.finished_at = T("2026-01-01T00:01:00Z");
    st.containers[0].state = RunState::kExited;
    st.containers[0].exit_code = c.code;
    st.containers[0].finished_at = st.finished_at;
    if (c.kind == WorkloadKind::kVirtualMachine) st.containers.clear();
    auto r = ReportFor(c.kind, st);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->phase, c.phase);
    EXPECT_FALSE(r->ready);
    EXPECT_EQ(r->ready_condition["status"], "False");
    EXPECT_EQ(r->ready_condition["lastTransitionTime"], "2026-01-01T00:01:00Z");
    EXPECT_NE(r->digest, ReportFor(c.kind, RunningPod())->digest);
    if (c.kind == WorkloadKind::kPod) {
      const Json& t = r->status["containerStatuses"][0]["state"]["terminated"];
      EXPECT_EQ(t["exitCode"], c.code);
      EXPECT_EQ(t["startedAt"], "2026-01-01T00:00:05Z");
      EXPECT_EQ(t["finishedAt"], "2026-01-01T00:01:00Z");
      EXPECT_EQ(r->status["containerStatuses"][0]["ready"], false);
    } else {
      EXPECT_EQ(r->status["lastExitReason"], st.reason);
    }
  }
}

TEST(WorkloadStatusTest, StartFailure) {
  drivers::WorkloadSpec spec;
  spec.kind = WorkloadKind::kPod;
  spec.spec = {{"containers", {{{"name", "main"}, {"image", "nope"}}}}};
  WorkloadReport r = StartFailedReport(WorkloadKind::kPod, spec, "image nope not found",
                                       T("2026-01-01T00:00:01Z"));
  EXPECT_EQ(r.phase, "Failed");
  EXPECT_EQ(r.status["reason"], "StartError");
  EXPECT_EQ(r.status["message"], "image nope not found");
  EXPECT_EQ(r.ready_condition["reason"], "StartError");
  EXPECT_EQ(r.status["containerStatuses"][0]["state"]["terminated"]["exitCode"], 128);
  EXPECT_FALSE(r.status.contains("startTime"));

  spec.kind = WorkloadKind::kVirtualMachine;
  WorkloadReport v =
      StartFailedReport(WorkloadKind::kVirtualMachine, spec, "no kvm", T("2026-01-01T00:00:01Z"));
  EXPECT_EQ(v.phase, "Failed");
  EXPECT_EQ(v.status["lastExitReason"], "StartError: no kvm");
}

TEST(WorkloadStatusTest, TerminalPhases) {
  EXPECT_TRUE(IsTerminalPhase(WorkloadKind::kPod, "Succeeded"));
  EXPECT_TRUE(IsTerminalPhase(WorkloadKind::kPod, "Failed"));
  EXPECT_FALSE(IsTerminalPhase(WorkloadKind::kPod, "Running"));
  EXPECT_FALSE(IsTerminalPhase(WorkloadKind::kPod, "Stopped"));
  EXPECT_TRUE(IsTerminalPhase(WorkloadKind::kVirtualMachine, "Stopped"));
  EXPECT_FALSE(IsTerminalPhase(WorkloadKind::kVirtualMachine, "Scheduled"));
}

}  // namespace
}  // namespace lintel::agent

namespace lintel::agent {
namespace {

using drivers::WorkloadKind;

Json PodStatus(const std::string& phase, Json containers) {
  return {{"phase", phase}, {"containerStatuses", std::move(containers)}};
}

Json C(Json state, Json extra = Json::object()) {
  Json c = {{"name", "main"}, {"image", "busybox"}, {"state", std::move(state)}};
  for (auto it = extra.begin(); it != extra.end(); ++it) c[it.key()] = it.value();
  return c;
}

TEST(WorkloadEventsTest, PodTransitions) {
  struct Case {
    const char* name;
    Json before, after;
    std::vector<WorkloadEvent> want;
  };
  const Json running1 = {{"running", {{"startedAt", "2026-01-01T00:00:05Z"}}}};
  const Json running2 = {{"running", {{"startedAt", "2026-01-01T00:01:00Z"}}}};
  const Json pull = {{"waiting", {{"reason", "ErrImagePull"}, {"message", "manifest unknown"}}}};
  const Json pull_backoff = {{"waiting", {{"reason", "ImagePullBackOff"}}}};
  const Json crash = {{"waiting", {{"reason", "CrashLoopBackOff"}}}};
  const Json oom = {{"terminated", {{"exitCode", 137}, {"reason", "OOMKilled"}}}};
  const Json failed = {{"terminated", {{"exitCode", 3}, {"reason", "Error"}}}};
  std::vector<Case> cases = {
      {"first report, running",
       Json(),
       PodStatus("Running", {C(running1)}),
       {{"Normal", "Started", "Started container main"}}},
      {"no change", PodStatus("Running", {C(running1)}), PodStatus("Running", {C(running1)}), {}},
      {"pull fails",
       Json(),
       PodStatus("Pending", {C(pull)}),
       {{"Warning", "Failed", "Failed to pull image \"busybox\": manifest unknown"}}},
      {"pull backs off",
       PodStatus("Pending", {C(pull)}),
       PodStatus("Pending", {C(pull_backoff)}),
       {{"Normal", "BackOff", "Back-off pulling image \"busybox\""}}},
      {"restarted after a failure",
       PodStatus("Running", {C(running1)}),
       PodStatus("Running", {C(running2, {{"restartCount", 1}, {"lastState", failed}})}),
       {{"Normal", "Started", "Started container main"},
        {"Warning", "Terminated", "Container main exited with code 3 (Error)"}}},
      {"crash loop",
       PodStatus("Running", {C(running1)}),
       PodStatus("Running", {C(crash, {{"lastState", oom}})}),
       {{"Warning", "BackOff", "Back-off restarting failed container main"},
        {"Warning", "OOMKilled", "Container main was killed: out of memory (its memory limit)"}}},
      {"completed",
       PodStatus("Running", {C(running1)}),
       PodStatus("Succeeded", {C({{"terminated", {{"exitCode", 0}, {"reason", "Completed"}}}})}),
       {}},
      {"start error",
       Json(),
       {{"phase", "Failed"},
        {"reason", "StartError"},
        {"message", "exec: \"nope\": not found"},
        {"containerStatuses",
         {C({{"terminated", {{"exitCode", 128}, {"reason", "StartError"}}}})}}},
       {{"Warning", "Failed", "exec: \"nope\": not found"}}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(EventsBetween(WorkloadKind::kPod, c.before, c.after), c.want);
  }
}

TEST(WorkloadEventsTest, VmTransitions) {
  const Json running = {{"phase", "Running"}, {"accelerator", "tcg"}};
  EXPECT_EQ(EventsBetween(WorkloadKind::kVirtualMachine, Json(), running),
            (std::vector<WorkloadEvent>{{"Normal", "Started", "Started virtual machine (tcg)"}}));
  EXPECT_TRUE(EventsBetween(WorkloadKind::kVirtualMachine, running, running).empty());
  EXPECT_EQ(EventsBetween(WorkloadKind::kVirtualMachine, running,
                          {{"phase", "Failed"}, {"lastExitReason", "qemu exited: 1"}}),
            (std::vector<WorkloadEvent>{{"Warning", "Failed", "qemu exited: 1"}}));
}

}  // namespace
}  // namespace lintel::agent
