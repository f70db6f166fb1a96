// oci_bench: container start latency through the OCI driver against raw runc
// on the same bundle (bench/README.md, "OCI driver: start latency").
//
// Both sides use a busybox rootfs (an overlay per run), the same config.json
// (written by drivers/oci/oci_spec.h, joining the same kind of Pod sandbox)
// and runc. Measured, each the median of --runs (default 15), alternating
// baseline and driver runs so that load on the machine hits both alike:
//   running   baseline `runc run --detach` of `sleep 1000` (create + start)
//             vs Driver::Start until the Listener reports Running
//   exited    baseline `runc run` of /bin/true (create, start, wait, delete)
//             vs Driver::Start until the Listener reports the Pod Exited
// Untimed around each run: mounting/unmounting the baseline's overlay,
// `runc delete`, Driver::Destroy.
//
// A harness main rather than Google Benchmark: each sample is one container
// start with work around it that must not be timed.
//
//   oci_bench [--quick] [--runs N] [--runtime runc|crun]   (root; exits 77, skipped, otherwise)
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>
#include <vector>

#include "common/fs.h"
#include "drivers/oci/cgroups.h"
#include "drivers/oci/oci_driver.h"
#include "drivers/oci/oci_spec.h"
#include "drivers/oci/sandbox.h"
#include "drivers/oci/subprocess.h"
#include "drivers/oci/sys_util.h"
#include "integration/drivers/oci/busybox_rootfs.h"
#include "support/temp_dir.h"

namespace lintel::drivers::oci {
namespace {

using Ms = std::chrono::duration<double, std::milli>;
using Steady = std::chrono::steady_clock;

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

struct Config {
  int runs = 15;
  std::string runtime = "runc";
};

// Waits for the Listener to report a state for a uid.
class Waiter {
 public:
  void OnChange(const std::string& uid, const WorkloadStatus& st) {
    std::lock_guard<std::mutex> l(mu_);
    if (uid == uid_ && (st.state == want_ || st.state == RunState::kFailed)) {
      done_ = true;
      cv_.notify_all();
    }
  }
  void Expect(const std::string& uid, RunState want) {
    std::lock_guard<std::mutex> l(mu_);
    uid_ = uid;
    want_ = want;
    done_ = false;
  }
  bool Wait() {
    std::unique_lock<std::mutex> l(mu_);
    return cv_.wait_for(l, std::chrono::seconds(60), [this] { return done_; });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::string uid_;
  RunState want_ = RunState::kRunning;
  bool done_ = false;
};

class Bench {
 public:
  Status Setup(const std::string& dir, const std::string& runtime) {
    dir_ = dir;
    if (!rootfs_.Build(dir + "/busybox")) return NotFound("/bin/busybox is missing");
    OciOptions o;
    o.data_dir = dir + "/data";
    o.run_dir = dir + "/run";
    o.runtime = runtime;
    o.cgroup_root = "/lintel-bench-" + std::to_string(::getpid());
    o.rootfs = &rootfs_;
    auto d = OciDriver::Create(std::move(o));
    if (!d.ok()) return d.error();
    driver_ = std::move(*d);
    driver_->SetListener(
        [this](const std::string& uid, const WorkloadStatus& st) { waiter_.OnChange(uid, st); });
    // The baseline's sandbox: the same namespaces and files a Pod gets.
    plan_.ns = "default";
    plan_.name = "baseline";
    plan_.uid = "baseline-" + std::to_string(::getpid());
    plan_.hostname = "baseline";
    plan_.restart_policy = RestartPolicy::kNever;
    layout_ = {dir + "/run/netns", dir + "/baseline"};
    auto sb = CreateSandbox(layout_, plan_, nullptr);
    if (!sb.ok()) return sb.error();
    sandbox_ = *sb;
    runc_root_ = dir + "/baseline-runc";
    return MakeDirs(runc_root_, 0700);
  }

