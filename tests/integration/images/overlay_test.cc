// Overlay root filesystems from the image store, as root: layer semantics
// (whiteouts, opaque directories) in the merged view, read-only layers, many
// layers, leases against GC, and a full disk while unpacking.
#include <gtest/gtest.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include <chrono>
#include <filesystem>
#include <fstream>

#include "common/fs.h"
#include "images/image_store.h"
#include "support/require_root.h"
#include "support/temp_dir.h"
#include "unit/images/tar_builder.h"
#include "unit/images/test_images.h"

namespace lintel::images {
namespace {

namespace fs = std::filesystem;
using testing::LayoutWriter;
using testing::MakeLayer;
using testing::TarBuilder;

bool Mounted(const std::string& path) {
  std::ifstream in("/proc/self/mountinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.find(" " + path + " ") != std::string::npos) return true;
  }
  return false;
}

std::vector<std::string> Names(const std::string& dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) out.push_back(e.path().filename());
  std::sort(out.begin(), out.end());
  return out;
}

class OverlayTest : public ::testing::Test {
 protected:
  void SetUp() override {
    LINTEL_REQUIRE_ROOT();
    auto s = ImageStore::Open(tmp_.File("store"));
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(*s);
  }
  void TearDown() override {
    // Whatever a failed test left mounted goes.
    for (const auto& dir : containers_) {
      if (store_) (void)store_->UnmountRootfs(dir);
    }
    for (const auto& m : mounts_) ::umount2(m.c_str(), MNT_DETACH);
  }
  std::string Container(const std::string& name) {
    containers_.push_back(tmp_.File(name));
    return containers_.back();
  }

