// The OCI driver's integration fixture: a busybox rootfs built once per
// binary, a driver per test with its own data and run directories and cgroup
// root, short back-off and housekeeping, and a TearDown that destroys every
// Pod and then checks that nothing is left: no mounts under the test
// directory, no cgroups under the test's root, no namespace files, no conmon
// or container processes.
#pragma once

#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "common/fs.h"
#include "drivers/oci/cgroups.h"
#include "drivers/oci/oci_driver.h"
#include "drivers/oci/sys_util.h"
#include "integration/drivers/oci/busybox_rootfs.h"
#include "support/require_root.h"
#include "support/temp_dir.h"

namespace lintel::testing {

class OciDriverTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (::geteuid() != 0) return;
    image_dir_ = new TempDir();
    rootfs_ = new BusyboxRootfs();
    have_busybox_ = rootfs_->Build(image_dir_->path() + "/busybox");
  }
  static void TearDownTestSuite() {
    delete rootfs_;
    delete image_dir_;
    rootfs_ = nullptr;
    image_dir_ = nullptr;
  }

  void SetUp() override {
    LINTEL_REQUIRE_ROOT();
    LINTEL_REQUIRE_TOOL("conmon");
    LINTEL_REQUIRE_TOOL("runc");
    ASSERT_TRUE(have_busybox_) << "no /bin/busybox (busybox-static)";
    static int n = 0;
    cgroup_root_ = "/lintel-test-" + std::to_string(::getpid()) + "-" + std::to_string(n++);
    ASSERT_TRUE(MakeDriver().ok());
  }

  void TearDown() override {
    if (!driver_) return;
    for (const auto& uid : uids_) (void)driver_->Destroy(uid);
    driver_.reset();
    CheckNothingLeft();
  }

  drivers::oci::OciOptions Options() {
    drivers::oci::OciOptions o;
    o.data_dir = dir_.path() + "/data";
    o.run_dir = dir_.path() + "/run";
    // LINTEL_TEST_OCI_RUNTIME=crun (or auto) runs the suite on another runtime.
    const char* runtime = std::getenv("LINTEL_TEST_OCI_RUNTIME");  // NOLINT(concurrency-mt-unsafe)
    o.runtime = runtime && *runtime ? runtime : "runc";
    o.cgroup_root = cgroup_root_;
    o.rootfs = rootfs_;
    o.backoff.initial = std::chrono::milliseconds(200);
    o.backoff.max = std::chrono::milliseconds(800);
    o.housekeeping = std::chrono::milliseconds(100);
    return o;
  }

  Status MakeDriver(std::function<void(drivers::oci::OciOptions&)> tweak = {}) {
    auto o = Options();
    if (tweak) tweak(o);
    auto d = drivers::oci::OciDriver::Create(std::move(o));
    if (!d.ok()) return d.error();
    driver_ = std::move(*d);
    return Status();
  }

  // A Pod spec with the given containers.
  static Json PodSpec(Json containers, const std::string& restart = "Never", int grace = 2) {
    return {{"restartPolicy", restart},
            {"terminationGracePeriodSeconds", grace},
            {"containers", std::move(containers)}};
  }
  static Json Container(const std::string& name, const std::string& script) {
    return {{"name", name}, {"image", "busybox"}, {"command", {"/bin/sh", "-c", script}}};
  }

  drivers::WorkloadSpec Workload(const std::string& name, Json spec) {
    drivers::WorkloadSpec w;
    w.kind = drivers::WorkloadKind::kPod;
    w.ns = "default";
    w.name = name;
    w.uid = "uid-" + name + "-" + std::to_string(::getpid());
    w.spec = std::move(spec);
    return w;
  }

  drivers::Handle StartPod(const drivers::WorkloadSpec& w) {
    auto h = driver_->Start(w);
    EXPECT_TRUE(h.ok()) << h.error().ToString();
    uids_.push_back(w.uid);
    return h.ok() ? *h : drivers::Handle{};
  }

  drivers::WorkloadStatus StatusOf(const std::string& uid) {
    auto st = driver_->StatusOf(uid);
    return st.ok() ? *st : drivers::WorkloadStatus{};
  }

  // Polls the Pod's status until `pred` holds; the last status either way.
  drivers::WorkloadStatus WaitFor(const std::string& uid,
                                  const std::function<bool(const drivers::WorkloadStatus&)>& pred,
                                  std::chrono::milliseconds timeout = std::chrono::seconds(15)) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    drivers::WorkloadStatus st;
    for (;;) {
      st = StatusOf(uid);
      if (pred(st) || std::chrono::steady_clock::now() > deadline) return st;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }

  static bool Exited(const drivers::WorkloadStatus& s) {
    return s.state == drivers::RunState::kExited || s.state == drivers::RunState::kFailed;
  }
  static bool Running(const drivers::WorkloadStatus& s, size_t container = 0) {
    return s.containers.size() > container &&
           s.containers[container].state == drivers::RunState::kRunning;
  }

  std::vector<std::string> LogLines(const std::string& uid, const std::string& container = "",
                                    bool previous = false) {
    std::vector<std::string> lines;
    drivers::LogOptions o;
    o.container = container;
    o.previous = previous;
    Status s = driver_->Logs(uid, o, [&](const drivers::LogLine& l) {
      lines.push_back(l.text);
      return true;
    });
    EXPECT_TRUE(s.ok()) << s.ToString();
    return lines;
  }

  pid_t ContainerPid(const std::string& uid, const std::string& container) {
    auto run = driver_->CurrentRun(uid, container);
    return run ? run->pid : 0;
  }

  void CheckNothingLeft() {
    auto mounts = drivers::oci::MountsUnder(dir_.path());
    EXPECT_TRUE(mounts.empty()) << "left mounted: " << mounts.front();
    for (const auto& root : drivers::oci::CgroupRoots()) {
      EXPECT_FALSE(std::filesystem::exists(root + cgroup_root_)) << root + cgroup_root_;
    }
    std::error_code ec;
    std::string ns_dir = dir_.path() + "/run/netns";
    if (std::filesystem::exists(ns_dir)) {
      EXPECT_TRUE(std::filesystem::is_empty(ns_dir, ec)) << "namespace files left in " << ns_dir;
    }
    std::string pods = dir_.path() + "/data/oci/pods";
    if (std::filesystem::exists(pods)) {
      EXPECT_TRUE(std::filesystem::is_empty(pods, ec)) << "pod directories left";
    }
    for (pid_t pid : watched_pids_) {
      for (int i = 0; i < 100 && Alive(pid); ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      }
      EXPECT_FALSE(Alive(pid)) << "process " << pid << " survives";
    }
  }

  // Exists and is not a zombie (conmon's parent is init, which reaps when it will).
  static bool Alive(pid_t pid) {
    auto stat = ReadFile("/proc/" + std::to_string(pid) + "/stat");
    if (!stat.ok()) return false;
    size_t paren = stat->rfind(')');
    return paren != std::string::npos && paren + 2 < stat->size() && (*stat)[paren + 2] != 'Z';
  }

  // Remembers a Pod's processes, checked in TearDown.
  void Watch(const std::string& uid, const std::string& container) {
    if (auto run = driver_->CurrentRun(uid, container)) {
      if (run->pid > 0) watched_pids_.push_back(run->pid);
      if (run->conmon_pid > 0) watched_pids_.push_back(run->conmon_pid);
    }
  }

  TempDir dir_;
  std::string cgroup_root_;
  std::unique_ptr<drivers::oci::OciDriver> driver_;
  std::vector<std::string> uids_;
  std::vector<pid_t> watched_pids_;

  static inline TempDir* image_dir_ = nullptr;
  static inline BusyboxRootfs* rootfs_ = nullptr;
  static inline bool have_busybox_ = false;
};

}  // namespace lintel::testing
