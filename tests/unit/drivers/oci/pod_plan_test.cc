#include "drivers/oci/pod_plan.h"

#include <gtest/gtest.h>

#include "drivers/oci/backoff.h"
#include "drivers/oci/probe.h"

namespace lintel::drivers::oci {
namespace {

WorkloadSpec Pod(Json spec) {
  WorkloadSpec w;
  w.ns = "default";
  w.name = "web-7d9f";
  w.uid = "u1";
  w.spec = std::move(spec);
  return w;
}

TEST(PodPlanTest, DefaultsAndFields) {
  auto plan = ParsePodPlan(Pod(Json::parse(R"({
    "containers": [{
      "name": "main", "image": "busybox", "command": ["sh"], "args": [],
      "env": [{"name": "A", "value": "1"}, {"name": "B"}],
      "imagePullPolicy": "Never", "workingDir": "/srv",
      "resources": {"limits": {"memory": "64Mi", "cpu": "1500m"}, "requests": {"cpu": "0.1"}},
      "securityContext": {"runAsUser": 1000, "readOnlyRootFilesystem": true,
                          "capabilities": {"add": ["NET_ADMIN"], "drop": ["ALL"]}},
      "volumeMounts": [{"name": "v", "mountPath": "/v", "readOnly": true}]
    }],
    "volumes": [{"name": "v", "emptyDir": {"medium": "Memory", "sizeLimit": "1Gi"}}]
  })")));
  ASSERT_TRUE(plan.ok()) << plan.error().ToString();
  EXPECT_EQ(plan->hostname, "web-7d9f");
  EXPECT_EQ(plan->restart_policy, RestartPolicy::kAlways);
  EXPECT_EQ(plan->grace_seconds, 30);
  const ContainerPlan& c = plan->containers[0];
  EXPECT_TRUE(c.has_command);
  EXPECT_TRUE(c.has_args);
  EXPECT_TRUE(c.args.empty());
  EXPECT_EQ(c.pull_policy, PullPolicy::kNever);
  EXPECT_EQ(c.env, (std::vector<std::pair<std::string, std::string>>{{"A", "1"}, {"B", ""}}));
  EXPECT_EQ(c.resources.memory_limit, 64 << 20);
  EXPECT_EQ(c.resources.memory_request, 64 << 20);  // a limit without a request requests it
  EXPECT_EQ(c.resources.cpu_limit, 1500);
  EXPECT_EQ(c.resources.cpu_request, 100);
  EXPECT_EQ(c.security.run_as_user, 1000);
  EXPECT_TRUE(c.security.read_only_root);
  EXPECT_EQ(c.security.drop_caps, std::vector<std::string>{"ALL"});
  ASSERT_EQ(c.volume_mounts.size(), 1u);
  EXPECT_TRUE(c.volume_mounts[0].read_only);
  ASSERT_EQ(plan->volumes.size(), 1u);
  EXPECT_TRUE(plan->volumes[0].memory);
  EXPECT_EQ(plan->volumes[0].size_limit, int64_t{1} << 30);
}

TEST(PodPlanTest, Rejections) {
  struct Case {
    const char* name;
    const char* spec;
    const char* want;  // in the message
  } cases[] = {
      {"no containers", R"({"containers": []})", "at least one container"},
      {"no image", R"({"containers": [{"name": "a"}]})", "image: is required"},
      {"bad name", R"({"containers": [{"name": "../x", "image": "b"}]})", "DNS label"},
      {"duplicate", R"({"containers": [{"name": "a", "image": "b"}, {"name": "a", "image": "b"}]})",
       "duplicate"},
      {"policy", R"({"restartPolicy": "Sometimes", "containers": [{"name": "a", "image": "b"}]})",
       "restartPolicy"},
      {"unknown volume",
       R"({"containers": [{"name": "a", "image": "b", "volumeMounts": [{"name": "x",
           "mountPath": "/x"}]}]})",
       "no volume named x"},
      {"relative mount",
       R"({"volumes": [{"name": "x", "emptyDir": {}}], "containers": [{"name": "a", "image": "b",
           "volumeMounts": [{"name": "x", "mountPath": "x"}]}]})",
       "absolute"},
      {"hostPath", R"({"volumes": [{"name": "x", "hostPath": {"path": "/"}}],
                      "containers": [{"name": "a", "image": "b"}]})",
       "only emptyDir"},
      {"quantity", R"({"containers": [{"name": "a", "image": "b",
                      "resources": {"limits": {"memory": "lots"}}}]})",
       "resources.limits.memory"},
      {"vm isolation", R"({"isolation": "vm", "containers": [{"name": "a", "image": "b"}]})",
       "sandbox"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    auto plan = ParsePodPlan(Pod(Json::parse(c.spec)));
    ASSERT_FALSE(plan.ok());
    EXPECT_NE(plan.error().message().find(c.want), std::string::npos) << plan.error().message();
  }
}

