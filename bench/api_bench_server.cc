// The server under test as a child process, and what /proc says about it.
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

#include "api_bench.h"

namespace lintel::bench {

// Forks and execs argv[0] with stdout and stderr appended to `log`, the
// descriptor limit raised to its hard limit, and SIGTERM sent to it should this
// process die. Only async-signal-safe calls after fork.
pid_t Spawn(const std::vector<std::string>& args, const std::string& log) {
  std::vector<char*> argv;
  argv.reserve(args.size() + 1);
  for (const auto& a : args) {
    argv.push_back(const_cast<char*>(a.c_str()));
  }
  argv.push_back(nullptr);
  pid_t pid = ::fork();
  if (pid != 0) {
    return pid;
  }
  ::prctl(PR_SET_PDEATHSIG, SIGTERM);
  ::setpgid(0, 0);  // a Ctrl-C at the terminal reaches the harness only
  rlimit rl{};
  if (::getrlimit(RLIMIT_NOFILE, &rl) == 0) {
    rl.rlim_cur = rl.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &rl);
  }
  int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  if (fd >= 0) {
    ::dup2(fd, STDOUT_FILENO);
    ::dup2(fd, STDERR_FILENO);
  }
  ::execv(argv[0], argv.data());
  ::_exit(127);
}

namespace {

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// "VmRSS:\t  1234 kB" -> 1234 * 1024
size_t KbField(const std::string& status, const char* name) {
  size_t pos = status.find(name);
  if (pos == std::string::npos) {
    return 0;
  }
  return std::strtoull(status.c_str() + pos + std::strlen(name), nullptr, 10) * 1024;
}

}  // namespace

Result<ProcStats> ReadProcStats(pid_t pid) {
  const std::string dir = "/proc/" + std::to_string(pid);
  std::string status = ReadFile(dir + "/status");
  std::string stat = ReadFile(dir + "/stat");
  size_t paren = stat.rfind(')');
  if (status.empty() || paren == std::string::npos) {
    return Unavailable("process " + std::to_string(pid) + " is gone");
  }
  ProcStats s;
  s.rss = KbField(status, "\nVmRSS:");
  s.rss_anon = KbField(status, "\nRssAnon:");
  s.rss_file = KbField(status, "\nRssFile:");
  s.rss_shmem = KbField(status, "\nRssShmem:");
  s.threads = static_cast<int>(KbField(status, "\nThreads:") / 1024);
  // After "pid (comm) ": state is field 3; utime and stime are 14 and 15.
  std::istringstream fields(stat.substr(paren + 2));
  std::string f;
  double ticks = 0;
  for (int i = 3; i <= 15 && fields >> f; ++i) {
    if (i >= 14) {
      ticks += std::stod(f);
    }
  }
  s.cpu_seconds = ticks / static_cast<double>(::sysconf(_SC_CLK_TCK));
  return s;
}

double SelfCpuSeconds() {
  rusage ru{};
  ::getrusage(RUSAGE_SELF, &ru);
  auto secs = [](const timeval& tv) {
    return static_cast<double>(tv.tv_sec) + static_cast<double>(tv.tv_usec) / 1e6;
  };
  return secs(ru.ru_utime) + secs(ru.ru_stime);
}

Result<std::unique_ptr<ServerProcess>> ServerProcess::Start(const std::string& lintel,
                                                            const std::string& data_dir,
                                                            std::chrono::seconds timeout) {
  std::unique_ptr<ServerProcess> p(new ServerProcess());
  p->data_dir_ = data_dir;
  const std::string log = data_dir + "/server.log";
  const std::string kubeconfig = data_dir + "/kubeconfig";
  ::mkdir(data_dir.c_str(), 0700);
  auto start = SteadyClock::now();
  p->pid_ = Spawn({lintel, "server", "--data-dir", data_dir, "--listen", "127.0.0.1:0",
                   "--no-user-kubeconfig"},
                  log);
  if (p->pid_ < 0) {
    return Unavailable(std::string("fork: ") + std::strerror(errno));
  }
  for (;;) {
    int wstatus = 0;
    if (::waitpid(p->pid_, &wstatus, WNOHANG) == p->pid_) {
      p->pid_ = -1;
      return Unavailable("lintel server exited before it was ready; see " + log + ":\n" +
                         ReadFile(log));
    }
    // The kubeconfig is written (atomically) once the server listens; "ready
    // at" follows on stdout.
    if (ReadFile(log).find("ready at") != std::string::npos) {
      auto kc = client::LoadKubeconfig(kubeconfig);
      if (!kc.ok()) {
        return kc.error().Wrap("read the server's kubeconfig");
      }
      p->kubeconfig_ = std::move(*kc);
      p->startup_seconds_ = Seconds(SteadyClock::now() - start);
      return p;
    }
    if (SteadyClock::now() - start > timeout) {
      return Unavailable("lintel server not ready after " + std::to_string(timeout.count()) +
                         " s; see " + log);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

void ServerProcess::Stop() {
  if (pid_ < 0) {
    return;
  }
  ::kill(pid_, SIGTERM);
  auto deadline = SteadyClock::now() + std::chrono::seconds(30);
  int wstatus = 0;
  while (::waitpid(pid_, &wstatus, WNOHANG) == 0) {
    if (SteadyClock::now() > deadline) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, &wstatus, 0);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  pid_ = -1;
}

ServerProcess::~ServerProcess() { Stop(); }

PerfRecording::PerfRecording(pid_t pid, const std::string& path) {
  if (path.empty()) {
    return;
  }
  perf_pid_ = Spawn({"/usr/bin/perf", "record", "-g", "-F", "999", "-p", std::to_string(pid),
                     "-o", path},
                    path + ".log");
  // perf attaches asynchronously; give it a moment so the phase is covered.
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
}

PerfRecording::~PerfRecording() {
  if (perf_pid_ > 0) {
    ::kill(perf_pid_, SIGINT);
    int wstatus = 0;
    ::waitpid(perf_pid_, &wstatus, 0);
  }
}

}  // namespace lintel::bench
