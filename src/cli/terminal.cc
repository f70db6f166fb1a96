#include "cli/terminal.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string_view>

namespace lintel::cli {

static_assert(sizeof(termios) <= 128);

RawTerminal::RawTerminal(int fd) : fd_(fd) {
  termios t{};
  if (!::isatty(fd) || ::tcgetattr(fd, &t) != 0) return;
  std::memcpy(saved_, &t, sizeof(t));
  ::cfmakeraw(&t);
  if (::tcsetattr(fd, TCSANOW, &t) == 0) active_ = true;
}

RawTerminal::~RawTerminal() {
  if (!active_) return;
  termios t{};
  std::memcpy(&t, saved_, sizeof(t));
  ::tcsetattr(fd_, TCSANOW, &t);
}

std::optional<std::pair<uint16_t, uint16_t>> TerminalSize(int fd) {
  winsize ws{};
  if (::ioctl(fd, TIOCGWINSZ, &ws) != 0 || ws.ws_col == 0) return std::nullopt;
  return std::make_pair(static_cast<uint16_t>(ws.ws_col), static_cast<uint16_t>(ws.ws_row));
}

namespace {
std::atomic<int> winch_fd{-1};
void OnWinch(int) {
  int fd = winch_fd.load();
  if (fd >= 0) {
    char c = 1;
    [[maybe_unused]] ssize_t n = ::write(fd, &c, 1);
  }
}
}  // namespace

ResizeWatcher::ResizeWatcher(std::function<void()> on_resize) {
  if (::pipe2(pipe_, O_CLOEXEC) != 0) return;
  winch_fd = pipe_[1];
  struct sigaction sa {};
  sa.sa_handler = OnWinch;
  sa.sa_flags = SA_RESTART;
  ::sigemptyset(&sa.sa_mask);
  ::sigaction(SIGWINCH, &sa, nullptr);
  thread_ = std::thread([fd = pipe_[0], on_resize = std::move(on_resize)] {
    char c;
    for (;;) {
      ssize_t n = ::read(fd, &c, 1);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0 || c == 0) return;
      on_resize();
    }
  });
}

ResizeWatcher::~ResizeWatcher() {
  if (pipe_[1] < 0) return;
  ::signal(SIGWINCH, SIG_DFL);
  winch_fd = -1;
  char c = 0;
  [[maybe_unused]] ssize_t n = ::write(pipe_[1], &c, 1);
  thread_.join();
  ::close(pipe_[0]);
  ::close(pipe_[1]);
}

void ReadStdinDetached(std::function<bool(std::string_view data)> on_data) {
  std::thread([on_data = std::move(on_data)] {
    char buf[8192];
    for (;;) {
      ssize_t n = ::read(STDIN_FILENO, buf, sizeof(buf));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        on_data({});
        return;
      }
      if (!on_data(std::string_view(buf, static_cast<size_t>(n)))) return;
    }
  }).detach();
}

}  // namespace lintel::cli
