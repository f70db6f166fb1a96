#include "agent/exec_relay.h"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <thread>
#include <vector>

#include "server/http/remote_command.h"

namespace lintel::agent {

namespace rc = http::remotecommand;

namespace {

bool WriteAll(int fd, std::string_view data) {
  while (!data.empty()) {
    // A socket's peer may have gone: no SIGPIPE (send), else a pipe or pty.
    ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == ENOTSOCK) n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

// Reads `fd` until EOF (or EIO: a terminal whose other side closed), or until
// `stop` while waiting; each chunk goes to `sink`, which returns false to stop.
template <typename Sink>
void Pump(int fd, const std::atomic<bool>* stop, Sink sink) {
  char buf[32 * 1024];
  for (;;) {
    if (stop) {
      pollfd p{fd, POLLIN, 0};
      int r = ::poll(&p, 1, 200);
      if (r < 0 && errno != EINTR) return;
      if (r <= 0) {
        if (stop->load()) return;
        continue;
      }
    }
    ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    if (!sink(std::string_view(buf, static_cast<size_t>(n)))) return;
  }
}

void CloseFd(int& fd) {
  if (fd >= 0) ::close(fd);
  fd = -1;
}

}  // namespace

void RelayExec(drivers::ExecSession&& s, const std::shared_ptr<http::WebSocket>& ws) {
  std::vector<std::thread> outputs;
  auto start = [&](int fd, uint8_t channel) {
    if (fd < 0) return;
    outputs.emplace_back([fd, channel, &ws] {
      Pump(fd, nullptr, [&](std::string_view data) {
        ws->Write(rc::Frame(channel, data));
        return true;  // keep draining even if the client is gone
      });
    });
  };
  start(s.terminal, rc::kStdout);
  start(s.stdout_fd, rc::kStdout);
  start(s.stderr_fd, rc::kStderr);
  std::atomic<bool> finished{false};
  std::mutex stdin_mu;
  int stdin_fd = s.terminal >= 0 ? s.terminal : s.stdin_fd;
  bool stdin_owned = s.terminal < 0;  // the terminal is closed at the end
  std::thread input([&] {
    while (auto m = ws->Read()) {
      auto msg = rc::Parse(*m);
      if (!msg) continue;
      if (msg->channel == rc::kStdin) {
        std::lock_guard<std::mutex> l(stdin_mu);
        if (stdin_fd >= 0) WriteAll(stdin_fd, msg->data);
      } else if (msg->channel == rc::kResize) {
        auto size = rc::ParseResize(msg->data);
        if (size.ok() && s.resize) s.resize(size->first, size->second);
      } else if (msg->channel == rc::kClose && !msg->data.empty() &&
                 static_cast<uint8_t>(msg->data[0]) == rc::kStdin) {
        std::lock_guard<std::mutex> l(stdin_mu);
        if (stdin_owned) {
          CloseFd(stdin_fd);
        } else if (stdin_fd >= 0) {
          WriteAll(stdin_fd, "\x04");  // a terminal's end of input
        }
      }
    }
    if (!finished.load() && s.kill) s.kill();
  });
  for (auto& t : outputs) t.join();
  Result<int> code = s.wait ? s.wait() : Result<int>(Internal("exec: no wait"));
  finished = true;
  ws->Write(
      rc::Frame(rc::kError, code.ok() ? rc::ExitStatus(*code) : rc::ErrorStatus(code.error())));
  ws->Close();
  input.join();
  {
    std::lock_guard<std::mutex> l(stdin_mu);
    if (stdin_owned) CloseFd(stdin_fd);
  }
  CloseFd(s.terminal);
  CloseFd(s.stdout_fd);
  CloseFd(s.stderr_fd);
}

void RelayConsole(int fd, const std::shared_ptr<http::WebSocket>& ws) {
  std::atomic<bool> stop{false};
  std::thread output([&] {
    Pump(fd, &stop, [&](std::string_view data) { return ws->Write(std::string(data)); });
    ws->Close();
  });
  while (auto m = ws->Read()) {
    if (!WriteAll(fd, *m)) break;
  }
  stop = true;
  output.join();
  ws->Close();
  ::close(fd);
}

}  // namespace lintel::agent
