// The OCI driver with real runc and conmon: probes, the Pod's shared
// network, conmon killed, re-adoption after an agent restart.
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <chrono>

#include "drivers/oci/conmon.h"
#include "integration/drivers/oci/oci_fixture.h"

namespace lintel::testing {
namespace {

using drivers::RunState;
using std::chrono::milliseconds;

Json ExecProbe(const std::string& script, int failure_threshold = 3) {
  return {{"exec", {{"command", {"/bin/sh", "-c", script}}}},
          {"periodSeconds", 1},
          {"failureThreshold", failure_threshold}};
}

TEST_F(OciDriverTest, ReadinessProbeFlipsReady) {
  Json c = Container("main", "sleep 1; touch /tmp/ready; sleep 100");
  c["readinessProbe"] = ExecProbe("test -f /tmp/ready");
  auto w = Workload("ready", PodSpec({c}, "Never", 0));
  StartPod(w);
  auto st = WaitFor(w.uid, [](const auto& s) { return Running(s); });
  ASSERT_TRUE(Running(st));
  Watch(w.uid, "main");
  EXPECT_EQ(st.ready, std::optional<bool>(false));
  EXPECT_EQ(st.containers[0].ready, std::optional<bool>(false));
  st = WaitFor(w.uid, [](const auto& s) { return s.ready.value_or(false); });
  EXPECT_EQ(st.ready, std::optional<bool>(true));
  EXPECT_EQ(st.containers[0].ready, std::optional<bool>(true));
}

TEST_F(OciDriverTest, LivenessFailureRestartsTheContainer) {
  Json c = Container("main", "touch /tmp/alive; sleep 1; rm /tmp/alive; sleep 100");
  c["livenessProbe"] = ExecProbe("test -f /tmp/alive", 1);
  auto w = Workload("live", PodSpec({c}, "Always", 1));
  StartPod(w);
  ASSERT_TRUE(Running(WaitFor(w.uid, [](const auto& s) { return Running(s); })));
  Watch(w.uid, "main");
  auto st = WaitFor(w.uid, [](const auto& s) {
    return !s.containers.empty() && s.containers[0].restart_count >= 1;
  });
  ASSERT_GE(st.containers[0].restart_count, 1);
  ASSERT_TRUE(st.containers[0].last_termination.has_value());
  EXPECT_NE(st.containers[0].last_termination->message.find("Liveness probe failed"),
            std::string::npos)
      << st.containers[0].last_termination->message;
  EXPECT_NE(st.containers[0].last_termination->exit_code, 0);
}

TEST_F(OciDriverTest, ContainersShareTheLoopback) {
  Json server = Container("server", "nc -l -p 8080");
  Json client = Container("client",
                          "until echo hello-from-client | nc 127.0.0.1 8080; do sleep 0.2; done; "
                          "hostname");
  auto w = Workload("pair", PodSpec({server, client}, "Never", 0));
  StartPod(w);
  auto st = WaitFor(w.uid, Exited, std::chrono::seconds(20));
  ASSERT_EQ(st.state, RunState::kExited) << st.message;
  EXPECT_EQ(st.exit_code, 0) << st.message;
  auto server_log = LogLines(w.uid, "server");
  EXPECT_NE(std::find(server_log.begin(), server_log.end(), "hello-from-client"), server_log.end());
  auto client_log = LogLines(w.uid, "client");
  EXPECT_NE(std::find(client_log.begin(), client_log.end(), "pair"), client_log.end())
      << "the Pod's hostname";
}

TEST_F(OciDriverTest, HttpAndTcpProbesReachThePod) {
  Json web = Container("web",
                       "mkdir -p /www && echo ok > /www/index.html && "
                       "exec httpd -f -p 8080 -h /www");
  web["readinessProbe"] = {{"httpGet", {{"port", "http"}, {"path", "/index.html"}}},
                           {"periodSeconds", 1}};
  web["ports"] = {{{"name", "http"}, {"containerPort", 8080}}};
  Json side = Container("side", "sleep 100");
  side["readinessProbe"] = {{"tcpSocket", {{"port", 8080}}}, {"periodSeconds", 1}};
  Json missing = Container("missing", "sleep 100");
  missing["readinessProbe"] = {{"httpGet", {{"port", 8080}, {"path", "/nope"}}},
                               {"periodSeconds", 1}};
  auto w = Workload("probes", PodSpec({web, side, missing}, "Never", 0));
  StartPod(w);
  auto st = WaitFor(w.uid, [](const auto& s) {
    return s.containers.size() == 3 && s.containers[0].ready.value_or(false) &&
           s.containers[1].ready.value_or(false);
  });
  ASSERT_EQ(st.containers.size(), 3u);
  EXPECT_EQ(st.containers[0].ready, std::optional<bool>(true));
  EXPECT_EQ(st.containers[1].ready, std::optional<bool>(true));
  EXPECT_EQ(st.containers[2].ready, std::optional<bool>(false));  // 404
  EXPECT_EQ(st.ready, std::optional<bool>(false));
  for (const char* c : {"web", "side", "missing"}) Watch(w.uid, c);
}

TEST_F(OciDriverTest, KilledConmonIsAnErrorAndRestarts) {
  auto w = Workload("conmon", PodSpec({Container("main", "sleep 100")}, "Always", 0));
  StartPod(w);
  ASSERT_TRUE(Running(WaitFor(w.uid, [](const auto& s) { return Running(s); })));
  auto run = driver_->CurrentRun(w.uid, "main");
  ASSERT_TRUE(run.has_value());
  ASSERT_GT(run->conmon_pid, 0);
  pid_t old_pid = run->pid;
  ASSERT_EQ(::kill(run->conmon_pid, SIGKILL), 0);
  auto st = WaitFor(w.uid, [](const auto& s) {
    return !s.containers.empty() && s.containers[0].restart_count >= 1 && Running(s);
  });
  ASSERT_GE(st.containers[0].restart_count, 1);
  ASSERT_TRUE(st.containers[0].last_termination.has_value());
  EXPECT_EQ(st.containers[0].last_termination->reason, "Error");
  EXPECT_EQ(st.containers[0].last_termination->message, "conmon died");
  for (int i = 0; i < 100 && Alive(old_pid); ++i) std::this_thread::sleep_for(milliseconds(20));
  EXPECT_FALSE(Alive(old_pid)) << "the orphaned container was not killed";
  Watch(w.uid, "main");
}

TEST_F(OciDriverTest, RestartedAgentAdoptsRunningContainers) {
  auto w = Workload("adopt", PodSpec({Container("main", "echo up; sleep 100")}, "Always", 0));
  drivers::Handle h = StartPod(w);
  ASSERT_TRUE(Running(WaitFor(w.uid, [](const auto& s) { return Running(s); })));
  auto before = driver_->CurrentRun(w.uid, "main");
  ASSERT_TRUE(before.has_value());
  Watch(w.uid, "main");

  driver_.reset();  // the agent goes away; conmon and the container stay
  ASSERT_TRUE(Alive(before->pid));
  ASSERT_TRUE(MakeDriver().ok());
  ASSERT_TRUE(driver_->Recover(h, w).ok());
  auto st = StatusOf(w.uid);
  ASSERT_TRUE(Running(st)) << drivers::RunStateName(st.state);
  EXPECT_EQ(st.containers[0].restart_count, 0);
  auto after = driver_->CurrentRun(w.uid, "main");
  ASSERT_TRUE(after.has_value());
  EXPECT_EQ(after->pid, before->pid);
  EXPECT_EQ(after->conmon_pid, before->conmon_pid);
  EXPECT_EQ(after->id, before->id);
  // Still supervised: a second Recover is a no-op, and Stop works.
  ASSERT_TRUE(driver_->Recover(h, w).ok());
  ASSERT_TRUE(driver_->Stop(w.uid, milliseconds(0)).ok());
  EXPECT_EQ(StatusOf(w.uid).state, RunState::kExited);
}

TEST_F(OciDriverTest, RestartedAgentSeesWhatExitedMeanwhile) {
  auto w = Workload("gone", PodSpec({Container("main", "sleep 0.5; exit 5")}, "Never", 0));
  drivers::Handle h = StartPod(w);
  ASSERT_TRUE(Running(WaitFor(w.uid, [](const auto& s) { return Running(s) || Exited(s); })));
  driver_.reset();
  std::this_thread::sleep_for(milliseconds(1200));
  ASSERT_TRUE(MakeDriver().ok());
  ASSERT_TRUE(driver_->Recover(h, w).ok());
  auto st = WaitFor(w.uid, Exited);
  ASSERT_EQ(st.state, RunState::kExited);
  EXPECT_EQ(st.exit_code, 5);
  EXPECT_EQ(st.containers[0].reason, "Error");
  EXPECT_EQ(st.containers[0].restart_count, 0);
}

TEST_F(OciDriverTest, RecoverOfAnUnknownPodIsNotFound) {
  drivers::Handle h;
  h.driver = "oci";
  h.uid = "nobody-knows";
  EXPECT_EQ(driver_->Recover(h, Workload("x", PodSpec({Container("main", "true")}))).code(),
            Code::kNotFound);
}

TEST_F(OciDriverTest, EmptyDirIsSharedAndUserResolved) {
  Json writer = Container("writer", "echo shared > /data/file; id -u; id -G");
  writer["volumeMounts"] = {{{"name", "scratch"}, {"mountPath", "/data"}}};
  writer["securityContext"] = {{"runAsUser", 1000}};
  Json reader = Container("reader", "until [ -f /data/file ]; do sleep 0.1; done; cat /data/file");
  reader["volumeMounts"] = {{{"name", "scratch"}, {"mountPath", "/data"}, {"readOnly", true}}};
  Json spec = PodSpec({writer, reader}, "Never", 0);
  spec["volumes"] = {{{"name", "scratch"}, {"emptyDir", Json::object()}}};
  auto w = Workload("vol", spec);
  StartPod(w);
  auto st = WaitFor(w.uid, Exited);
  ASSERT_EQ(st.state, RunState::kExited) << st.message;
  EXPECT_EQ(st.exit_code, 0) << st.message;
  EXPECT_EQ(LogLines(w.uid, "writer"), (std::vector<std::string>{"1000", "1000 2000"}));
  EXPECT_EQ(LogLines(w.uid, "reader"), (std::vector<std::string>{"shared"}));
}

}  // namespace
}  // namespace lintel::testing