  lintel::testing::TempDir tmp_;
  std::unique_ptr<ImageStore> store_;
  std::vector<std::string> containers_;
  std::vector<std::string> mounts_;
};

TEST_F(OverlayTest, TwoLayersWithWhiteoutAndOpaqueDirectory) {
  LayoutWriter w(tmp_.File("layout"));
  auto lower = MakeLayer(TarBuilder()
                             .Dir("etc")
                             .File("etc/keep", "keep")
                             .File("etc/gone", "gone")
                             .Dir("var/cache", 0755)
                             .File("var/cache/old1", "1")
                             .Dir("var/cache/sub")
                             .File("var/cache/sub/old2", "2"));
  auto upper = MakeLayer(TarBuilder()
                             .Dir("etc")
                             .Whiteout("etc/gone")
                             .File("etc/new", "new")
                             .Dir("var/cache")
                             .Opaque("var/cache")
                             .File("var/cache/fresh", "fresh"));
  w.Tag({{"latest", w.Image({lower, upper})}});
  auto image = store_->Import(tmp_.File("layout"), "layered");
  ASSERT_TRUE(image.ok()) << image.status().ToString();
  ASSERT_EQ(image->layers.size(), 2u);
  auto lowers = store_->RootfsLowerDirs(*image);
  EXPECT_EQ(lowers.front(), image->layers[1]);  // top first

  std::string c = Container("c1");
  auto rootfs = store_->MountRootfs(*image, c);
  ASSERT_TRUE(rootfs.ok()) << rootfs.status().ToString();
  EXPECT_EQ(*rootfs, c + "/rootfs");
  EXPECT_TRUE(Mounted(*rootfs));
  EXPECT_EQ(*ReadFile(*rootfs + "/etc/keep"), "keep");
  EXPECT_EQ(*ReadFile(*rootfs + "/etc/new"), "new");
  EXPECT_FALSE(fs::exists(*rootfs + "/etc/gone"));
  EXPECT_EQ(Names(*rootfs + "/var/cache"), std::vector<std::string>{"fresh"});
  EXPECT_EQ(Names(*rootfs + "/etc"), (std::vector<std::string>{"keep", "new"}));

  // Writes and deletes land in upper; the layers do not change.
  LayoutWriter::Write(*rootfs + "/etc/written", "w");
  ASSERT_TRUE(fs::remove(*rootfs + "/etc/keep"));
  EXPECT_TRUE(fs::exists(c + "/upper/etc/written"));
  EXPECT_EQ(*ReadFile(image->layers[0] + "/etc/keep"), "keep");
  EXPECT_FALSE(fs::exists(image->layers[1] + "/etc/written"));

  // Mounting again (agent restart) keeps the mount and its changes.
  auto again = store_->MountRootfs(*image, c);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_TRUE(fs::exists(*rootfs + "/etc/written"));

  ASSERT_TRUE(store_->UnmountRootfs(c).ok());
  EXPECT_FALSE(Mounted(*rootfs));
  EXPECT_FALSE(fs::exists(c + "/upper"));
  EXPECT_FALSE(fs::exists(c + "/work"));
  EXPECT_FALSE(fs::exists(c + "/rootfs"));
  EXPECT_TRUE(store_->UnmountRootfs(c).ok());  // idempotent
}

TEST_F(OverlayTest, BusyboxSingleLayerStaysReadOnly) {
  auto image = store_->Import(testing::TestImages() + "/busybox", "busybox");
  ASSERT_TRUE(image.ok()) << image.status().ToString();
  ASSERT_EQ(image->layers.size(), 1u);
  std::string c = Container("bb");
  auto t0 = std::chrono::steady_clock::now();
  auto rootfs = store_->MountRootfs(*image, c);
  ASSERT_TRUE(rootfs.ok()) << rootfs.status().ToString();
  auto t1 = std::chrono::steady_clock::now();
  EXPECT_EQ(fs::read_symlink(*rootfs + "/bin/sh"), "/bin/busybox");
  LayoutWriter::Write(*rootfs + "/bin/extra", "x");
  EXPECT_FALSE(fs::exists(image->layers[0] + "/bin/extra"));
  // busybox runs from the merged tree.
  std::string cmd = "chroot " + *rootfs + " /bin/sh -c 'echo ok > /tmp/ran'";
  EXPECT_EQ(std::system(cmd.c_str()), 0);
  EXPECT_EQ(*ReadFile(c + "/upper/tmp/ran"), "ok\n");
  auto t2 = std::chrono::steady_clock::now();
  ASSERT_TRUE(store_->UnmountRootfs(c).ok());
  auto t3 = std::chrono::steady_clock::now();
  auto ms = [](auto d) { return std::chrono::duration<double, std::milli>(d).count(); };
  std::cout << "[ measure ] mount rootfs " << ms(t1 - t0) << " ms, unmount+cleanup " << ms(t3 - t2)
            << " ms\n";
}

TEST_F(OverlayTest, ManyLayers) {
  LayoutWriter w(tmp_.File("layout"));
  std::vector<testing::TestLayer> layers;
  constexpr int kLayers = 90;  // ~9 KB of lowerdir paths: over one page
  for (int i = 0; i < kLayers; ++i) {
    layers.push_back(MakeLayer(TarBuilder().Dir("l").File("l/f" + std::to_string(i), "x")));
  }
  w.Tag({{"latest", w.Image(layers)}});
  auto image = store_->Import(tmp_.File("layout"), "many");
  ASSERT_TRUE(image.ok()) << image.status().ToString();
  std::string c = Container("many");
  auto rootfs = store_->MountRootfs(*image, c);
  ASSERT_TRUE(rootfs.ok()) << rootfs.status().ToString();
  EXPECT_EQ(Names(*rootfs + "/l").size(), static_cast<size_t>(kLayers));
  ASSERT_TRUE(store_->UnmountRootfs(c).ok());
}

TEST_F(OverlayTest, GarbageCollectionKeepsMountedImages) {
  auto image = store_->Import(testing::TestImages() + "/busybox", "busybox");
  ASSERT_TRUE(image.ok());
  std::string c = Container("leased");
  ASSERT_TRUE(store_->MountRootfs(*image, c).ok());
  ASSERT_TRUE(store_->Remove("busybox").ok());
  auto gc = store_->GarbageCollect({}, true);
  ASSERT_TRUE(gc.ok()) << gc.status().ToString();
  EXPECT_EQ(gc->removed_layers, 0);
  EXPECT_EQ(gc->removed_blobs, 0);
  EXPECT_TRUE(fs::exists(c + "/rootfs/bin/busybox"));
  ASSERT_TRUE(store_->UnmountRootfs(c).ok());
  gc = store_->GarbageCollect();
  ASSERT_TRUE(gc.ok());
  EXPECT_EQ(gc->removed_layers, 1);
  EXPECT_EQ(gc->removed_blobs, 3);
  EXPECT_GT(gc->freed_bytes, 1'000'000);
}

TEST_F(OverlayTest, FullDiskWhileUnpackingLeavesNoPartialLayer) {
  std::string small = tmp_.File("small");
  fs::create_directories(small);
  ASSERT_EQ(::mount("tmpfs", small.c_str(), "tmpfs", 0, "size=2m"), 0) << std::strerror(errno);
  mounts_.push_back(small);
  ImageStoreOptions o;
  auto store = ImageStore::Open(small + "/store", o);
  ASSERT_TRUE(store.ok());
  LayoutWriter w(tmp_.File("layout"));
  // 8 MB of zeros compress to a few KB: the blob fits, the layer does not.
  w.Tag({{"latest", w.Image({MakeLayer(TarBuilder().File("zeros", std::string(8 << 20, '\0')))})}});
  auto image = (*store)->Import(tmp_.File("layout"), "big");
  ASSERT_FALSE(image.ok());
  EXPECT_NE(image.status().message().find("space left on device"), std::string::npos)
      << image.status().message();
  EXPECT_TRUE(fs::is_empty(small + "/store/tmp"));
  EXPECT_TRUE(fs::is_empty(small + "/store/layers/sha256"));
  EXPECT_TRUE((*store)->List()->empty());
  // Space freed, the same import works.
  ASSERT_EQ(::mount("tmpfs", small.c_str(), "tmpfs", MS_REMOUNT, "size=32m"), 0);
  EXPECT_TRUE((*store)->Import(tmp_.File("layout"), "big").ok());
}

}  // namespace
}  // namespace lintel::images