  void Teardown() {
    if (driver_) driver_.reset();
    (void)DestroySandbox(layout_, plan_, nullptr);
    // runc deletes each run's cgroup, not the parents the baseline named.
    RemoveCgroupTree(BaselineCgroups(), "");
  }

  static std::string BaselineCgroups() {
    return "/lintel-bench-" + std::to_string(::getpid()) + "/baseline";
  }

  static ContainerPlan Plan(const std::vector<std::string>& cmd) {
    ContainerPlan c;
    c.name = "main";
    c.image = "busybox";
    c.command = cmd;
    c.has_command = true;
    return c;
  }

  // One raw runc run of `cmd` on a fresh overlay; returns the timed part.
  Result<double> Baseline(const std::vector<std::string>& cmd, bool detach, int n) {
    plan_.containers = {Plan(cmd)};
    std::string bundle = dir_ + "/baseline/b" + std::to_string(n);
    LINTEL_RETURN_IF_ERROR(MakeDirs(bundle, 0700));
    LINTEL_ASSIGN_OR_RETURN(ResolvedImage image, rootfs_.Resolve("busybox", PullPolicy::kDefault));
    LINTEL_ASSIGN_OR_RETURN(std::string rootfs, rootfs_.Mount(image, bundle));
    BundleInput in;
    in.pod = &plan_;
    in.container = &plan_.containers[0];
    in.image = image.defaults;
    in.rootfs = rootfs;
    in.cgroups_path = BaselineCgroups() + "/c" + std::to_string(n);
    in.sandbox = sandbox_;
    in.host = ReadHostLimits();
    LINTEL_ASSIGN_OR_RETURN(Json config, BuildConfig(in));
    LINTEL_RETURN_IF_ERROR(WriteFileAtomic(bundle + "/config.json", config.dump()));
    std::string id = "baseline-" + std::to_string(::getpid()) + "-" + std::to_string(n);
    SpawnOptions o;
    o.argv = {runtime_path_, "--root", runc_root_, "run", "--bundle", bundle};
    if (detach) o.argv.push_back("--detach");
    o.argv.push_back(id);
    auto t0 = Steady::now();
    LINTEL_ASSIGN_OR_RETURN(pid_t pid, Spawn(o));
    LINTEL_ASSIGN_OR_RETURN(ExitInfo e, WaitPid(pid, std::chrono::seconds(60)));
    double ms = Ms(Steady::now() - t0).count();
    (void)Run({runtime_path_, "--root", runc_root_, "delete", "--force", id},
              std::chrono::seconds(30));
    (void)rootfs_.Unmount(bundle);
    (void)RemoveAll(bundle);
    if (e.code != 0) return Internal("runc run exited " + std::to_string(e.code));
    return ms;
  }

  Result<double> ThroughDriver(const std::vector<std::string>& cmd, RunState until, int n) {
    WorkloadSpec w;
    w.ns = "default";
    w.name = "bench" + std::to_string(n);
    w.uid = "bench-" + std::to_string(::getpid()) + "-" + std::to_string(n);
    w.spec = {{"restartPolicy", "Never"},
              {"terminationGracePeriodSeconds", 0},
              {"containers", {{{"name", "main"}, {"image", "busybox"}, {"command", cmd}}}}};
    waiter_.Expect(w.uid, until);
    auto t0 = Steady::now();
    auto h = driver_->Start(w);
    if (!h.ok()) return h.error();
    bool ok = waiter_.Wait();
    double ms = Ms(Steady::now() - t0).count();
    auto st = driver_->StatusOf(w.uid);
    (void)driver_->Destroy(w.uid);
    if (!ok) return Timeout("no " + std::string(RunStateName(until)) + " within 60s");
    if (st.ok() && st->state == RunState::kFailed) return Internal(st->message);
    return ms;
  }

  std::string runtime_path_;

