// The local terminal for interactive verbs (exec -t, console): raw mode while
// a session runs, its size, and a watcher for SIGWINCH. Main thread only,
// except where noted.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <thread>
#include <utility>

namespace lintel::cli {

// Puts fd in raw mode (no echo, no line editing, no signals from keys) until
// destroyed; a no-op if fd is not a terminal.
class RawTerminal {
 public:
  explicit RawTerminal(int fd);
  ~RawTerminal();
  RawTerminal(const RawTerminal&) = delete;
  RawTerminal& operator=(const RawTerminal&) = delete;
  bool active() const { return active_; }

 private:
  int fd_;
  bool active_ = false;
  unsigned char saved_[128];  // a struct termios, kept opaque here
};

// Columns and rows of the terminal on fd, if it is one.
std::optional<std::pair<uint16_t, uint16_t>> TerminalSize(int fd);

// Calls `on_resize` (on a thread of its own) after each SIGWINCH, until
// destroyed.
class ResizeWatcher {
 public:
  explicit ResizeWatcher(std::function<void()> on_resize);
  ~ResizeWatcher();
  ResizeWatcher(const ResizeWatcher&) = delete;
  ResizeWatcher& operator=(const ResizeWatcher&) = delete;

 private:
  std::thread thread_;
  int pipe_[2] = {-1, -1};
};

// Reads stdin on a detached thread (a blocked read of a terminal cannot be
// interrupted), handing each chunk to `on_data`; an empty chunk means EOF.
// `on_data` returns false to stop reading.
void ReadStdinDetached(std::function<bool(std::string_view data)> on_data);

}  // namespace lintel::cli
