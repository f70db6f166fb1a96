#include "drivers/oci/subprocess.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/fs.h"
#include "drivers/oci/sys_util.h"

extern char** environ;

namespace lintel::drivers::oci {

namespace {

constexpr size_t kMaxOutput = size_t{64} * 1024;

// Copies of the parent's descriptors above every child target, so that a
// dup2 onto a target never clobbers a source not yet duplicated.
constexpr int kHighFd = 200;

struct SpawnGuard {
  posix_spawn_file_actions_t fa;
  posix_spawnattr_t attr;
  std::vector<int> temp_fds;
  SpawnGuard() {
    posix_spawn_file_actions_init(&fa);
    posix_spawnattr_init(&attr);
  }
  ~SpawnGuard() {
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    for (int fd : temp_fds) ::close(fd);
  }
  SpawnGuard(const SpawnGuard&) = delete;
  SpawnGuard& operator=(const SpawnGuard&) = delete;
};

}  // namespace

Result<pid_t> Spawn(const SpawnOptions& o) {
  if (o.argv.empty()) return BadRequest("spawn: empty argv");
  SpawnGuard g;
  auto high = [&](int fd) -> Result<int> {
    int copy = ::fcntl(fd, F_DUPFD_CLOEXEC, kHighFd);
    if (copy < 0) return SysError("dup", std::to_string(fd), errno);
    g.temp_fds.push_back(copy);
    return copy;
  };
  int max_target = 2;
  auto map = [&](int child_fd, int parent_fd, int open_flags) -> Status {
    if (parent_fd < 0) {
      int rc = posix_spawn_file_actions_addopen(&g.fa, child_fd, "/dev/null", open_flags, 0);
      return rc == 0 ? Status() : SysError("spawn", "/dev/null", rc);
    }
    LINTEL_ASSIGN_OR_RETURN(int src, high(parent_fd));
    int rc = posix_spawn_file_actions_adddup2(&g.fa, src, child_fd);
    return rc == 0 ? Status() : SysError("spawn dup2", std::to_string(child_fd), rc);
  };
  LINTEL_RETURN_IF_ERROR(map(0, o.stdin_fd, O_RDONLY));
  LINTEL_RETURN_IF_ERROR(map(1, o.stdout_fd, O_WRONLY));
  LINTEL_RETURN_IF_ERROR(map(2, o.stderr_fd, O_WRONLY));
  for (const auto& [child_fd, parent_fd] : o.fds) {
    if (child_fd < 3 || child_fd >= kHighFd) return BadRequest("spawn: bad child fd");
    LINTEL_RETURN_IF_ERROR(map(child_fd, parent_fd, O_RDWR));
    max_target = std::max(max_target, child_fd);
  }
  posix_spawn_file_actions_addclosefrom_np(&g.fa, max_target + 1);

  sigset_t empty, defaults;
  sigemptyset(&empty);
  sigemptyset(&defaults);
  for (int sig : {SIGPIPE, SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGCHLD, SIGUSR1, SIGUSR2}) {
    sigaddset(&defaults, sig);
  }
  short flags = POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF;
  if (o.new_session) flags |= POSIX_SPAWN_SETSID;
  posix_spawnattr_setflags(&g.attr, flags);
  posix_spawnattr_setsigmask(&g.attr, &empty);
  posix_spawnattr_setsigdefault(&g.attr, &defaults);

  std::vector<char*> argv;
  for (const auto& a : o.argv) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  std::vector<char*> envp;
  char** env = environ;
  if (o.env) {
    for (const auto& e : *o.env) envp.push_back(const_cast<char*>(e.c_str()));
    envp.push_back(nullptr);
    env = envp.data();
  }
  pid_t pid = -1;
  int rc = posix_spawn(&pid, argv[0], &g.fa, &g.attr, argv.data(), env);
  if (rc != 0) return SysError("spawn", o.argv[0], rc);
  return pid;
}

int PidfdOpen(pid_t pid) { return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)); }

bool ProcessExists(pid_t pid) { return pid > 0 && (::kill(pid, 0) == 0 || errno == EPERM); }

