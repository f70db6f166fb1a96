#include "images/qemu_img.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "common/json.h"
#include "images/fs_util.h"

extern char** environ;  // NOLINT(readability-identifier-naming): POSIX's name

namespace lintel::images {

namespace {

constexpr size_t kMaxOut = 16u << 20;
constexpr size_t kMaxErr = 64u << 10;

bool IsExecutable(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(path.c_str(), X_OK) == 0;
}

// Closes both ends of the pipes it holds when it goes.
struct Pipes {
  std::array<int, 2> out{-1, -1};
  std::array<int, 2> err{-1, -1};
  ~Pipes() {
    for (int fd : {out[0], out[1], err[0], err[1]}) {
      if (fd >= 0) ::close(fd);
    }
  }
};

void CloseFd(int& fd) {
  if (fd >= 0) ::close(fd);
  fd = -1;
}

// Reads both pipes until both reach EOF.
void Drain(int out_fd, int err_fd, ToolRun& run) {
  std::array<pollfd, 2> fds{pollfd{out_fd, POLLIN, 0}, pollfd{err_fd, POLLIN, 0}};
  std::array<std::string*, 2> into{&run.out, &run.err};
  std::array<size_t, 2> limit{kMaxOut, kMaxErr};
  std::string buf(1 << 16, '\0');
  int open = 2;
  while (open > 0) {
    if (::poll(fds.data(), fds.size(), -1) < 0) {
      if (errno == EINTR) continue;
      return;
    }
    for (size_t i = 0; i < fds.size(); ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      ssize_t n = ::read(fds[i].fd, buf.data(), buf.size());
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        fds[i].fd = -1;
        --open;
        continue;
      }
      size_t room = limit[i] - std::min(limit[i], into[i]->size());
      into[i]->append(buf.data(), std::min(room, static_cast<size_t>(n)));
    }
  }
}

}  // namespace

std::string FindTool(const std::string& name) {
  if (name.find('/') != std::string::npos) return IsExecutable(name) ? name : "";
  const char* env = std::getenv("PATH");  // NOLINT(concurrency-mt-unsafe): nobody sets it
  std::string dirs = std::string(env != nullptr ? env : "/usr/bin:/bin") + ":/usr/sbin:/sbin";
  size_t start = 0;
  while (start <= dirs.size()) {
    size_t end = dirs.find(':', start);
    if (end == std::string::npos) end = dirs.size();
    std::string dir = dirs.substr(start, end - start);
    if (!dir.empty() && IsExecutable(dir + "/" + name)) return dir + "/" + name;
    start = end + 1;
  }
  return "";
}

Result<ToolRun> RunTool(const std::vector<std::string>& argv) {
  if (argv.empty()) return Internal("RunTool: no argv");
  std::string path = FindTool(argv[0]);
  if (path.empty()) return NotSupported(argv[0] + " is not installed");
  Pipes p;
  if (::pipe2(p.out.data(), O_CLOEXEC) != 0 || ::pipe2(p.err.data(), O_CLOEXEC) != 0) {
    return ErrnoStatus("pipe for", argv[0], errno);
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, p.out[1], 1);
  posix_spawn_file_actions_adddup2(&actions, p.err[1], 2);
  // The agent blocks and ignores signals; the tool gets the defaults.
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none;
  sigset_t all;
  sigemptyset(&none);
  sigfillset(&all);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &all);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  std::vector<char*> args;
  args.reserve(argv.size() + 1);
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = -1;
  int rc = ::posix_spawn(&pid, path.c_str(), &actions, &attr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) return Internal("start " + path + ": " + std::strerror(rc));
  CloseFd(p.out[1]);
  CloseFd(p.err[1]);
  ToolRun run;
  Drain(p.out[0], p.err[0], run);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return Internal("wait for " + path + ": " + std::strerror(errno));
  }
  run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return run;
}

std::string ToolError(const ToolRun& run) {
  std::string s = run.err.empty() ? run.out : run.err;
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  size_t nl = s.rfind('\n');
  if (nl != std::string::npos) s = s.substr(nl + 1);
  for (std::string_view prefix : {"qemu-img: ", "genisoimage: "}) {
    if (s.starts_with(prefix)) s = s.substr(prefix.size());
  }
  if (s.empty()) s = "exit status " + std::to_string(run.exit_code);
  return s;
}

Result<DiskInfo> QemuImgInfo(const std::string& path) {
  LINTEL_ASSIGN_OR_RETURN(ToolRun run, RunTool({"qemu-img", "info", "--output=json", "--", path}));
  if (run.exit_code != 0) {
    return Invalid(path + ": not a disk image qemu-img can read: " + ToolError(run));
  }
  auto j = ParseJson(run.out);
  if (!j.ok() || !j->is_object()) return Internal("qemu-img info " + path + ": malformed output");
  DiskInfo info;
  try {
    info.format = j->value("format", "");
    info.virtual_size = j->value("virtual-size", int64_t{0});
    info.actual_size = j->value("actual-size", int64_t{0});
    info.backing_file = j->value("backing-filename", j->value("full-backing-filename", ""));
    if (j->contains("format-specific")) {
      const Json& fs = (*j)["format-specific"];
      if (fs.is_object() && fs.contains("data") && fs["data"].is_object()) {
        info.data_file = fs["data"].value("data-file", "");
      }
    }
  } catch (const std::exception& e) {
    return Internal("qemu-img info " + path + ": " + e.what());
  }
  return info;
}

Result<std::string> Qcow2BackingFile(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus("open", path, errno);
  std::array<unsigned char, 20> h{};
  ssize_t n = ::pread(fd, h.data(), h.size(), 0);
  auto be = [&h](size_t at, size_t len) {
    uint64_t v = 0;
    for (size_t i = 0; i < len; ++i) v = (v << 8) | h[at + i];
    return v;
  };
  // Magic "QFI\xfb", version, backing_file_offset (u64 at 8), size (u32 at 16).
  if (n != static_cast<ssize_t>(h.size()) || be(0, 4) != 0x514649fbu) {
    ::close(fd);
    return std::string();
  }
  uint64_t offset = be(8, 8);
  uint64_t size = be(16, 4);
  std::string name;
  if (offset != 0 && size > 0 && size <= 1023) {
    name.resize(size);
    n = ::pread(fd, name.data(), size, static_cast<off_t>(offset));
    if (n != static_cast<ssize_t>(size)) name.clear();
  }
  ::close(fd);
  return name;
}

}  // namespace lintel::images