TEST(ProbeParseTest, HandlersDefaultsAndNamedPorts) {
  Json ports = Json::parse(R"([{"name": "http", "containerPort": 8080}])");
  auto exec = ParseProbe(Json::parse(R"({"exec": {"command": ["true"]}})"), ports, "p");
  ASSERT_TRUE(exec.ok());
  EXPECT_EQ(exec->kind, ProbeSpec::Kind::kExec);
  EXPECT_EQ(exec->period_seconds, 10);
  EXPECT_EQ(exec->timeout_seconds, 1);
  EXPECT_EQ(exec->success_threshold, 1);
  EXPECT_EQ(exec->failure_threshold, 3);
  EXPECT_EQ(exec->initial_delay_seconds, 0);

  auto http = ParseProbe(Json::parse(R"({"httpGet": {"port": "http", "path": "healthz"},
                                         "periodSeconds": 2, "failureThreshold": 5})"),
                         ports, "p");
  ASSERT_TRUE(http.ok()) << http.error().ToString();
  EXPECT_EQ(http->kind, ProbeSpec::Kind::kHttp);
  EXPECT_EQ(http->port, 8080);
  EXPECT_EQ(http->path, "/healthz");
  EXPECT_EQ(http->period_seconds, 2);
  EXPECT_EQ(http->failure_threshold, 5);

  auto tcp = ParseProbe(Json::parse(R"({"tcpSocket": {"port": 53}})"), ports, "p");
  ASSERT_TRUE(tcp.ok());
  EXPECT_EQ(tcp->kind, ProbeSpec::Kind::kTcp);
  EXPECT_EQ(tcp->port, 53);

  for (const char* bad : {R"({})", R"({"exec": {"command": ["a"]}, "tcpSocket": {"port": 1}})",
                          R"({"tcpSocket": {"port": "nope"}})", R"({"tcpSocket": {"port": 70000}})",
                          R"({"exec": {"command": ["a"]}, "periodSeconds": 0})",
                          R"({"httpGet": {"port": 80, "scheme": "FTP"}})"}) {
    SCOPED_TRACE(bad);
    EXPECT_FALSE(ParseProbe(Json::parse(bad), ports, "p").ok());
  }
}

TEST(ProbeTrackerTest, Thresholds) {
  ProbeTracker readiness(2, 3, false);
  EXPECT_FALSE(readiness.Record(true));
  EXPECT_FALSE(readiness.ok());
  EXPECT_TRUE(readiness.Record(true));  // two in a row
  EXPECT_TRUE(readiness.ok());
  EXPECT_FALSE(readiness.Record(false));
  EXPECT_FALSE(readiness.Record(false));
  EXPECT_TRUE(readiness.ok());
  EXPECT_TRUE(readiness.Record(false));  // the third failure in a row
  EXPECT_FALSE(readiness.ok());
  EXPECT_TRUE(readiness.failed());

  ProbeTracker liveness(1, 1, true);
  EXPECT_FALSE(liveness.failed());
  EXPECT_TRUE(liveness.Record(false));
  EXPECT_TRUE(liveness.failed());
}

TEST(ProbeHttpTest, StatusLine) {
  EXPECT_EQ(ParseHttpStatus("HTTP/1.1 200 OK\r\n"), 200);
  EXPECT_EQ(ParseHttpStatus("HTTP/1.0 503 Service Unavailable"), 503);
  EXPECT_EQ(ParseHttpStatus("SSH-2.0-OpenSSH"), -1);
  EXPECT_EQ(ParseHttpStatus("HTTP/1.1 2"), -1);
}

TEST(BackoffTest, DoublesToTheCapAndResets) {
  BackoffPolicy p;  // 10s, 5m, reset after 10m
  using std::chrono::milliseconds;
  using std::chrono::seconds;
  EXPECT_EQ(BackoffDelay(p, 0), milliseconds(0));
  EXPECT_EQ(BackoffDelay(p, 1), seconds(10));
  EXPECT_EQ(BackoffDelay(p, 2), seconds(20));
  EXPECT_EQ(BackoffDelay(p, 3), seconds(40));
  EXPECT_EQ(BackoffDelay(p, 5), seconds(160));
  EXPECT_EQ(BackoffDelay(p, 6), seconds(300));
  EXPECT_EQ(BackoffDelay(p, 60), seconds(300));
  EXPECT_EQ(NextConsecutive(p, 0, seconds(1)), 1);
  EXPECT_EQ(NextConsecutive(p, 4, seconds(30)), 5);
  EXPECT_EQ(NextConsecutive(p, 4, std::chrono::minutes(10)), 1);
}

}  // namespace
}  // namespace lintel::drivers::oci
