#include "images/layer_unpack.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <climits>
#include <cstdlib>
#include <filesystem>

#include "common/fs.h"
#include "support/temp_dir.h"
#include "unit/images/tar_builder.h"

namespace lintel::images {
namespace {

using testing::Compression;
using testing::LayoutWriter;
using testing::TarBuilder;

class LayerUnpackTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char real[PATH_MAX];
    ASSERT_NE(::realpath(tmp_.path().c_str(), real), nullptr);
    base_ = real;
    dest_ = base_ + "/layer";
    ASSERT_EQ(::mkdir(dest_.c_str(), 0755), 0);
  }
  Result<UnpackStats> Unpack(const std::string& blob) {
    std::string path = base_ + "/blob";
    LayoutWriter::Write(path, blob);
    return UnpackLayer(path, dest_, options_);
  }
  std::string At(const std::string& rel) const { return dest_ + "/" + rel; }

  lintel::testing::TempDir tmp_;
  std::string base_;
  std::string dest_;
  UnpackOptions options_ = DefaultUnpackOptions();
};

TEST(CleanLayerPathTest, NormalisesAndRefusesDotDot) {
  EXPECT_EQ(*CleanLayerPath("./a//b/"), "a/b");
  EXPECT_EQ(*CleanLayerPath("/etc/passwd"), "etc/passwd");
  EXPECT_EQ(*CleanLayerPath("."), "");
  EXPECT_EQ(*CleanLayerPath("a/./b"), "a/b");
  EXPECT_FALSE(CleanLayerPath("../x").ok());
  EXPECT_FALSE(CleanLayerPath("a/../../x").ok());
  EXPECT_FALSE(CleanLayerPath("a/..").ok());
}