std::string ProcessCmdline(pid_t pid) {
  auto text = ReadFile("/proc/" + std::to_string(pid) + "/cmdline");
  if (!text.ok()) return "";
  std::string out = std::move(*text);
  for (char& c : out) {
    if (c == '\0') c = ' ';
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

namespace {

ExitInfo FromWaitStatus(int status) {
  ExitInfo e;
  if (WIFEXITED(status)) {
    e.exited = true;
    e.code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    e.signal = WTERMSIG(status);
    e.code = 128 + e.signal;
  }
  return e;
}

// Waits on `pidfd` and, meanwhile, drains `out_fd` (if >= 0) into `output`.
// True when the process exited before the deadline.
bool PollUntilExit(int pidfd, int out_fd, std::string* output,
                   std::chrono::steady_clock::time_point deadline, bool forever) {
  for (;;) {
    struct pollfd p[2] = {{pidfd, POLLIN, 0}, {out_fd, POLLIN, 0}};
    int n = out_fd >= 0 ? 2 : 1;
    int wait_ms = -1;
    if (!forever) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() < 0) return false;
      wait_ms = static_cast<int>(std::min<int64_t>(left.count() + 1, 60'000));
    }
    int r = ::poll(p, n, wait_ms);
    if (r < 0 && errno != EINTR) return false;
    if (n == 2 && (p[1].revents & (POLLIN | POLLHUP))) {
      char buf[4096];
      ssize_t got = ::read(out_fd, buf, sizeof(buf));
      if (got > 0) {
        if (output->size() < kMaxOutput) {
          output->append(buf,
                         std::min<size_t>(static_cast<size_t>(got), kMaxOutput - output->size()));
        }
        continue;
      }
      if (got == 0) out_fd = -1;  // EOF: the child closed it (or exec'd a daemon that did)
    }
    if (p[0].revents & POLLIN) {
      // Exited: take what is left in the pipe without blocking.
      if (out_fd >= 0) {
        char buf[4096];
        ssize_t got;
        while ((got = ::read(out_fd, buf, sizeof(buf))) > 0 && output->size() < kMaxOutput) {
          output->append(buf,
                         std::min<size_t>(static_cast<size_t>(got), kMaxOutput - output->size()));
        }
      }
      return true;
    }
  }
}

}  // namespace

Result<ExitInfo> WaitPid(pid_t pid, std::chrono::milliseconds timeout) {
  int pidfd = PidfdOpen(pid);
  if (pidfd < 0) return SysError("pidfd_open", std::to_string(pid), errno);
  std::string ignored;
  bool forever = timeout.count() < 0;
  bool done =
      PollUntilExit(pidfd, -1, &ignored, std::chrono::steady_clock::now() + timeout, forever);
  ::close(pidfd);
  if (!done) return Timeout("process " + std::to_string(pid) + " still runs");
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return SysError("waitpid", std::to_string(pid), errno);
  }
  return FromWaitStatus(status);
}

Result<RunResult> Run(const std::vector<std::string>& argv, std::chrono::milliseconds timeout,
                      std::optional<std::vector<std::string>> env) {
  int p[2];
  if (::pipe2(p, O_CLOEXEC) != 0) return SysError("pipe", "", errno);
  UniqueFd read_end(p[0]), write_end(p[1]);
  SpawnOptions o;
  o.argv = argv;
  o.env = std::move(env);
  o.stdout_fd = write_end.get();
  o.stderr_fd = write_end.get();
  auto pid = Spawn(o);
  write_end.reset();
  if (!pid.ok()) return pid.error();
  UniqueFd pidfd(PidfdOpen(*pid));
  if (!pidfd.valid()) {
    int err = errno;
    ::kill(*pid, SIGKILL);
    (void)WaitPid(*pid, std::chrono::milliseconds(-1));
    return SysError("pidfd_open", argv[0], err);
  }
  RunResult r;
  ::fcntl(read_end.get(), F_SETFL, O_NONBLOCK);
  bool done = PollUntilExit(pidfd.get(), read_end.get(), &r.output,
                            std::chrono::steady_clock::now() + timeout, false);
  if (!done) ::kill(*pid, SIGKILL);
  int status = 0;
  while (::waitpid(*pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!done) {
    return Timeout(argv[0] + " " + (argv.size() > 1 ? argv[1] + " " : "") + "timed out after " +
                   std::to_string(timeout.count()) + "ms");
  }
  r.exit = FromWaitStatus(status);
  return r;
}

}  // namespace lintel::drivers::oci
