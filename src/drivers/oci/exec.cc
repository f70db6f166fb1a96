// OciDriver::Exec: `runc exec` (or crun) into a container's current run, in
// the foreground, so that the runtime process is our child and its exit
// status is the command's.
//
//   without a tty: pipes for stdin (or /dev/null), stdout and stderr
//   with a tty:    a pty pair; the runtime gets the slave as its stdio and
//                  copies between it and the container's own pty (runc's
//                  foreground terminal mode); the caller gets the master.
//                  resize() sets the master's size and sends SIGWINCH to the
//                  runtime, which passes the size on.
//
// The process (env, cwd, user, capabilities, rlimits, ...) is the container's
// own from the run's config.json with args replaced (`exec --process`).
// kill() SIGKILLs the exec'd process by the pid the runtime wrote
// (--pid-file), and the runtime with it.
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <mutex>

#include "common/fs.h"
#include "drivers/oci/oci_driver.h"
#include "drivers/oci/pod_runner.h"
#include "drivers/oci/runtime.h"
#include "drivers/oci/subprocess.h"

namespace lintel::drivers::oci {

namespace {

std::atomic<uint64_t> exec_counter{0};

// Both ends close-on-exec; {read, write}.
Status Pipe(int fds[2]) {
  if (::pipe2(fds, O_CLOEXEC) != 0) return Internal(std::string("pipe: ") + strerror(errno));
  return Status();
}

void CloseFd(int fd) {
  if (fd >= 0) ::close(fd);
}

struct ExecState {
  pid_t pid = 0;         // the runtime's exec
  std::string pid_file;  // the exec'd process's pid, once it runs
  std::string process_file;
  std::mutex mu;
  bool reaped = false;
  int terminal = -1;  // the pty master, for resize (owned by the session's holder)
};

}  // namespace

Result<ExecSession> OciDriver::Exec(const std::string& uid, const ExecOptions& options) {
  auto runner = Find(uid);
  if (!runner) return NotFound("pod " + uid + " is not known to the oci driver");
  const PodPlan& plan = runner->plan();
  std::string name = options.container;
  if (name.empty()) {
    if (plan.containers.size() != 1) {
      return BadRequest("a container name must be specified for pod " + plan.name +
                        ", choose one of the containers");
    }
    name = plan.containers.front().name;
  }
  bool known = false;
  for (const auto& c : plan.containers) known |= c.name == name;
  if (!known) return NotFound("container " + name + " is not valid for pod " + plan.name);
  if (options.command.empty()) return BadRequest("exec needs a command");
  WorkloadStatus status = runner->Snapshot();
  bool running = false;
  for (const auto& c : status.containers) {
    running |= c.name == name && c.state == RunState::kRunning;
  }
  auto run = runner->CurrentRun(name);
  if (!running || !run || run->id.empty()) {
    return BadRequest("container " + name + " of pod " + plan.name + " is not running");
  }

  // The process: the container's, with the command as args.
  const std::string run_dir =
      runner->pod_dir() + "/containers/" + name + "/" + std::to_string(run->run);
  LINTEL_ASSIGN_OR_RETURN(std::string config_text, ReadFile(run_dir + "/config.json"));
  LINTEL_ASSIGN_OR_RETURN(Json config, ParseJson(config_text));
  if (!config.contains("process") || !config["process"].is_object()) {
    return Internal("exec: the run's config.json has no process");
  }
  Json process = config["process"];
  process["args"] = options.command;
  process["terminal"] = options.tty;
  process.erase("consoleSize");
  if (options.tty) {
    bool has_term = false;
    for (const auto& e : process.value("env", Json::array())) {
      has_term |= e.is_string() && e.get<std::string>().rfind("TERM=", 0) == 0;
    }
    if (!has_term) process["env"].push_back("TERM=xterm");
  }
  auto state = std::make_shared<ExecState>();
  const std::string tag = std::to_string(::getpid()) + "-" + std::to_string(++exec_counter);
  state->process_file = run_dir + "/exec-" + tag + ".json";
  state->pid_file = run_dir + "/exec-" + tag + ".pid";
  LINTEL_RETURN_IF_ERROR(WriteFileAtomic(state->process_file, process.dump(), 0600));

  SpawnOptions so;
  so.argv = {runtime_->info().path, "--root",     runtime_->root(), "exec", "--process",
             state->process_file,   "--pid-file", state->pid_file};
  if (options.tty) so.argv.push_back("--tty");
  so.argv.push_back(run->id);
  ExecSession session;
  std::vector<int> child_ends;
  auto fail = [&](Status s) {
    for (int fd : child_ends) CloseFd(fd);
    for (int fd : {session.terminal, session.stdin_fd, session.stdout_fd, session.stderr_fd}) {
      CloseFd(fd);
    }
    ::unlink(state->process_file.c_str());
    return s;
  };
  if (options.tty) {
    int master = ::posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (master < 0 || ::grantpt(master) != 0 || ::unlockpt(master) != 0) {
      CloseFd(master);
      return fail(Internal(std::string("exec: a pty: ") + strerror(errno)));
    }
    session.terminal = master;
    char slave_name[64];
    if (::ptsname_r(master, slave_name, sizeof(slave_name)) != 0) {
      return fail(Internal("exec: ptsname failed"));
    }
    int slave = ::open(slave_name, O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (slave < 0) return fail(Internal(std::string("exec: open pty: ") + strerror(errno)));
    child_ends.push_back(slave);
    winsize ws{};
    ws.ws_col = 80;
    ws.ws_row = 24;
    ::ioctl(master, TIOCSWINSZ, &ws);
    so.stdin_fd = so.stdout_fd = so.stderr_fd = slave;
    so.new_session = true;
    state->terminal = master;
  } else {
    int out[2], err[2];
    if (Status s = Pipe(out); !s.ok()) return fail(s);
    child_ends.push_back(out[1]);
    session.stdout_fd = out[0];
    if (Status s = Pipe(err); !s.ok()) return fail(s);
    child_ends.push_back(err[1]);
    session.stderr_fd = err[0];
    so.stdout_fd = out[1];
    so.stderr_fd = err[1];
    if (options.stdin) {
      int in[2];
      if (Status s = Pipe(in); !s.ok()) return fail(s);
      child_ends.push_back(in[0]);
      session.stdin_fd = in[1];
      so.stdin_fd = in[0];
    }
  }
  auto pid = Spawn(so);
  for (int fd : child_ends) CloseFd(fd);
  child_ends.clear();
  if (!pid.ok()) return fail(pid.error());
  state->pid = *pid;

  session.wait = [state]() -> Result<int> {
    auto exit = WaitPid(state->pid, std::chrono::milliseconds(-1));
    {
      std::lock_guard<std::mutex> l(state->mu);
      state->reaped = true;
    }
    ::unlink(state->process_file.c_str());
    ::unlink(state->pid_file.c_str());
    if (!exit.ok()) return exit.error();
    return exit->code;
  };
  session.resize = [state](uint16_t cols, uint16_t rows) {
    std::lock_guard<std::mutex> l(state->mu);
    if (state->reaped || state->terminal < 0) return;
    winsize ws{};
    ws.ws_col = cols;
    ws.ws_row = rows;
    ::ioctl(state->terminal, TIOCSWINSZ, &ws);
    ::kill(state->pid, SIGWINCH);
  };
  session.kill = [state] {
    std::lock_guard<std::mutex> l(state->mu);
    if (state->reaped) return;
    if (auto text = ReadFile(state->pid_file); text.ok()) {
      pid_t p = static_cast<pid_t>(std::atoi(text->c_str()));
      if (p > 0) ::kill(p, SIGKILL);
    }
    ::kill(state->pid, SIGKILL);
  };
  return session;
}

}  // namespace lintel::drivers::oci
