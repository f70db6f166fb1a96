// QmpClient against a scripted QMP server on a unix socket: the greeting and
// capabilities, replies matched by id, error replies, events queued while a
// command waits and read by Poll, a server that goes away, a timeout.
#include "drivers/qemu/qmp.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <functional>
#include <string>
#include <thread>

#include "support/temp_dir.h"

namespace lintel::drivers::qemu {
namespace {

using namespace std::chrono_literals;

// Accepts one client and runs `script` with a line reader and writer.
class FakeQmp {
 public:
  using Script = std::function<void(const std::function<Json()>& read,
                                    const std::function<void(const std::string&)>& write)>;
  FakeQmp(const std::string& path, Script script) : path_(path) {
    fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_un a {};
    a.sun_family = AF_UNIX;
    std::snprintf(a.sun_path, sizeof(a.sun_path), "%s", path.c_str());
    EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof(a)), 0);
    EXPECT_EQ(::listen(fd_, 4), 0);
    thread_ = std::thread([this, script] {
      int c = ::accept(fd_, nullptr, nullptr);
      if (c < 0) return;
      std::string buf;
      auto read = [&]() -> Json {
        while (buf.find('\n') == std::string::npos) {
          char tmp[1024];
          ssize_t n = ::read(c, tmp, sizeof(tmp));
          if (n <= 0) return Json();
          buf.append(tmp, n);
        }
        size_t nl = buf.find('\n');
        Json j = Json::parse(buf.substr(0, nl));
        buf.erase(0, nl + 1);
        return j;
      };
      auto write = [&](const std::string& s) {
        std::string line = s + "\r\n";
        EXPECT_EQ(::write(c, line.data(), line.size()), static_cast<ssize_t>(line.size()));
      };
      write(R"({"QMP": {"version": {"qemu": {"major": 7}}, "capabilities": ["oob"]}})");
      Json caps = read();
      EXPECT_EQ(caps.value("execute", ""), "qmp_capabilities");
      write(Json({{"return", Json::object()}, {"id", caps["id"]}}).dump());
      script(read, write);
      ::close(c);
    });
  }
  ~FakeQmp() {
    ::shutdown(fd_, SHUT_RDWR);
    thread_.join();
    ::close(fd_);
  }

 private:
  std::string path_;
  int fd_ = -1;
  std::thread thread_;
};

TEST(QmpClient, CommandsRepliesErrorsAndEvents) {
  lintel::testing::TempDir dir;
  const std::string path = dir.path() + "/qmp.sock";
  FakeQmp server(path, [](auto read, auto write) {
    Json q = read();
    EXPECT_EQ(q.value("execute", ""), "query-status");
    // An event arrives before the reply; the client keeps it for Poll.
    write(R"({"event": "STOP", "data": {}, "timestamp": {"seconds": 1}})");
    write(Json({{"return", {{"status", "paused"}, {"running", false}}}, {"id", q["id"]}}).dump());
    Json bad = read();
    EXPECT_EQ(bad.value("execute", ""), "no-such-command");
    write(Json({{"error",
                 {{"class", "CommandNotFound"},
                  {"desc",
                   "The command no-such-command "
                   "has not been found"}}},
                {"id", bad["id"]}})
              .dump());
    Json pd = read();
    EXPECT_EQ(pd.value("execute", ""), "system_powerdown");
    write(Json({{"return", Json::object()}, {"id", pd["id"]}}).dump());
    write(R"({"event": "POWERDOWN", "data": {}})");
    write(R"({"event": "SHUTDOWN", "data": {"guest": true, "reason": "guest-shutdown"}})");
  });
  QmpClient qmp;
  ASSERT_TRUE(qmp.Connect(path, 2s).ok());
  auto st = qmp.Execute("query-status");
  ASSERT_TRUE(st.ok()) << st.error().ToString();
  EXPECT_EQ(st->value("status", ""), "paused");
  auto bad = qmp.Execute("no-such-command");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().message(),
            "CommandNotFound: The command no-such-command has not been found");
  ASSERT_TRUE(qmp.Execute("system_powerdown").ok());
  std::deque<QmpEvent> events;
  for (int i = 0; i < 100 && events.size() < 3; ++i) {
    (void)qmp.Poll(&events);
    std::this_thread::sleep_for(10ms);
  }
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[0].name, "STOP");
  EXPECT_EQ(events[1].name, "POWERDOWN");
  EXPECT_EQ(events[2].name, "SHUTDOWN");
  EXPECT_EQ(events[2].data.value("reason", ""), "guest-shutdown");
  // The server hangs up: Poll says so, commands fail as Unavailable.
  Status s;
  for (int i = 0; i < 100 && s.ok(); ++i) {
    s = qmp.Poll(&events);
    std::this_thread::sleep_for(10ms);
  }
  EXPECT_EQ(s.code(), Code::kUnavailable);
  EXPECT_FALSE(qmp.connected());
  EXPECT_EQ(qmp.Execute("query-status").error().code(), Code::kUnavailable);
}

TEST(QmpClient, NoReplyTimesOutAndNoServerIsUnavailable) {
  lintel::testing::TempDir dir;
  QmpClient qmp;
  auto t0 = std::chrono::steady_clock::now();
  Status s = qmp.Connect(dir.path() + "/nobody.sock", 200ms);
  EXPECT_EQ(s.code(), Code::kUnavailable);
  EXPECT_GE(std::chrono::steady_clock::now() - t0, 200ms);

  const std::string path = dir.path() + "/slow.sock";
  FakeQmp server(path, [](auto read, auto write) {
    read();  // never answers
    read();
  });
  ASSERT_TRUE(qmp.Connect(path, 2s).ok());
  auto r = qmp.Execute("query-status", Json(), 200ms);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), Code::kTimeout);
  EXPECT_FALSE(qmp.connected());
}

}  // namespace
}  // namespace lintel::drivers::qemu
