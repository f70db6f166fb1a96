// OciDriver::Exec with real runc (or crun, LINTEL_TEST_OCI_RUNTIME): output,
// exit codes, stdin, a terminal, the container's environment, and errors.
#include <poll.h>
#include <unistd.h>

#include "integration/drivers/oci/oci_fixture.h"

namespace lintel::testing {
namespace {

struct Output {
  std::string out, err;
  int code = -1;
};

std::string ReadAll(int fd) {
  std::string s;
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    s.append(buf, static_cast<size_t>(n));
  }
  return s;
}

void WriteAll(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n <= 0) return;
    data.remove_prefix(static_cast<size_t>(n));
  }
}

class OciExecTest : public OciDriverTest {
 protected:
  std::string RunSleeper() {
    auto w = Workload("exec", PodSpec(Json::array({Container("main", "sleep 300")})));
    w.spec["containers"][0]["env"] = Json::array({{{"name", "GREETING"}, {"value", "hello"}}});
    StartPod(w);
    auto st = WaitFor(w.uid, [](const auto& s) { return Running(s); });
    EXPECT_TRUE(Running(st)) << "never ran";
    return w.uid;
  }

  Output Exec(const std::string& uid, std::vector<std::string> command, std::string input = "",
              bool stdin = false) {
    drivers::ExecOptions o;
    o.command = std::move(command);
    o.stdin = stdin;
    auto s = driver_->Exec(uid, o);
    Output res;
    EXPECT_TRUE(s.ok()) << s.error().ToString();
    if (!s.ok()) return res;
    if (s->stdin_fd >= 0) {
      WriteAll(s->stdin_fd, input);
      ::close(s->stdin_fd);
    }
    std::thread err([&] { res.err = ReadAll(s->stderr_fd); });
    res.out = ReadAll(s->stdout_fd);
    err.join();
    auto code = s->wait();
    EXPECT_TRUE(code.ok()) << code.error().ToString();
    res.code = code.ok() ? *code : -1;
    ::close(s->stdout_fd);
    ::close(s->stderr_fd);
    return res;
  }
};

TEST_F(OciExecTest, OutputExitCodeAndStdin) {
  std::string uid = RunSleeper();
  Output r = Exec(uid, {"echo", "hi"});
  EXPECT_EQ(r.out, "hi\n");
  EXPECT_EQ(r.code, 0);
  r = Exec(uid, {"/bin/sh", "-c", "echo oops >&2; exit 7"});
  EXPECT_EQ(r.err, "oops\n");
  EXPECT_EQ(r.code, 7);
  r = Exec(uid, {"cat"}, "fed through stdin\n", true);
  EXPECT_EQ(r.out, "fed through stdin\n");
  EXPECT_EQ(r.code, 0);
  // The container's own process: its environment.
  r = Exec(uid, {"/bin/sh", "-c", "echo $GREETING"});
  EXPECT_EQ(r.out, "hello\n");
}

TEST_F(OciExecTest, ATerminal) {
  std::string uid = RunSleeper();
  drivers::ExecOptions o;
  o.command = {"/bin/sh", "-c", "stty size; test -t 0 && echo tty; read x; echo got $x"};
  o.stdin = true;
  o.tty = true;
  auto s = driver_->Exec(uid, o);
  ASSERT_TRUE(s.ok()) << s.error().ToString();
  ASSERT_GE(s->terminal, 0);
  EXPECT_EQ(s->stdout_fd, -1);
  s->resize(100, 30);
  WriteAll(s->terminal, "abc\r");
  std::string out;
  char buf[4096];
  for (;;) {
    pollfd p{s->terminal, POLLIN, 0};
    if (::poll(&p, 1, 10'000) <= 0) break;
    ssize_t n = ::read(s->terminal, buf, sizeof(buf));
    if (n <= 0) break;  // EIO once the other side is gone
    out.append(buf, static_cast<size_t>(n));
    if (out.find("got abc") != std::string::npos) break;
  }
  auto code = s->wait();
  ::close(s->terminal);
  ASSERT_TRUE(code.ok()) << code.error().ToString();
  EXPECT_EQ(*code, 0) << out;
  EXPECT_NE(out.find("tty"), std::string::npos) << out;
  EXPECT_NE(out.find("got abc"), std::string::npos) << out;
}

TEST_F(OciExecTest, KillEndsALongCommand) {
  std::string uid = RunSleeper();
  drivers::ExecOptions o;
  o.command = {"sleep", "600"};
  auto s = driver_->Exec(uid, o);
  ASSERT_TRUE(s.ok()) << s.error().ToString();
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  s->kill();
  auto code = s->wait();
  ASSERT_TRUE(code.ok());
  EXPECT_NE(*code, 0);
  ::close(s->stdout_fd);
  ::close(s->stderr_fd);
}

TEST_F(OciExecTest, Errors) {
  std::string uid = RunSleeper();
  drivers::ExecOptions o;
  o.command = {"true"};
  EXPECT_EQ(driver_->Exec("nope", o).error().code(), Code::kNotFound);
  o.container = "other";
  EXPECT_EQ(driver_->Exec(uid, o).error().code(), Code::kNotFound);
  EXPECT_TRUE(driver_->capabilities().exec);
}

}  // namespace
}  // namespace lintel::testing
