// The QEMU driver with real QEMU booting the tiny test guest under TCG (root;
// skips otherwise): boot to the guest's marker, cloud-init user data, the
// console log and interactive console, graceful ACPI stop, restart on the same
// disks, pause, runStrategy after a crash and after a guest power-off,
// re-adoption by a new driver, start errors with QEMU's stderr, and cleanup.
// Boots take about 2.5 s each here, so tests wait up to a minute.
#include "drivers/qemu/qemu_driver.h"

#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/fs.h"
#include "drivers/oci/subprocess.h"
#include "drivers/qemu/accel.h"
#include "images/vm_image_store.h"
#include "support/require_root.h"
#include "support/temp_dir.h"
#include "unit/images/test_images.h"

namespace lintel::drivers::qemu {
namespace {

using namespace std::chrono_literals;
using lintel::testing::TempDir;

constexpr auto kBoot = 60s;

bool Eventually(const std::function<bool()>& pred, std::chrono::milliseconds limit) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(50ms);
  }
  return pred();
}

class QemuDriverTest : public ::testing::Test {
 protected:
  void SetUp() override {
    LINTEL_REQUIRE_ROOT();
    LINTEL_REQUIRE_TOOL("qemu-system-x86_64");
    LINTEL_REQUIRE_TOOL("qemu-img");
    auto store = images::VmImageStore::Open(dir_.path() + "/images");
    ASSERT_TRUE(store.ok()) << store.error().ToString();
    store_ = std::move(*store);
    auto img = store_->Import(images::testing::TinyVmImage(), "tiny");
    ASSERT_TRUE(img.ok()) << img.error().ToString();
    ASSERT_TRUE(MakeDriver().ok());
  }

  void TearDown() override {
    if (driver_) {
      for (const auto& uid : uids_) (void)driver_->Destroy(uid);
    }
    driver_.reset();
    // Nothing left: no QEMU naming this test's directory, no VM directories.
    for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
      const std::string name = entry.path().filename();
      if (name.find_first_not_of("0123456789") != std::string::npos) continue;
      std::string cmd = oci::ProcessCmdline(std::stoi(name));
      EXPECT_EQ(cmd.find(dir_.path()), std::string::npos) << "left running: " << cmd;
    }
    std::error_code ec;
    const std::string vms = dir_.path() + "/data/qemu/vms";
    if (std::filesystem::exists(vms)) {
      EXPECT_TRUE(std::filesystem::is_empty(vms, ec)) << "VM directories left in " << vms;
    }
  }

  QemuOptions Options() {
    QemuOptions o;
    o.data_dir = dir_.path() + "/data";
    o.run_dir = dir_.path() + "/run";
    o.images = store_.get();
    o.accelerator = "tcg";
    o.quit_grace = 1s;
    return o;
  }

  Status MakeDriver(std::function<void(QemuOptions&)> tweak = {}) {
    QemuOptions o = Options();
    if (tweak) tweak(o);
    auto d = QemuDriver::Create(std::move(o));
    if (!d.ok()) return d.error();
    driver_ = std::move(*d);
    driver_->SetListener([this](const std::string& uid, const WorkloadStatus& st) {
      std::lock_guard<std::mutex> l(mu_);
      seen_.push_back(st);
    });
    return Status();
  }

  WorkloadSpec Vm(const std::string& name, Json extra = Json::object()) {
    WorkloadSpec s;
    s.kind = WorkloadKind::kVirtualMachine;
    s.ns = "default";
    s.name = name;
    s.uid = "uid-" + name;
    s.spec = {{"image", "tiny"}, {"memory", "256Mi"}, {"cpu", 1}};
    s.spec.update(extra);
    return s;
  }

  Result<Handle> StartVm(const WorkloadSpec& s) {
    auto h = driver_->Start(s);
    if (h.ok()) uids_.push_back(s.uid);
    return h;
  }

  std::string Console(const std::string& uid) {
    std::string out;
    (void)driver_->Logs(uid, LogOptions{}, [&](const LogLine& l) {
      out += l.text + "\n";
      return true;
    });
    return out;
  }

  bool ConsoleHas(const std::string& uid, const std::string& text,
                  std::chrono::milliseconds limit = kBoot) {
    return Eventually([&] { return Console(uid).find(text) != std::string::npos; }, limit);
  }

  RunState StateOf(const std::string& uid) {
    auto st = driver_->StatusOf(uid);
    return st.ok() ? st->state : RunState::kFailed;
  }

  // Types a line on the interactive console and reads until `want` shows.
  bool Converse(int fd, const std::string& line, const std::string& want) {
    std::string cmd = line + "\n";
    if (::write(fd, cmd.data(), cmd.size()) != static_cast<ssize_t>(cmd.size())) return false;
    std::string got;
    auto deadline = std::chrono::steady_clock::now() + 30s;
    while (std::chrono::steady_clock::now() < deadline) {
      struct pollfd p {
        fd, POLLIN, 0
      };
      if (::poll(&p, 1, 200) == 1) {
        char buf[4096];
        ssize_t n = ::read(fd, buf, sizeof(buf));
        if (n <= 0) return false;
        got.append(buf, n);
        if (got.find(want) != std::string::npos) return true;
      }
    }
    ADD_FAILURE() << "console never printed " << want << "; got: " << got;
    return false;
  }

  TempDir dir_;
  std::unique_ptr<images::VmImageStore> store_;
  std::unique_ptr<QemuDriver> driver_;
  std::vector<std::string> uids_;
  std::mutex mu_;
  std::vector<WorkloadStatus> seen_;
};