TEST_F(LayerUnpackTest, RestoresTreeAndComputesDiffIdForEveryCompression) {
  TarBuilder t;
  t.Dir("./etc", 0755)
      .File("./etc/motd", "hello\n", 0640, 1234, 2345)
      .Dir("./bin", 0711)
      .File("./bin/tool", std::string(100000, 'x'), 04755)
      .Symlink("./bin/sh", "/bin/busybox")
      .Symlink("./etc/rel", "../bin/tool")
      .Hardlink("./etc/motd2", "./etc/motd")
      .Dir("./ro", 0555)
      .File("./ro/f", "r");
  for (auto c : {Compression::kNone, Compression::kGzip, Compression::kZstd}) {
    SCOPED_TRACE(static_cast<int>(c));
    ASSERT_TRUE(std::filesystem::remove_all(dest_) > 0 || true);
    ::chmod(At("ro").c_str(), 0755);
    std::filesystem::remove_all(dest_);
    ASSERT_EQ(::mkdir(dest_.c_str(), 0755), 0);
    auto layer = testing::MakeLayer(t, c);
    auto stats = Unpack(layer.blob);
    ASSERT_TRUE(stats.ok()) << stats.status().ToString();
    EXPECT_EQ(stats->diff_id, layer.diff_id);
    EXPECT_EQ(stats->bytes, 6 + 100000 + 1);
    EXPECT_EQ(*ReadFile(At("etc/motd")), "hello\n");
    struct stat st {
    }, st2{};
    ASSERT_EQ(::lstat(At("etc/motd").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0640u);
    EXPECT_EQ(st.st_mtime, 1700000000);
    if (::geteuid() == 0) {
      EXPECT_EQ(st.st_uid, 1234u);
      EXPECT_EQ(st.st_gid, 2345u);
      ASSERT_EQ(::lstat(At("bin/tool").c_str(), &st2), 0);
      EXPECT_EQ(st2.st_mode & 07777, 04755u);  // setuid kept
    }
    ASSERT_EQ(::lstat(At("etc/motd2").c_str(), &st2), 0);
    EXPECT_EQ(st.st_ino, st2.st_ino);  // a hard link, not a copy
    EXPECT_EQ(std::filesystem::read_symlink(At("bin/sh")), "/bin/busybox");
    EXPECT_EQ(std::filesystem::read_symlink(At("etc/rel")), "../bin/tool");
    ASSERT_EQ(::lstat(At("bin").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0711u);
    ASSERT_EQ(::lstat(At("ro").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0555u);  // fixed up after its child was written
  }
}

TEST_F(LayerUnpackTest, ConvertsWhiteoutsToOverlayForm) {
  TarBuilder t;
  t.Dir("etc")
      .Whiteout("etc/gone")
      .Dir("var")
      .Opaque("var")
      .File("var/new", "n")
      .Whiteout("deep/er/x");  // the directories do not exist in this layer
  auto stats = Unpack(testing::MakeLayer(t).blob);
  ASSERT_TRUE(stats.ok()) << stats.status().ToString();
  EXPECT_EQ(stats->whiteouts, 2);
  EXPECT_EQ(stats->opaque_dirs, 1);
  for (const char* wh : {"etc/gone", "deep/er/x"}) {
    SCOPED_TRACE(wh);
    struct stat st {};
    ASSERT_EQ(::lstat(At(wh).c_str(), &st), 0);
    EXPECT_TRUE(S_ISCHR(st.st_mode));
    EXPECT_EQ(st.st_rdev, makedev(0, 0));
  }
  EXPECT_FALSE(FileExists(At("etc/.wh.gone")));
  EXPECT_FALSE(FileExists(At("var/.wh..wh..opq")));
  char value[8] = {};
  std::string key = options_.overlay_xattr_prefix + "opaque";
  ASSERT_EQ(::lgetxattr(At("var").c_str(), key.c_str(), value, sizeof(value)), 1);
  EXPECT_EQ(value[0], 'y');
  EXPECT_EQ(*ReadFile(At("var/new")), "n");
  EXPECT_EQ(::lgetxattr(At("etc").c_str(), key.c_str(), value, sizeof(value)), -1);
}

TEST_F(LayerUnpackTest, DropsOverlayXattrsTheLayerCarries) {
  std::string key = options_.overlay_xattr_prefix + "redirect";
  TarBuilder t;
  t.FileWithXattr("f", "x", key, "/etc");
  auto stats = Unpack(testing::MakeLayer(t).blob);
  ASSERT_TRUE(stats.ok()) << stats.status().ToString();
  char value[16];
  EXPECT_EQ(::lgetxattr(At("f").c_str(), key.c_str(), value, sizeof(value)), -1);
}

TEST_F(LayerUnpackTest, RefusesPathsEscapingTheLayer) {
  std::string outside = base_ + "/outside";
  ASSERT_EQ(::mkdir(outside.c_str(), 0755), 0);
  struct Case {
    const char* name;
    TarBuilder tar;
  };
  std::vector<Case> cases;
  cases.push_back({"dotdot", TarBuilder().File("../escaped", "x")});
  cases.push_back({"dotdot inside", TarBuilder().Dir("a").File("a/../../escaped", "x")});
  cases.push_back(
      {"through symlink", TarBuilder().Symlink("link", outside).File("link/escaped", "x")});
  cases.push_back(
      {"relative symlink", TarBuilder().Symlink("link", "../outside").File("link/escaped", "x")});
  cases.push_back(
      {"whiteout through symlink", TarBuilder().Symlink("link", outside).Whiteout("link/escaped")});
  cases.push_back({"opaque through symlink", TarBuilder().Symlink("link", outside).Opaque("link")});
  cases.push_back({"hardlink outside", TarBuilder().Hardlink("h", "../outside/target")});
  cases.push_back({"hardlink through symlink",
                   TarBuilder().Symlink("link", outside).Hardlink("h", "link/target")});
  LayoutWriter::Write(outside + "/target", "secret");
  for (auto& c : cases) {
    SCOPED_TRACE(c.name);
    std::filesystem::remove_all(dest_);
    ASSERT_EQ(::mkdir(dest_.c_str(), 0755), 0);
    auto stats = Unpack(c.tar.Build());
    EXPECT_FALSE(stats.ok());
    EXPECT_FALSE(FileExists(base_ + "/escaped"));
    EXPECT_FALSE(FileExists(outside + "/escaped"));
    EXPECT_EQ(std::filesystem::directory_iterator(outside)->path().filename(), "target");
    EXPECT_FALSE(FileExists(At("h")));
  }
}

TEST_F(LayerUnpackTest, DamagedBlobsAreErrors) {
  TarBuilder t;
  t.File("big", std::string(200000, 'q'));
  std::string gz = t.Build(Compression::kGzip);
  std::string truncated = gz.substr(0, gz.size() / 2);
  auto r1 = Unpack(truncated);
  ASSERT_FALSE(r1.ok());
  std::filesystem::remove_all(dest_);
  ASSERT_EQ(::mkdir(dest_.c_str(), 0755), 0);
  std::string corrupt = gz;
  corrupt[corrupt.size() / 2] ^= 0x55;
  EXPECT_FALSE(Unpack(corrupt).ok());
  std::filesystem::remove_all(dest_);
  ASSERT_EQ(::mkdir(dest_.c_str(), 0755), 0);
  auto empty = Unpack("");
  ASSERT_FALSE(empty.ok());
  EXPECT_NE(empty.status().message().find("empty"), std::string::npos) << empty.status().ToString();
}

}  // namespace
}  // namespace lintel::images
