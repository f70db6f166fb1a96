// What a container gets, seen from inside it; and a Pod from the real image
// store (an image built by scripts/test-images and imported).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>

#include "drivers/oci/image_store_rootfs.h"
#include "images/image_store.h"
#include "integration/drivers/oci/oci_fixture.h"

namespace lintel::testing {
namespace {

using drivers::RunState;

TEST_F(OciDriverTest, ContainerIsConfinedAsConfigured) {
  Json c = Container("main",
                     "grep -E '^(Seccomp|NoNewPrivs|CapEff):' /proc/self/status; "
                     "echo nofile=$(ulimit -n); echo host=$(hostname); "
                     "mount -t tmpfs x /mnt 2>/dev/null && echo mounted || echo mount-denied; "
                     "touch /rootfs-write 2>/dev/null && echo rw || echo ro; "
                     "echo pids=$(cat /sys/fs/cgroup/pids/pids.max); "
                     "echo mem=$(cat /sys/fs/cgroup/memory/memory.limit_in_bytes); "
                     "echo cpu=$(cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us); "
                     "grep -c . /etc/hosts >/dev/null && echo hosts; ip link 2>/dev/null | "
                     "grep -c '^[0-9]' | sed 's/^/links=/'");
  c["resources"] = {{"limits", {{"memory", "64Mi"}, {"cpu", "500m"}}}};
  c["securityContext"] = {{"readOnlyRootFilesystem", true}};
  Json spec = PodSpec({c});
  spec["hostname"] = "confined-host";
  auto w = Workload("confined", spec);
  StartPod(w);
  auto st = WaitFor(w.uid, Exited);
  ASSERT_EQ(st.state, RunState::kExited) << st.message;
  auto lines = LogLines(w.uid);
  auto has = [&](const std::string& want) {
    return std::find(lines.begin(), lines.end(), want) != lines.end();
  };
  std::string all;
  for (const auto& l : lines) all += l + "\n";
  EXPECT_TRUE(has("Seccomp:\t2")) << all;
  EXPECT_TRUE(has("NoNewPrivs:\t1")) << all;
  // docker's 14 default capabilities
  EXPECT_TRUE(has("CapEff:\t00000000a80425fb")) << all;
  EXPECT_TRUE(has("nofile=" + std::to_string(drivers::oci::ReadHostLimits().nofile))) << all;
  EXPECT_TRUE(has("host=confined-host")) << all;
  EXPECT_TRUE(has("mount-denied")) << all;
  EXPECT_TRUE(has("ro")) << all;
  EXPECT_TRUE(has("pids=4096")) << all;
  EXPECT_TRUE(has("mem=67108864")) << all;
  EXPECT_TRUE(has("cpu=50000")) << all;
  EXPECT_TRUE(has("hosts")) << all;
  EXPECT_TRUE(has("links=1")) << all << " (only loopback)";
}

TEST_F(OciDriverTest, RunsAnImageFromTheImageStore) {
  LINTEL_REQUIRE_TOOL("python3");
  std::string images = dir_.path() + "/test-images";
  std::string cmd =
      std::string(LINTEL_SOURCE_DIR) + "/scripts/test-images " + images + " >/dev/null 2>&1";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  auto store = images::ImageStore::Open(dir_.path() + "/data/images");
  ASSERT_TRUE(store.ok()) << store.error().ToString();
  auto imported = (*store)->Import(images + "/busybox", "busybox");
  ASSERT_TRUE(imported.ok()) << imported.error().ToString();
  drivers::oci::ImageStoreRootfs provider(store->get());
  driver_.reset();
  ASSERT_TRUE(MakeDriver([&](auto& o) { o.rootfs = &provider; }).ok());

  Json c = {
      {"name", "main"}, {"image", "busybox"}, {"command", {"sh", "-c", "echo from-the-store"}}};
  // No command: the image's Cmd (/bin/sh, which reads an empty stdin and exits).
  Json d = {{"name", "default"}, {"image", "busybox"}};
  auto w = Workload("store", PodSpec({c, d}));
  StartPod(w);
  auto st = WaitFor(w.uid, Exited);
  ASSERT_EQ(st.state, RunState::kExited) << st.message;
  EXPECT_EQ(st.exit_code, 0) << st.containers[0].message;
  EXPECT_EQ(st.containers[0].image_id, imported->digest.ToString());
  EXPECT_EQ(LogLines(w.uid, "main"), (std::vector<std::string>{"from-the-store"}));

  for (const auto& uid : uids_) EXPECT_TRUE(driver_->Destroy(uid).ok());
  uids_.clear();
  driver_.reset();
  // Unmounted, so nothing holds the image any more.
  auto gc = (*store)->GarbageCollect({}, /*remove_unused_images=*/true);
  ASSERT_TRUE(gc.ok()) << gc.error().ToString();
  EXPECT_EQ(gc->removed_images, 1);
}

}  // namespace
}  // namespace lintel::testing