TEST_F(QemuDriverTest, BootsToMarkerRunsUserDataAndStopsGracefully) {
  auto s = Vm(
      "vm1",
      {{"cloudInit", {{"userData", "#!/bin/sh\necho \"lintel-test: user-data on $(hostname)\"\n"}}},
       {"disks", Json::array({{{"name", "data"}, {"size", "64Mi"}}})}});
  auto h = StartVm(s);
  ASSERT_TRUE(h.ok()) << h.error().ToString();
  EXPECT_EQ(h->driver, "qemu");
  auto st = driver_->StatusOf(s.uid);
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->state, RunState::kRunning);
  EXPECT_EQ(st->accelerator, "tcg");
  EXPECT_GT(driver_->QemuPid(s.uid), 0);
  ASSERT_TRUE(ConsoleHas(s.uid, "lintel-tiny: ready")) << Console(s.uid);
  EXPECT_NE(Console(s.uid).find("lintel-test: user-data on vm1"), std::string::npos)
      << Console(s.uid);
  // The data disk is a second virtio disk in the guest.
  const std::string dir = driver_->VmDir(s.uid);
  EXPECT_TRUE(FileExists(dir + "/root.qcow2"));
  EXPECT_TRUE(FileExists(dir + "/data.qcow2"));
  EXPECT_TRUE(FileExists(dir + "/seed.iso"));

  // tail_lines keeps the last lines only.
  std::vector<std::string> tail;
  LogOptions last2;
  last2.tail_lines = 2;
  ASSERT_TRUE(driver_
                  ->Logs(s.uid, last2,
                         [&](const LogLine& l) {
                           tail.push_back(l.text);
                           return true;
                         })
                  .ok());
  EXPECT_LE(tail.size(), 2u);

  // ACPI power-off: the guest shuts down well within the grace period.
  const auto t0 = std::chrono::steady_clock::now();
  ASSERT_TRUE(driver_->Stop(s.uid, 30s).ok());
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 20s) << "the guest ignored ACPI power-off";
  st = driver_->StatusOf(s.uid);
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->state, RunState::kExited);
  EXPECT_EQ(st->reason, "Stopped");
  EXPECT_EQ(st->exit_code, 0);
  EXPECT_EQ(driver_->QemuPid(s.uid), 0);
  // Stopped stays stopped, whatever the runStrategy (Always here).
  std::this_thread::sleep_for(1500ms);
  EXPECT_EQ(StateOf(s.uid), RunState::kExited);

  // Restart boots the same disks: user data ran once per instance, so the
  // second boot says so instead of running it again.
  ASSERT_TRUE(driver_->Restart(s.uid, 10s).ok());
  EXPECT_EQ(StateOf(s.uid), RunState::kRunning);
  ASSERT_TRUE(ConsoleHas(s.uid, "user-data already ran")) << Console(s.uid);
  EXPECT_EQ(driver_->Boots(s.uid), 2);

  ASSERT_TRUE(driver_->Destroy(s.uid).ok());
  EXPECT_FALSE(FileExists(dir));
  EXPECT_EQ(driver_->StatusOf(s.uid).error().code(), Code::kNotFound);
}