 private:
  std::string dir_;
  lintel::testing::BusyboxRootfs rootfs_;
  std::unique_ptr<OciDriver> driver_;
  Waiter waiter_;
  PodPlan plan_;
  SandboxLayout layout_;
  SandboxPaths sandbox_;
  std::string runc_root_;
};

int Main(int argc, char** argv) {
  Config c;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--quick") == 0) {
      c.runs = 3;
    } else if (std::strcmp(argv[i], "--runtime") == 0 && i + 1 < argc) {
      c.runtime = argv[++i];
    } else if (std::strcmp(argv[i], "--runs") == 0 && i + 1 < argc) {
      c.runs = std::max(1, std::atoi(argv[++i]));
    } else {
      std::fprintf(stderr, "usage: oci_bench [--quick] [--runs N] [--runtime runc|crun]\n");
      return 2;
    }
  }
  if (::geteuid() != 0) {
    std::printf("oci_bench: skipped (needs root: runc, namespaces, cgroups, overlayfs)\n");
    return 77;
  }
  auto runtime = FindExecutable(c.runtime);
  auto conmon = FindExecutable("conmon");
  if (!runtime.ok() || !conmon.ok()) {
    std::printf("oci_bench: skipped (%s or conmon missing; scripts/setup installs them)\n",
                c.runtime.c_str());
    return 77;
  }
  spdlog::set_level(spdlog::level::warn);
  lintel::testing::TempDir tmp;
  Bench b;
  b.runtime_path_ = *runtime;
  if (Status s = b.Setup(tmp.path(), c.runtime); !s.ok()) {
    std::fprintf(stderr, "oci_bench: %s\n", s.ToString().c_str());
    b.Teardown();
    return 1;
  }
  const std::vector<std::string> sleep_cmd = {"/bin/sleep", "1000"};
  const std::vector<std::string> true_cmd = {"/bin/true"};
  std::vector<double> base_run, drv_run, base_exit, drv_exit;
  int failures = 0;
  auto take = [&](Result<double> r, std::vector<double>* into, const char* what) {
    if (r.ok()) {
      into->push_back(*r);
    } else {
      ++failures;
      std::fprintf(stderr, "oci_bench: %s: %s\n", what, r.error().ToString().c_str());
    }
  };
  // One warm-up of each (page cache, first cgroup creation), not counted.
  (void)b.Baseline(sleep_cmd, true, -1);
  (void)b.ThroughDriver(sleep_cmd, RunState::kRunning, -1);
  for (int i = 0; i < c.runs; ++i) {
    take(b.Baseline(sleep_cmd, true, i), &base_run, "runc run --detach");
    take(b.ThroughDriver(sleep_cmd, RunState::kRunning, i), &drv_run, "driver start");
    take(b.Baseline(true_cmd, false, 1000 + i), &base_exit, "runc run");
    take(b.ThroughDriver(true_cmd, RunState::kExited, 1000 + i), &drv_exit, "driver start+exit");
  }
  b.Teardown();
  std::printf("## OCI driver: start latency (%s, busybox, median of %d runs)\n\n",
              c.runtime.c_str(), c.runs);
  std::printf(
      "| measure | raw runtime (baseline) | through the driver | ratio | added |\n"
      "|---|---|---|---|---|\n");
  auto row = [](const char* name, const std::vector<double>& base, const std::vector<double>& drv) {
    double mb = Median(base), md = Median(drv);
    std::printf("| %s | %.1f ms | %.1f ms | %.2f | %+.1f ms |\n", name, mb, md,
                mb > 0 ? md / mb : 0, md - mb);
  };
  row("start -> Running (`sleep 1000`; baseline `run --detach`)", base_run, drv_run);
  row("start -> Exited (`/bin/true`; baseline `run`)", base_exit, drv_exit);
  std::fflush(stdout);
  return failures == 0 ? 0 : 1;
}

}  // namespace
}  // namespace lintel::drivers::oci

int main(int argc, char** argv) {  // NOLINT(bugprone-exception-escape)
  return lintel::drivers::oci::Main(argc, argv);
}
