// `lintel image` end to end on a local store: import, ls, rm, prune and the
// one-line errors, through the real binary.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <string>

#include "support/temp_dir.h"
#include "unit/images/test_images.h"

namespace lintel::images {
namespace {

struct CliRun {
  int code = -1;
  std::string out;  // stdout and stderr
};

std::string ReadFileOrEmpty(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

CliRun Lintel(const std::string& args) {
  CliRun r;
  std::string cmd = std::string(LINTEL_BINARY_PATH) + " " + args + " 2>&1";
  FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) return r;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), p)) > 0) r.out.append(buf.data(), n);
  int status = ::pclose(p);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

TEST(ImageCliTest, ImportListRemovePrune) {
  lintel::testing::TempDir tmp;
  std::string data = " --data-dir " + tmp.File("data");
  const std::string& images = testing::TestImages();

  CliRun imported = Lintel("image import " + images + "/busybox --name busybox" + data);
  ASSERT_EQ(imported.code, 0) << imported.out;
  EXPECT_TRUE(imported.out.starts_with("imported docker.io/library/busybox:latest sha256:"))
      << imported.out;
  ASSERT_EQ(Lintel("image import " + images + "/busybox.tar --name other:v2" + data).code, 0);

  CliRun ls = Lintel("image ls" + data);
  ASSERT_EQ(ls.code, 0) << ls.out;
  EXPECT_TRUE(ls.out.starts_with("NAME ")) << ls.out;
  EXPECT_NE(ls.out.find("\nbusybox "), std::string::npos) << ls.out;
  EXPECT_NE(ls.out.find("\nother "), std::string::npos) << ls.out;
  EXPECT_NE(ls.out.find(" v2 "), std::string::npos) << ls.out;
  EXPECT_NE(ls.out.find("MB"), std::string::npos) << ls.out;
  EXPECT_NE(ls.out.find(" ago"), std::string::npos) << ls.out;

  CliRun rm = Lintel("image rm busybox" + data);
  ASSERT_EQ(rm.code, 0) << rm.out;
  EXPECT_NE(rm.out.find("untagged docker.io/library/busybox:latest"), std::string::npos);
  EXPECT_NE(rm.out.find("freed"), std::string::npos);
  CliRun prune = Lintel("image prune" + data);
  ASSERT_EQ(prune.code, 0) << prune.out;
  EXPECT_NE(prune.out.find("freed 0B (0 blobs, 0 layers)"), std::string::npos) << prune.out;

  CliRun missing = Lintel("image rm busybox" + data);
  EXPECT_EQ(missing.code, 1);
  EXPECT_EQ(missing.out, "error: image rm busybox: image \"busybox\" not found\n");

  std::string junk_path = tmp.File("junk.txt");
  std::ofstream(junk_path) << "not an image\n";
  CliRun junk = Lintel("image import " + junk_path + data);
  EXPECT_EQ(junk.code, 1);
  EXPECT_EQ(junk.out,
            "error: image import " + junk_path + ": not an OCI layout or docker archive\n");
}

// VM images share the commands: a bundle directory and a disk file go to
// DATA/images/vm, ls shows both kinds, rm takes either.
TEST(ImageCliTest, VmImages) {
  lintel::testing::TempDir tmp;
  std::string data = " --data-dir " + tmp.File("data");
  std::string tiny = testing::TinyVmImage();

  CliRun imported = Lintel("image import " + tiny + " --name tiny" + data);
  ASSERT_EQ(imported.code, 0) << imported.out;
  EXPECT_TRUE(imported.out.starts_with("imported vm tiny sha256:")) << imported.out;
  EXPECT_NE(imported.out.find("(microvm, "), std::string::npos) << imported.out;
  CliRun disk = Lintel("image import " + tiny + "/disk.qcow2 --name tiny-disk" + data);
  ASSERT_EQ(disk.code, 0) << disk.out;
  EXPECT_NE(disk.out.find("(q35, "), std::string::npos) << disk.out;
  ASSERT_EQ(Lintel("image import " + testing::TestImages() + "/busybox" + data).code, 0);

  CliRun ls = Lintel("image ls" + data);
  ASSERT_EQ(ls.code, 0) << ls.out;
  EXPECT_TRUE(ls.out.starts_with("NAME ")) << ls.out;
  EXPECT_NE(ls.out.find(" KIND "), std::string::npos) << ls.out;
  EXPECT_NE(ls.out.find("\ntiny "), std::string::npos) << ls.out;
  EXPECT_NE(ls.out.find("\ntiny-disk "), std::string::npos) << ls.out;
  EXPECT_NE(ls.out.find(" vm "), std::string::npos) << ls.out;
  EXPECT_NE(ls.out.find(" oci "), std::string::npos) << ls.out;
  std::string refs = ReadFileOrEmpty(tmp.File("data/images/vm/refs.json"));
  EXPECT_NE(refs.find("\"tiny\""), std::string::npos) << refs;

  CliRun rm = Lintel("image rm tiny-disk" + data);
  ASSERT_EQ(rm.code, 0) << rm.out;
  EXPECT_EQ(rm.out, "removed vm tiny-disk\n");
  ls = Lintel("image ls" + data);
  EXPECT_EQ(ls.out.find("tiny-disk"), std::string::npos) << ls.out;
  EXPECT_NE(ls.out.find("\ntiny "), std::string::npos) << ls.out;

  std::string junk = tmp.File("junk.img");
  std::ofstream(junk) << "not a disk";
  CliRun bad = Lintel("image import " + junk + data);
  EXPECT_EQ(bad.code, 1);
  EXPECT_EQ(bad.out, "error: image import " + junk +
                         ": not a qcow2 or raw disk image (10 bytes, not a whole number of "
                         "512-byte sectors)\n");
}

}  // namespace
}  // namespace lintel::images