TEST_F(QemuDriverTest, ConsolePauseAndOneClientAtATime) {
  auto s = Vm("vm2");
  ASSERT_TRUE(StartVm(s).ok());
  ASSERT_TRUE(ConsoleHas(s.uid, "lintel-tiny: ready")) << Console(s.uid);
  auto fd = driver_->OpenConsole(s.uid);
  ASSERT_TRUE(fd.ok()) << fd.error().ToString();
  auto second = driver_->OpenConsole(s.uid);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.error().code(), Code::kUnavailable);
  EXPECT_TRUE(Converse(*fd, "echo console-$((6*7))", "console-42"));
  // What the console shows is in the log too.
  EXPECT_TRUE(ConsoleHas(s.uid, "console-42", 5s));

  ASSERT_TRUE(driver_->Pause(s.uid).ok());
  EXPECT_TRUE(driver_->StatusOf(s.uid)->paused);
  // A paused guest does not answer.
  std::string cmd = "echo paused-$((7*7))\n";
  ASSERT_EQ(::write(*fd, cmd.data(), cmd.size()), static_cast<ssize_t>(cmd.size()));
  std::this_thread::sleep_for(1s);
  EXPECT_EQ(Console(s.uid).find("paused-49"), std::string::npos);
  ASSERT_TRUE(driver_->Resume(s.uid).ok());
  EXPECT_FALSE(driver_->StatusOf(s.uid)->paused);
  EXPECT_TRUE(ConsoleHas(s.uid, "paused-49", 30s)) << Console(s.uid);
  ::close(*fd);
  // Free again once the client hangs up.
  EXPECT_TRUE(Eventually(
      [&] {
        auto again = driver_->OpenConsole(s.uid);
        if (!again.ok()) return false;
        ::close(*again);
        return true;
      },
      5s));
}

TEST_F(QemuDriverTest, RunStrategyAfterCrashAndGuestPowerOff) {
  // Always: a QEMU killed outright boots again on its own.
  auto always = Vm("always");
  ASSERT_TRUE(StartVm(always).ok());
  pid_t first = driver_->QemuPid(always.uid);
  ASSERT_GT(first, 0);
  ASSERT_EQ(::kill(first, SIGKILL), 0);
  ASSERT_TRUE(Eventually([&] { return driver_->Boots(always.uid) == 2; }, 10s));
  ASSERT_TRUE(Eventually([&] { return StateOf(always.uid) == RunState::kRunning; }, 10s));
  EXPECT_NE(driver_->QemuPid(always.uid), first);
  {
    std::lock_guard<std::mutex> l(mu_);
    bool crashed = false;
    for (const auto& st : seen_) crashed = crashed || st.reason == "Crashed";
    EXPECT_TRUE(crashed) << "the listener never heard of the crash";
  }

  // RerunOnFailure: a guest that powers itself off stays off.
  auto rerun = Vm("rerun", {{"runStrategy", "RerunOnFailure"},
                            {"cloudInit", {{"userData", "#!/bin/sh\npoweroff\n"}}}});
  ASSERT_TRUE(StartVm(rerun).ok());
  ASSERT_TRUE(Eventually([&] { return StateOf(rerun.uid) == RunState::kExited; }, kBoot));
  auto st = driver_->StatusOf(rerun.uid);
  EXPECT_EQ(st->reason, "GuestShutdown");
  EXPECT_EQ(st->exit_code, 0);
  std::this_thread::sleep_for(1500ms);
  EXPECT_EQ(driver_->Boots(rerun.uid), 1);
  EXPECT_EQ(StateOf(rerun.uid), RunState::kExited);
}

TEST_F(QemuDriverTest, GuestIgnoringAcpiIsQuitAfterTheGrace) {
  auto s =
      Vm("deaf", {{"cloudInit", {{"userData", "#!/bin/sh\nkillall acpid\necho acpid-gone\n"}}}});
  ASSERT_TRUE(StartVm(s).ok());
  ASSERT_TRUE(ConsoleHas(s.uid, "lintel-tiny: ready")) << Console(s.uid);
  ASSERT_NE(Console(s.uid).find("acpid-gone"), std::string::npos);
  const auto t0 = std::chrono::steady_clock::now();
  ASSERT_TRUE(driver_->Stop(s.uid, 2s).ok());
  const auto took = std::chrono::steady_clock::now() - t0;
  EXPECT_GE(took, 2s) << "stopped before the grace passed: the guest heard ACPI after all";
  EXPECT_LT(took, 10s);
  auto st = driver_->StatusOf(s.uid);
  EXPECT_EQ(st->state, RunState::kExited);
  EXPECT_EQ(st->reason, "Stopped");
  EXPECT_EQ(driver_->QemuPid(s.uid), 0);
}

