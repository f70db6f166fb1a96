#include "drivers/oci/conmon.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstdlib>

#include "common/fs.h"
#include "common/json.h"
#include "drivers/oci/runtime.h"
#include "drivers/oci/subprocess.h"
#include "drivers/oci/sys_util.h"

namespace lintel::drivers::oci {

namespace {

std::string Trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

// Reads conmon's one JSON line from the sync socket within `timeout`.
Result<Json> ReadSync(int fd, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  std::string buf;
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return Timeout("conmon: no answer from the runtime's create");
    struct pollfd p = {fd, POLLIN, 0};
    int r = ::poll(&p, 1, static_cast<int>(left.count()));
    if (r < 0 && errno != EINTR) return SysError("poll", "conmon sync pipe", errno);
    if (r <= 0) continue;
    char chunk[8192];
    ssize_t n = ::read(fd, chunk, sizeof(chunk));
    if (n < 0) {
      if (errno == EINTR) continue;
      return SysError("read", "conmon sync pipe", errno);
    }
    if (n == 0) break;  // conmon closed it (exited)
    buf.append(chunk, static_cast<size_t>(n));
    if (buf.find('\n') != std::string::npos) break;
  }
  if (buf.empty()) return Internal("conmon exited before the runtime created the container");
  auto j = ParseJson(buf.substr(0, buf.find('\n')));
  if (!j.ok() || !j->is_object()) return Internal("conmon: unreadable answer: " + Trim(buf));
  return *j;
}

}  // namespace

Result<ConmonStarted> CreateWithConmon(const ConmonRequest& q) {
  int sv[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) {
    return SysError("socketpair", "", errno);
  }
  UniqueFd parent(sv[0]), child(sv[1]);
  ::unlink((q.bundle + "/oom").c_str());
  ::unlink(q.conmon_pidfile.c_str());
  ::unlink(q.container_pidfile.c_str());

  SpawnOptions o;
  o.argv = {q.conmon,
            "--api-version",
            "1",
            "-c",
            q.id,
            "-u",
            q.cuuid,
            "-n",
            q.name,
            "-r",
            q.runtime,
            "-b",
            q.bundle,
            "-p",
            q.container_pidfile,
            "--conmon-pidfile",
            q.conmon_pidfile,
            "--exit-dir",
            q.exit_dir,
            "-l",
            "k8s-file:" + q.log_path,
            "--socket-dir-path",
            q.socket_dir,
            "--log-level",
            "error",
            "--runtime-arg",
            "--root",
            "--runtime-arg",
            q.runtime_root};
  const char* path = std::getenv("PATH");  // NOLINT(concurrency-mt-unsafe): read only
  o.env = std::vector<std::string>{
      std::string("PATH=") +
          (path ? path : "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"),
      "_OCI_SYNCPIPE=3"};
  o.fds = {{3, child.get()}};
  o.new_session = true;
  LINTEL_ASSIGN_OR_RETURN(pid_t first, Spawn(o));
  child.reset();
  // The first process forks the daemon and exits at once.
  auto first_exit = WaitPid(first, q.timeout);
  if (!first_exit.ok()) {
    ::kill(first, SIGKILL);
    (void)WaitPid(first, std::chrono::milliseconds(-1));
    return first_exit.error().Wrap("conmon");
  }
  if (first_exit->code != 0) {
    return Internal("conmon exited " + std::to_string(first_exit->code) + " before forking");
  }
  auto sync = ReadSync(parent.get(), q.timeout);
  auto conmon_pid = ReadPidFile(q.conmon_pidfile);
  if (!sync.ok()) {
    if (conmon_pid) ::kill(*conmon_pid, SIGKILL);
    return sync.error();
  }
  int data = sync->value("data", -1);
  if (data <= 0) {
    std::string message = OciRuntime::ErrorText(sync->value("message", ""));
    if (message.empty()) message = "the runtime failed to create the container";
    return Internal(message);
  }
  if (!conmon_pid) {
    // conmon writes its pidfile before it creates the container, so this
    // does not happen; without the pid the container cannot be supervised.
    return Internal("conmon wrote no pidfile " + q.conmon_pidfile);
  }
  return ConmonStarted{*conmon_pid, data};
}

std::optional<int> ReadExitFile(const std::string& exit_dir, const std::string& id) {
  auto text = ReadFile(exit_dir + "/" + id);
  if (!text.ok()) return std::nullopt;
  std::string t = Trim(*text);
  if (t.empty()) return std::nullopt;
  char* end = nullptr;
  long v = std::strtol(t.c_str(), &end, 10);
  if (end == t.c_str()) return std::nullopt;
  return static_cast<int>(v);
}

std::optional<pid_t> ReadPidFile(const std::string& path) {
  auto text = ReadFile(path);
  if (!text.ok()) return std::nullopt;
  char* end = nullptr;
  long v = std::strtol(text->c_str(), &end, 10);
  if (end == text->c_str() || v <= 0) return std::nullopt;
  return static_cast<pid_t>(v);
}

bool IsConmonOf(pid_t pid, const std::string& id) {
  std::string cmdline = ProcessCmdline(pid);
  return cmdline.find("conmon") != std::string::npos &&
         cmdline.find(" -c " + id + " ") != std::string::npos;
}

Status ReopenLog(const std::string& bundle) {
  std::string ctl = bundle + "/ctl";
  UniqueFd fd(::open(ctl.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC));
  if (!fd.valid()) return SysError("open", ctl, errno);
  return WriteAll(fd.get(), "2 0 0\n");
}

}  // namespace lintel::drivers::oci
