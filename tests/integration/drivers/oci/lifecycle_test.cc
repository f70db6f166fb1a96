// The OCI driver with real runc and conmon: exits, restarts, start errors,
// OOM, stop, logs.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>

#include "integration/drivers/oci/oci_fixture.h"

namespace lintel::testing {
namespace {

using drivers::RunState;
using std::chrono::milliseconds;

bool Contains(const std::vector<std::string>& lines, const std::string& want) {
  return std::find(lines.begin(), lines.end(), want) != lines.end();
}

TEST_F(OciDriverTest, EchoAndExitZeroCompletes) {
  auto w = Workload("echo", PodSpec({Container("main", "echo hello; echo oops >&2; exit 0")}));
  StartPod(w);
  auto st = WaitFor(w.uid, Exited);
  ASSERT_EQ(st.state, RunState::kExited) << st.message;
  EXPECT_EQ(st.exit_code, 0);
  EXPECT_EQ(st.reason, "Completed");
  ASSERT_EQ(st.containers.size(), 1u);
  EXPECT_EQ(st.containers[0].state, RunState::kExited);
  EXPECT_EQ(st.containers[0].reason, "Completed");
  EXPECT_EQ(st.containers[0].restart_count, 0);
  EXPECT_NE(st.containers[0].finished_at, Clock::WallTime{});
  auto lines = LogLines(w.uid);
  EXPECT_EQ(lines, (std::vector<std::string>{"hello", "oops"}));
}

TEST_F(OciDriverTest, OnFailureRestartsWithBackoff) {
  auto w = Workload("crash", PodSpec({Container("main", "echo run; exit 3")}, "OnFailure"));
  StartPod(w);
  bool saw_backoff = false;
  auto st = WaitFor(w.uid, [&](const drivers::WorkloadStatus& s) {
    if (!s.containers.empty() && s.containers[0].reason == "CrashLoopBackOff") saw_backoff = true;
    return !s.containers.empty() && s.containers[0].restart_count >= 2;
  });
  ASSERT_GE(st.containers[0].restart_count, 2);
  EXPECT_TRUE(saw_backoff);
  EXPECT_EQ(st.state, RunState::kRunning);  // a Pod that restarts is still Running
  ASSERT_TRUE(st.containers[0].last_termination.has_value());
  EXPECT_EQ(st.containers[0].last_termination->exit_code, 3);
  EXPECT_EQ(st.containers[0].last_termination->reason, "Error");
  EXPECT_EQ(LogLines(w.uid, "main", /*previous=*/true), (std::vector<std::string>{"run"}));
}

TEST_F(OciDriverTest, MissingExecutableIsStartError) {
  Json c = {{"name", "main"}, {"image", "busybox"}, {"command", {"/no/such/binary"}}};
  auto w = Workload("nocmd", PodSpec({c}));
  StartPod(w);
  auto st = WaitFor(w.uid, Exited);
  ASSERT_EQ(st.state, RunState::kExited);
  ASSERT_EQ(st.containers.size(), 1u);
  EXPECT_EQ(st.containers[0].reason, "StartError");
  std::string lower = st.containers[0].message;
  std::transform(lower.begin(), lower.end(), lower.begin(), ::tolower);
  EXPECT_NE(lower.find("no such file or directory"), std::string::npos) << lower;
  EXPECT_EQ(st.containers[0].exit_code, 128);

  Json c2 = {{"name", "main"}, {"image", "busybox"}, {"command", {"no-such-command"}}};
  auto w2 = Workload("nocmd2", PodSpec({c2}));
  StartPod(w2);
  st = WaitFor(w2.uid, Exited);
  ASSERT_EQ(st.containers.size(), 1u);
  EXPECT_EQ(st.containers[0].reason, "StartError");
  // runc: exec: "no-such-command": executable file not found in $PATH;
  // crun: executable file `no-such-command` not found in $PATH
  const std::string& msg = st.containers[0].message;
  EXPECT_NE(msg.find("executable file"), std::string::npos) << msg;
  EXPECT_NE(msg.find("not found in $PATH"), std::string::npos) << msg;
}

TEST_F(OciDriverTest, UnknownImageIsErrImagePull) {
  Json c = {{"name", "main"}, {"image", "no-such-image"}, {"command", {"true"}}};
  auto w = Workload("noimage", PodSpec({c}));
  StartPod(w);
  auto st = WaitFor(w.uid, [](const drivers::WorkloadStatus& s) {
    return !s.containers.empty() && s.containers[0].reason == "ImagePullBackOff";
  });
  ASSERT_EQ(st.containers.size(), 1u);
  EXPECT_EQ(st.containers[0].state, RunState::kStarting);
  EXPECT_EQ(st.containers[0].reason, "ImagePullBackOff");
  EXPECT_NE(st.containers[0].message.find("manifest unknown"), std::string::npos);
  EXPECT_EQ(st.state, RunState::kStarting);
}

TEST_F(OciDriverTest, MemoryHogIsOomKilled) {
  Json c = Container("hog", "s=aaaaaaaaaaaaaaaa; while true; do s=$s$s; done");
  c["resources"] = {{"limits", {{"memory", "32Mi"}}}};
  auto w = Workload("oom", PodSpec({c}));
  StartPod(w);
  auto st = WaitFor(w.uid, Exited, std::chrono::seconds(30));
  ASSERT_EQ(st.state, RunState::kExited) << st.message;
  ASSERT_EQ(st.containers.size(), 1u);
  EXPECT_EQ(st.containers[0].reason, "OOMKilled");
  EXPECT_EQ(st.containers[0].exit_code, 137);
  EXPECT_EQ(st.reason, "OOMKilled");
}

// Starts a Pod running `script` (which logs "up" once its trap is set),
// stops it with `grace` and returns how long Stop took.
class OciStopTest : public OciDriverTest {
 protected:
  std::chrono::steady_clock::duration StartAndStop(const std::string& name,
                                                   const std::string& script, milliseconds grace) {
    auto w =
        Workload(name, PodSpec({Container("main", script + "; echo up; "
                                                           "while true; do sleep 0.1; done")}));
    uid_ = w.uid;
    StartPod(w);
    EXPECT_TRUE(Running(WaitFor(w.uid, [](const auto& s) { return Running(s); })));
    Watch(w.uid, "main");
    for (int i = 0; i < 200 && !Contains(LogLines(w.uid), "up"); ++i) {
      std::this_thread::sleep_for(milliseconds(20));
    }
    auto t0 = std::chrono::steady_clock::now();
    EXPECT_TRUE(driver_->Stop(w.uid, grace).ok());
    return std::chrono::steady_clock::now() - t0;
  }
  std::string uid_;
};

TEST_F(OciStopTest, GracefulStopRunsTheTrap) {
  auto took = StartAndStop("trap", "trap 'echo got TERM; exit 0' TERM", std::chrono::seconds(10));
  EXPECT_LT(took, std::chrono::seconds(5));
  auto st = StatusOf(uid_);
  ASSERT_EQ(st.state, RunState::kExited);
  EXPECT_EQ(st.containers[0].exit_code, 0);
  EXPECT_TRUE(Contains(LogLines(uid_), "got TERM"));
}

TEST_F(OciStopTest, StopKillsWhatIgnoresTerm) {
  auto took = StartAndStop("stubborn", "trap '' TERM", milliseconds(1000));
  EXPECT_GE(took, milliseconds(900));
  EXPECT_LT(took, std::chrono::seconds(8));
  auto st = StatusOf(uid_);
  ASSERT_EQ(st.state, RunState::kExited);
  EXPECT_EQ(st.containers[0].exit_code, 137);
  EXPECT_EQ(st.containers[0].signal, 9);
}

TEST_F(OciDriverTest, LogsFollowUntilExit) {
  auto w = Workload(
      "follow", PodSpec({Container("main", "for i in 1 2 3; do echo line$i; sleep 0.2; done")}));
  StartPod(w);
  ASSERT_TRUE(Running(WaitFor(w.uid, [](const auto& s) { return Running(s) || Exited(s); })) ||
              Exited(StatusOf(w.uid)));
  std::vector<std::string> lines;
  drivers::LogOptions o;
  o.follow = true;
  Status s = driver_->Logs(w.uid, o, [&](const drivers::LogLine& l) {
    lines.push_back(l.text);
    return true;
  });
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(lines, (std::vector<std::string>{"line1", "line2", "line3"}));
}

TEST_F(OciDriverTest, LogsRotateAtTheSizeLimit) {
  driver_.reset();
  ASSERT_TRUE(MakeDriver([](auto& o) { o.log_max_bytes = 4096; }).ok());
  // 200 lines of ~60 bytes with the prefix: several rotations' worth.
  auto w = Workload("rotate", PodSpec({Container("main",
                                                 "i=0; while [ $i -lt 200 ]; do echo line$i; "
                                                 "i=$((i+1)); [ $((i % 20)) = 0 ] && sleep 0.15; "
                                                 "done")}));
  StartPod(w);
  auto st = WaitFor(w.uid, Exited, std::chrono::seconds(30));
  ASSERT_EQ(st.state, RunState::kExited);
  auto lines = LogLines(w.uid);
  ASSERT_FALSE(lines.empty());
  EXPECT_EQ(lines.back(), "line199");
  EXPECT_LT(lines.size(), 200u);  // older lines were rotated away
  std::string log = driver_->PodDir(w.uid) + "/logs/main/0.log";
  EXPECT_TRUE(std::filesystem::exists(log + ".1"));
}

}  // namespace
}  // namespace lintel::testing