TEST_F(QemuDriverTest, NewDriverReadoptsRunningVm) {
  auto s = Vm("adopt");
  auto h = StartVm(s);
  ASSERT_TRUE(h.ok());
  ASSERT_TRUE(ConsoleHas(s.uid, "lintel-tiny: ready"));
  pid_t pid = driver_->QemuPid(s.uid);
  driver_.reset();  // the agent goes away: QEMU stays
  ASSERT_TRUE(oci::ProcessExists(pid));
  ASSERT_TRUE(MakeDriver().ok());
  WorkloadSpec bare;  // as after an agent restart without the API: the recorded spec
  bare.kind = WorkloadKind::kVirtualMachine;
  ASSERT_TRUE(driver_->Recover(*h, bare).ok());
  EXPECT_EQ(driver_->QemuPid(s.uid), pid);
  EXPECT_EQ(StateOf(s.uid), RunState::kRunning);
  // QMP answers the new driver: pause works.
  ASSERT_TRUE(driver_->Pause(s.uid).ok());
  ASSERT_TRUE(driver_->Resume(s.uid).ok());
  // Its console still works, and a graceful stop too.
  auto fd = driver_->OpenConsole(s.uid);
  ASSERT_TRUE(fd.ok()) << fd.error().ToString();
  EXPECT_TRUE(Converse(*fd, "echo adopted-$((5*5))", "adopted-25"));
  ::close(*fd);
  ASSERT_TRUE(driver_->Stop(s.uid, 30s).ok());
  EXPECT_EQ(driver_->StatusOf(s.uid)->reason, "Stopped");
  EXPECT_FALSE(oci::ProcessExists(pid));
  // A Start of the same uid adopts rather than boots a second QEMU.
  auto again = driver_->Start(s);
  EXPECT_EQ(again.error().code(), Code::kAlreadyExists);
}

TEST_F(QemuDriverTest, StartErrorsAreClearAndLeaveNothing) {
  auto missing = Vm("missing", {{"image", "nope"}});
  auto h = StartVm(missing);
  ASSERT_FALSE(h.ok());
  EXPECT_EQ(h.error().code(), Code::kNotFound);
  EXPECT_NE(h.error().message().find("\"nope\""), std::string::npos) << h.error().message();

  auto kvm = Vm("kvm", {{"accelerator", "KVM"}});
  h = StartVm(kvm);
  ASSERT_FALSE(h.ok());
  EXPECT_EQ(h.error().code(), Code::kNotSupported);

  auto huge = Vm("huge", {{"disks", Json::array({{{"name", "big"}, {"size", "900Ti"}}})}});
  h = StartVm(huge);
  ASSERT_FALSE(h.ok());
  EXPECT_EQ(h.error().code(), Code::kInvalid);
  EXPECT_NE(h.error().message().find("free"), std::string::npos) << h.error().message();

  auto memory = Vm("memory", {{"memory", "64Ti"}});
  h = StartVm(memory);
  ASSERT_FALSE(h.ok());
  EXPECT_EQ(h.error().code(), Code::kInvalid);

  // A QEMU that dies at start: its stderr is the error.
  const std::string fake = dir_.path() + "/fake-qemu";
  ASSERT_TRUE(WriteFileAtomic(
                  fake, "#!/bin/sh\necho 'qemu: could not open disk: corrupt' >&2\nexit 1\n", 0755)
                  .ok());
  driver_.reset();
  ASSERT_TRUE(MakeDriver([&](QemuOptions& o) { o.qemu = fake; }).ok());
  auto dies = Vm("dies");
  h = StartVm(dies);
  ASSERT_FALSE(h.ok());
  EXPECT_NE(h.error().message().find("could not open disk: corrupt"), std::string::npos)
      << h.error().message();
  EXPECT_FALSE(FileExists(driver_->VmDir(dies.uid)));
}

TEST(QemuAccelerator, FallsBackToTcgWhenKvmCannotBootAStockKernel) {
  std::string why;
  bool usable = KvmLooksUsable(&why);
  AccelProbe p = ProbeAccelerator("qemu-system-x86_64", CanaryKernel{}, "/tmp", 5s);
  if (!usable) {
    EXPECT_EQ(p.accelerator, "tcg");
    EXPECT_EQ(p.reason, why);
  } else {
    EXPECT_EQ(p.accelerator, "kvm");
  }
  EXPECT_FALSE(p.reason.empty());
}

}  // namespace
}  // namespace lintel::drivers::qemu
