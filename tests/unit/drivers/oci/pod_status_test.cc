#include "drivers/oci/pod_status.h"

#include <gtest/gtest.h>

#include "common/time_format.h"
#include "drivers/oci/pod_state.h"
#include "drivers/oci/runtime.h"
#include "drivers/oci/sandbox.h"

namespace lintel::drivers::oci {
namespace {

Clock::WallTime T(const char* s) { return *ParseRfc3339(s); }

PodPlan TwoContainers() {
  PodPlan p;
  p.name = "web";
  for (const char* n : {"a", "b"}) {
    ContainerPlan c;
    c.name = n;
    c.image = "busybox";
    p.containers.push_back(c);
  }
  return p;
}

ContainerRecord Rec(const char* name, int runs, bool done, std::optional<Termination> last = {}) {
  ContainerRecord r;
  r.name = name;
  r.runs = runs;
  r.done = done;
  r.last = std::move(last);
  return r;
}

Termination Ended(int code, const char* reason) {
  Termination t;
  t.exit_code = code;
  t.reason = reason;
  t.started_at = T("2026-01-01T00:00:01Z");
  t.finished_at = T("2026-01-01T00:00:09Z");
  return t;
}

RunRecord MakeRun(int run) {
  RunRecord r;
  r.run = run;
  r.id = "u-a-" + std::to_string(run);
  r.started_at = T("2026-01-01T00:00:02Z");
  return r;
}

TEST(PodStatusTest, Table) {
  struct Case {
    const char* name;
    std::vector<ContainerRecord> recs;
    std::vector<ContainerLive> live;
    RunState want_state;
    int want_exit;
    std::string want_reason;
    std::optional<bool> want_ready;
  };
  ContainerRecord running_a = Rec("a", 1, false);
  running_a.current = MakeRun(0);
  ContainerRecord running_b = Rec("b", 1, false);
  running_b.current = MakeRun(0);
  ContainerRecord crashloop = Rec("b", 3, false, Ended(1, "Error"));
  crashloop.waiting_reason = "CrashLoopBackOff";
  ContainerRecord pulling = Rec("a", 0, false);
  pulling.waiting_reason = "ImagePullBackOff";
  Case cases[] = {
      {"creating",
       {Rec("a", 0, false), Rec("b", 0, false)},
       {{}, {}},
       RunState::kStarting,
       0,
       "",
       std::nullopt},
      {"pulling",
       {pulling, Rec("b", 0, false)},
       {{}, {}},
       RunState::kStarting,
       0,
       "",
       std::nullopt},
      {"half started",
       {running_a, Rec("b", 0, false)},
       {{true}, {}},
       RunState::kRunning,
       0,
       "ContainersNotReady",
       false},
      {"running",
       {running_a, running_b},
       {{true}, {true}},
       RunState::kRunning,
       0,
       "",
       std::nullopt},
      {"readiness pending",
       {running_a, running_b},
       {{true, true, false}, {true}},
       RunState::kRunning,
       0,
       "ContainersNotReady",
       false},
      {"readiness passed",
       {running_a, running_b},
       {{true, true, true}, {true}},
       RunState::kRunning,
       0,
       "",
       true},
      {"crash loop",
       {running_a, crashloop},
       {{true}, {}},
       RunState::kRunning,
       0,
       "ContainersNotReady",
       false},
      {"one done one running",
       {Rec("a", 1, true, Ended(0, "Completed")), running_b},
       {{}, {true}},
       RunState::kRunning,
       0,
       "ContainersNotReady",
       false},
      {"all completed",
       {Rec("a", 1, true, Ended(0, "Completed")), Rec("b", 1, true, Ended(0, "Completed"))},
       {{}, {}},
       RunState::kExited,
       0,
       "Completed",
       false},
      {"one failed",
       {Rec("a", 1, true, Ended(0, "Completed")), Rec("b", 2, true, Ended(137, "OOMKilled"))},
       {{}, {}},
       RunState::kExited,
       137,
       "OOMKilled",
       false},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    PodRecord rec;
    rec.containers = c.recs;
    WorkloadStatus st = ComputePodStatus(TwoContainers(), rec, c.live, "runc", "");
    EXPECT_EQ(st.state, c.want_state);
    EXPECT_EQ(st.exit_code, c.want_exit);
    EXPECT_EQ(st.reason, c.want_reason);
    EXPECT_EQ(st.ready, c.want_ready);
    ASSERT_EQ(st.containers.size(), 2u);
  }
}

TEST(PodStatusTest, ContainerDetails) {
  ContainerRecord a = Rec("a", 3, false, Ended(2, "Error"));
  a.current = MakeRun(2);
  a.image_id = "sha256:abc";
  ContainerRecord b = Rec("b", 2, false, Ended(1, "Error"));
  b.waiting_reason = "CrashLoopBackOff";
  b.waiting_message = "back-off 20s restarting failed container=b";
  PodRecord rec;
  rec.containers = {a, b};
  WorkloadStatus st = ComputePodStatus(TwoContainers(), rec, {{true}, {}}, "runc", "");
  const ContainerStatus& ca = st.containers[0];
  EXPECT_EQ(ca.state, RunState::kRunning);
  EXPECT_EQ(ca.restart_count, 2);
  EXPECT_EQ(ca.container_id, "runc://u-a-2");
  EXPECT_EQ(ca.image_id, "sha256:abc");
  EXPECT_EQ(ca.started_at, T("2026-01-01T00:00:02Z"));
  ASSERT_TRUE(ca.last_termination);
  EXPECT_EQ(ca.last_termination->exit_code, 2);
  EXPECT_FALSE(ca.ready.has_value());  // no probe: ready when running
  const ContainerStatus& cb = st.containers[1];
  EXPECT_EQ(cb.state, RunState::kStarting);
  EXPECT_EQ(cb.reason, "CrashLoopBackOff");
  EXPECT_EQ(cb.message, "back-off 20s restarting failed container=b");
  EXPECT_EQ(cb.restart_count, 1);
}

TEST(PodStatusTest, SandboxFailureFailsThePod) {
  PodRecord rec;
  rec.containers = {Rec("a", 0, false), Rec("b", 0, false)};
  WorkloadStatus st = ComputePodStatus(TwoContainers(), rec, {}, "runc", "unshare: denied");
  EXPECT_EQ(st.state, RunState::kFailed);
  EXPECT_EQ(st.message, "unshare: denied");
}

TEST(PodStateTest, RoundTrip) {
  PodRecord r;
  r.uid = "u1";
  r.ns = "default";
  r.name = "web";
  r.spec = {{"containers", Json::array()}};
  r.running_since = T("2026-01-01T00:00:03Z");
  r.stopping = true;
  ContainerRecord c = Rec("a", 4, false, Ended(3, "Error"));
  c.consecutive = 2;
  c.pull_failures = 1;
  c.current = MakeRun(3);
  c.current->conmon_pid = 1234;
  c.current->pid = 1240;
  c.next_start = T("2026-01-01T00:01:00Z");
  c.waiting_reason = "CrashLoopBackOff";
  c.image_id = "sha256:abc";
  r.containers = {c, Rec("b", 1, true)};
  auto back = PodRecordFromJson(PodRecordToJson(r));
  ASSERT_TRUE(back.ok()) << back.error().ToString();
  EXPECT_EQ(*back, r);
  EXPECT_FALSE(PodRecordFromJson(Json::object()).ok());
  EXPECT_FALSE(PodRecordFromJson({{"version", 99}, {"containers", Json::array()}}).ok());
}

TEST(RuntimeTest, ErrorTextIsRuncsMessage) {
  EXPECT_EQ(OciRuntime::ErrorText(
                "time=\"2026-11-28T06:43:08Z\" level=error msg=\"runc create failed: unable to "
                "start container process: exec: \\\"nope\\\": executable file not found in "
                "$PATH\"\n"),
            "runc create failed: unable to start container process: exec: \"nope\": executable "
            "file not found in $PATH");
  EXPECT_EQ(OciRuntime::ErrorText("plain failure\n"), "plain failure");
}

TEST(SandboxFilesTest, HostsAndResolvConf) {
  std::string hosts = HostsFile("web", "");
  EXPECT_NE(hosts.find("127.0.0.1\tlocalhost\n"), std::string::npos);
  EXPECT_NE(hosts.find("127.0.1.1\tweb\n"), std::string::npos);
  EXPECT_NE(HostsFile("web", "10.0.0.7").find("10.0.0.7\tweb\n"), std::string::npos);
  EXPECT_EQ(ResolvConf("nameserver 127.0.0.53\nnameserver 10.0.0.2\nsearch example.com\n"
                       "nameserver ::1\n"),
            "nameserver 10.0.0.2\nsearch example.com\n");
}

}  // namespace
}  // namespace lintel::drivers::oci
