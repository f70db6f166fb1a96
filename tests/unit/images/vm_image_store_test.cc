// VmImageStore and WriteNoCloudSeed on a temporary store, with the real
// qemu-img (and genisoimage, isoinfo). Without them the tests skip, unless
// LINTEL_REQUIRE_ROOT_TESTS=1. No root needed.
#include "images/vm_image_store.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>

#include "common/fs.h"
#include "common/json.h"
#include "images/digest.h"
#include "images/qemu_img.h"
#include "server/http/http_server.h"
#include "support/require_root.h"
#include "support/temp_dir.h"

namespace lintel::images {
namespace {

namespace fs = std::filesystem;

// A raw disk of `size` bytes with a marker at its start (the rest a hole).
void WriteRaw(const std::string& path, int64_t size, const std::string& marker = "lintel") {
  std::ofstream(path) << marker;
  fs::resize_file(path, static_cast<uintmax_t>(size));
}

void ConvertToQcow2(const std::string& raw, const std::string& qcow2) {
  auto run = RunTool({"qemu-img", "convert", "-f", "raw", "-O", "qcow2", raw, qcow2});
  ASSERT_TRUE(run.ok()) << run.error().ToString();
  ASSERT_EQ(run->exit_code, 0) << run->err;
}

int FileMode(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 ? static_cast<int>(st.st_mode & 07777) : -1;
}

size_t CountEntries(const std::string& dir) {
  size_t n = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir)) ++n;
  return n;
}

class VmImageStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    LINTEL_REQUIRE_TOOL("qemu-img");
    auto s = VmImageStore::Open(tmp_.File("store"));
    ASSERT_TRUE(s.ok()) << s.error().ToString();
    store_ = std::move(*s);
  }

  // A bundle directory: vmlinuz, initrd.img, disk.qcow2 and `manifest`.
  std::string MakeBundle(const std::string& name, const std::string& manifest) {
    std::string dir = tmp_.File(name);
    fs::create_directories(dir);
    std::ofstream(dir + "/vmlinuz") << "kernel bytes";
    std::ofstream(dir + "/initrd.img") << "initrd bytes";
    WriteRaw(dir + "/disk.raw", 1 << 20, "root fs");
    ConvertToQcow2(dir + "/disk.raw", dir + "/disk.qcow2");
    fs::remove(dir + "/disk.raw");
    std::ofstream(dir + "/vm-image.json") << manifest;
    return dir;
  }

  std::string Store(const std::string& sub) const { return store_->root() + "/" + sub; }

  lintel::testing::TempDir tmp_;
  std::unique_ptr<VmImageStore> store_;
};

TEST_F(VmImageStoreTest, ImportsARawDisk) {
  std::string raw = tmp_.File("disk.raw");
  WriteRaw(raw, 4 << 20);
  auto image = store_->Import(raw, "plain");
  ASSERT_TRUE(image.ok()) << image.error().ToString();
  EXPECT_EQ(image->name, "plain");
  EXPECT_EQ(image->disk_format, "raw");
  EXPECT_EQ(image->disk_virtual_size, 4 << 20);
  EXPECT_EQ(image->machine, "q35");
  EXPECT_EQ(image->kernel, "");
  auto digest = Sha256OfFile(raw);
  ASSERT_TRUE(digest.ok());
  EXPECT_EQ(image->id, digest->ToString());
  EXPECT_EQ(image->disk, Store("content/" + digest->hex + "/disk.raw"));
  EXPECT_EQ(FileMode(image->disk), 0444);
  EXPECT_FALSE(image->created.empty());
  // Sparse stays sparse: 4 MiB of mostly hole.
  struct stat st {};
  ASSERT_EQ(::stat(image->disk.c_str(), &st), 0);
  EXPECT_LT(st.st_blocks * 512, 1 << 20);

  auto got = store_->Get("plain");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->id, image->id);
  EXPECT_EQ(got->disk, image->disk);
}

TEST_F(VmImageStoreTest, ImportsAQcow2DiskAndNamesItAfterTheFile) {
  std::string raw = tmp_.File("disk.raw");
  WriteRaw(raw, 2 << 20);
  ConvertToQcow2(raw, tmp_.File("Debian-12.qcow2"));
  auto image = store_->Import(tmp_.File("Debian-12.qcow2"), "");
  ASSERT_TRUE(image.ok()) << image.error().ToString();
  EXPECT_EQ(image->name, "debian-12");
  EXPECT_EQ(image->disk_format, "qcow2");
  EXPECT_EQ(image->disk_virtual_size, 2 << 20);
  EXPECT_TRUE(image->disk.ends_with("/disk.qcow2"));

  // The same content again under another name: stored once.
  auto again = store_->Import(tmp_.File("Debian-12.qcow2"), "other");
  ASSERT_TRUE(again.ok()) << again.error().ToString();
  EXPECT_EQ(again->id, image->id);
  EXPECT_EQ(CountEntries(Store("content")), 1u);
  auto list = store_->List();
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].name, "debian-12");
  EXPECT_EQ((*list)[1].name, "other");
}

TEST_F(VmImageStoreTest, ImportsABundle) {
  std::string dir = MakeBundle("tiny", R"({"kernel":"vmlinuz","initrd":"initrd.img",
      "disk":"disk.qcow2","cmdline":"root=/dev/vda rw console=ttyS0","machine":"microvm"})");
  auto image = store_->Import(dir, "");
  ASSERT_TRUE(image.ok()) << image.error().ToString();
  EXPECT_EQ(image->name, "tiny");
  EXPECT_EQ(image->machine, "microvm");
  EXPECT_EQ(image->cmdline, "root=/dev/vda rw console=ttyS0");
  EXPECT_EQ(image->disk_format, "qcow2");
  EXPECT_EQ(image->disk_virtual_size, 1 << 20);
  std::string content = Store("content/" + image->id.substr(7));
  EXPECT_EQ(image->kernel, content + "/vmlinuz");
  EXPECT_EQ(image->initrd, content + "/initrd.img");
  EXPECT_EQ(ReadFile(image->kernel).value(), "kernel bytes");
  EXPECT_EQ(FileMode(image->kernel), 0444);
  EXPECT_EQ(FileMode(image->initrd), 0444);

  // The same bundle again: same id (the digest of its manifest and files).
  auto again = store_->Import(dir, "tiny2");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->id, image->id);
}

TEST_F(VmImageStoreTest, BundleDefaultsMachineFromKernel) {
  std::string dir = MakeBundle("b", R"({"kernel":"vmlinuz","disk":"disk.qcow2"})");
  auto image = store_->Import(dir, "k");
  ASSERT_TRUE(image.ok()) << image.error().ToString();
  EXPECT_EQ(image->machine, "microvm");
  EXPECT_EQ(image->initrd, "");

  std::string disk_only = MakeBundle("d", R"({"disk":"disk.qcow2"})");
  image = store_->Import(disk_only, "d");
  ASSERT_TRUE(image.ok()) << image.error().ToString();
  EXPECT_EQ(image->machine, "q35");
  EXPECT_EQ(image->kernel, "");
}

void ExpectNothingStored(const VmImageStore& store) {
  EXPECT_EQ(CountEntries(store.root() + "/content"), 0u);
  EXPECT_EQ(CountEntries(store.root() + "/tmp"), 0u);
  auto list = store.List();
  ASSERT_TRUE(list.ok());
  EXPECT_TRUE(list->empty());
}

TEST_F(VmImageStoreTest, RefusesFilesThatAreNotDisks) {
  struct Case {
    std::string name;
    std::function<void(const std::string&)> write;
    std::string error;
  };
  std::vector<Case> cases = {
      {"text", [](const std::string& p) { std::ofstream(p) << "not a disk\n"; },
       "not a whole number of 512-byte sectors"},
      {"empty", [](const std::string& p) { std::ofstream(p).flush(); },
       "not a whole number of 512-byte sectors"},
      {"truncated qcow2",
       [this](const std::string& p) {
         WriteRaw(tmp_.File("t.raw"), 1 << 20);
         ConvertToQcow2(tmp_.File("t.raw"), tmp_.File("t.qcow2"));
         std::string q = ReadFile(tmp_.File("t.qcow2")).value();
         std::ofstream(p) << q.substr(0, 100);  // a header whose tables are gone
       },
       "not a disk image qemu-img can read"},
      {"qcow2 with a backing file",
       [this](const std::string& p) {
         WriteRaw(tmp_.File("base.raw"), 1 << 20);
         auto run = RunTool({"qemu-img", "create", "-q", "-f", "qcow2", "-b", tmp_.File("base.raw"),
                             "-F", "raw", p});
         ASSERT_TRUE(run.ok() && run->exit_code == 0);
       },
       "a qcow2 with a backing file"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    std::string path = tmp_.File("bad-" + std::to_string(&c - cases.data()));
    c.write(path);
    auto image = store_->Import(path, "bad");
    ASSERT_FALSE(image.ok());
    EXPECT_EQ(image.error().code(), Code::kInvalid) << image.error().ToString();
    EXPECT_TRUE(image.error().message().starts_with(path + ": ")) << image.error().message();
    EXPECT_NE(image.error().message().find(c.error), std::string::npos) << image.error().message();
    EXPECT_EQ(image.error().message().find("/tmp/import-"), std::string::npos)
        << image.error().message();
    ExpectNothingStored(*store_);
  }
  auto missing = store_->Import(tmp_.File("nope.qcow2"), "x");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code(), Code::kNotFound);
}

TEST_F(VmImageStoreTest, RefusesBundlePathsLeavingTheBundle) {
  WriteRaw(tmp_.File("outside.raw"), 1 << 20);
  std::string escaping = MakeBundle("esc", R"({"disk":"../outside.raw"})");
  std::string absolute = MakeBundle("abs", R"({"disk":")" + tmp_.File("outside.raw") + R"("})");
  std::string via_link = MakeBundle("lnk", R"({"disk":"link.raw"})");
  fs::create_symlink(tmp_.File("outside.raw"), via_link + "/link.raw");
  std::string kernel_escaping =
      MakeBundle("kern", R"({"disk":"disk.qcow2","kernel":"../esc/../../../etc/passwd"})");
  for (const auto& dir : {escaping, absolute, via_link, kernel_escaping}) {
    SCOPED_TRACE(dir);
    auto image = store_->Import(dir, "esc");
    ASSERT_FALSE(image.ok());
    EXPECT_EQ(image.error().code(), Code::kInvalid);
    EXPECT_TRUE(image.error().message().find("leaves the bundle") != std::string::npos ||
                image.error().message().find("must be a path inside the bundle") !=
                    std::string::npos)
        << image.error().message();
  }
  std::string no_manifest = tmp_.File("empty-dir");
  fs::create_directories(no_manifest);
  auto image = store_->Import(no_manifest, "e");
  ASSERT_FALSE(image.ok());
  EXPECT_EQ(image.error().message(), no_manifest + ": not a VM image bundle (no vm-image.json)");
  std::string bad_machine = MakeBundle("m", R"({"disk":"disk.qcow2","machine":"microvm"})");
  image = store_->Import(bad_machine, "m");
  ASSERT_FALSE(image.ok());
  EXPECT_NE(image.error().message().find("machine microvm needs a kernel"), std::string::npos);
  ExpectNothingStored(*store_);
}

TEST_F(VmImageStoreTest, RefusesBadNames) {
  WriteRaw(tmp_.File("d.raw"), 1 << 20);
  for (const char* name : {"Upper", "-dash", "a/b", "a b", "x:latest"}) {
    SCOPED_TRACE(name);
    auto image = store_->Import(tmp_.File("d.raw"), name);
    ASSERT_FALSE(image.ok());
    EXPECT_EQ(image.error().code(), Code::kInvalid);
  }
}

TEST_F(VmImageStoreTest, ClonesAndCreatesDisks) {
  std::string raw = tmp_.File("d.raw");
  WriteRaw(raw, 8 << 20);
  ConvertToQcow2(raw, tmp_.File("d.qcow2"));
  auto image = store_->Import(tmp_.File("d.qcow2"), "base");
  ASSERT_TRUE(image.ok()) << image.error().ToString();

  std::string clone = tmp_.File("vm/boot.qcow2");
  fs::create_directories(tmp_.File("vm"));
  auto t0 = std::chrono::steady_clock::now();
  ASSERT_TRUE(store_->CloneDisk(*image, clone, 64 << 20).ok());
  auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0)
          .count();
  EXPECT_LT(ms, 1000) << "CloneDisk took " << ms << " ms";
  RecordProperty("clone_ms", static_cast<int>(ms));
  auto info = QemuImgInfo(clone);
  ASSERT_TRUE(info.ok()) << info.error().ToString();
  EXPECT_EQ(info->format, "qcow2");
  EXPECT_EQ(info->backing_file, image->disk);
  EXPECT_EQ(info->virtual_size, 64 << 20);
  EXPECT_EQ(Qcow2BackingFile(clone).value(), image->disk);

  // Smaller than the base: the base's size (never shrinks).
  std::string small = tmp_.File("vm/small.qcow2");
  ASSERT_TRUE(store_->CloneDisk(*image, small, 1 << 20).ok());
  EXPECT_EQ(QemuImgInfo(small)->virtual_size, 8 << 20);

  Status exists = store_->CloneDisk(*image, clone);
  EXPECT_EQ(exists.code(), Code::kAlreadyExists);

  std::string data = tmp_.File("vm/data.qcow2");
  ASSERT_TRUE(store_->CreateEmptyDisk(data, (1 << 30) + 1).ok());
  info = QemuImgInfo(data);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->format, "qcow2");
  EXPECT_EQ(info->backing_file, "");
  EXPECT_EQ(info->virtual_size, (1 << 30) + 512);
  EXPECT_EQ(store_->CreateEmptyDisk(data, 1 << 20).code(), Code::kAlreadyExists);
  EXPECT_EQ(store_->CreateEmptyDisk(tmp_.File("vm/zero.qcow2"), 0).code(), Code::kInvalid);
}

TEST_F(VmImageStoreTest, RemoveKeepsTheBaseWhileAClonesExists) {
  WriteRaw(tmp_.File("d.raw"), 1 << 20);
  auto image = store_->Import(tmp_.File("d.raw"), "base");
  ASSERT_TRUE(image.ok());
  std::string clone = tmp_.File("clone.qcow2");
  ASSERT_TRUE(store_->CloneDisk(*image, clone).ok());

  ASSERT_TRUE(store_->Remove("base").ok());
  auto gone = store_->Get("base");
  ASSERT_FALSE(gone.ok());
  EXPECT_EQ(gone.error().code(), Code::kNotFound);
  EXPECT_EQ(gone.error().message(), "VM image base not found");
  EXPECT_TRUE(FileExists(image->disk)) << "the clone still needs its base";
  auto freed = store_->GarbageCollect();
  ASSERT_TRUE(freed.ok());
  EXPECT_EQ(*freed, 0);
  EXPECT_TRUE(FileExists(image->disk));

  // A file at the clone's path that is not that clone does not count.
  fs::remove(clone);
  std::ofstream(clone) << "something else";
  freed = store_->GarbageCollect();
  ASSERT_TRUE(freed.ok());
  EXPECT_GT(*freed, 0);
  EXPECT_FALSE(FileExists(image->disk));
  EXPECT_EQ(CountEntries(Store("content")), 0u);
  EXPECT_EQ(CountEntries(Store("clones")), 0u);

  Status missing = store_->Remove("base");
  EXPECT_EQ(missing.code(), Code::kNotFound);
  EXPECT_EQ(missing.message(), "VM image base not found");
}

TEST_F(VmImageStoreTest, RemoveDeletesContentNoOneUses) {
  WriteRaw(tmp_.File("a.raw"), 1 << 20, "a");
  WriteRaw(tmp_.File("b.raw"), 1 << 20, "b");
  auto a = store_->Import(tmp_.File("a.raw"), "a");
  auto b = store_->Import(tmp_.File("b.raw"), "b");
  ASSERT_TRUE(a.ok() && b.ok());
  ASSERT_TRUE(store_->Import(tmp_.File("a.raw"), "a2").ok());
  ASSERT_TRUE(store_->Remove("a").ok());
  EXPECT_TRUE(FileExists(a->disk)) << "a2 still names it";
  ASSERT_TRUE(store_->Remove("a2").ok());
  EXPECT_FALSE(FileExists(a->disk));
  // Re-importing onto a name releases the old content.
  ASSERT_TRUE(store_->Import(tmp_.File("a.raw"), "b").ok());
  EXPECT_FALSE(FileExists(b->disk));
  auto list = store_->List();
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ((*list)[0].name, "b");
  EXPECT_EQ((*list)[0].id, a->id);
}

// Serves one file, behind a redirect.
class FileServer : public http::Handler {
 public:
  explicit FileServer(std::string body) : body_(std::move(body)) {}
  void Handle(http::Request&& req, std::unique_ptr<http::Responder> r) override {
    http::Response out;
    if (req.path == "/images/disk.qcow2") {
      out.status = 302;
      out.headers.Set("Location", "/blobs/1");
    } else if (req.path == "/blobs/1") {
      out.headers.Set("Content-Type", "application/octet-stream");
      out.body = body_;
    } else {
      out.status = 404;
    }
    r->Respond(std::move(out));
  }

 private:
  std::string body_;
};

TEST_F(VmImageStoreTest, ImportsFromAUrl) {
  WriteRaw(tmp_.File("d.raw"), 1 << 20);
  ConvertToQcow2(tmp_.File("d.raw"), tmp_.File("d.qcow2"));
  FileServer handler(ReadFile(tmp_.File("d.qcow2")).value());
  http::ServerOptions so;
  so.worker_threads = 2;
  http::HttpServer server(so, &handler);
  ASSERT_TRUE(server.Start().ok());
  std::string base = "http://127.0.0.1:" + std::to_string(server.port());

  auto image = store_->Import(base + "/images/disk.qcow2?x=1", "");
  ASSERT_TRUE(image.ok()) << image.error().ToString();
  EXPECT_EQ(image->name, "disk");
  EXPECT_EQ(image->disk_format, "qcow2");
  EXPECT_EQ(image->id, Sha256OfFile(tmp_.File("d.qcow2"))->ToString());

  auto missing = store_->Import(base + "/nope.qcow2", "");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code(), Code::kNotFound) << missing.error().ToString();
  EXPECT_EQ(CountEntries(Store("tmp")), 0u);
}

TEST(CloudInitSeedTest, WritesANoCloudIso) {
  LINTEL_REQUIRE_TOOL("genisoimage");
  LINTEL_REQUIRE_TOOL("isoinfo");
  lintel::testing::TempDir tmp;
  CloudInitSeed seed;
  seed.instance_id = "default/web-1/uid-123";
  seed.hostname = "web-1";
  seed.user_data = "#!/bin/sh\necho hello\n";
  seed.network_config = "version: 2\nethernets:\n  eth0:\n    dhcp4: true\n";
  seed.ssh_authorized_keys = {"ssh-ed25519 AAAA key@host"};
  std::string iso = tmp.File("seed.iso");
  Status s = WriteNoCloudSeed(seed, iso);
  ASSERT_TRUE(s.ok()) << s.ToString();

  auto pvd = RunTool({"isoinfo", "-d", "-i", iso});
  ASSERT_TRUE(pvd.ok());
  EXPECT_NE(pvd->out.find("Volume id: cidata"), std::string::npos) << pvd->out;
  EXPECT_NE(pvd->out.find("Joliet"), std::string::npos) << pvd->out;
  EXPECT_NE(pvd->out.find("Rock Ridge"), std::string::npos) << pvd->out;
  auto file = [&iso](const std::string& name) {
    auto run = RunTool({"isoinfo", "-R", "-i", iso, "-x", "/" + name});
    return run.ok() ? run->out : std::string();
  };
  EXPECT_EQ(file("user-data"), seed.user_data);
  EXPECT_EQ(file("network-config"), seed.network_config);
  EXPECT_EQ(file("meta-data"),
            "instance-id: \"default/web-1/uid-123\"\n"
            "local-hostname: \"web-1\"\n"
            "public-keys:\n"
            "  - \"ssh-ed25519 AAAA key@host\"\n");
  // Nothing left beside it.
  EXPECT_EQ(CountEntries(tmp.path()), 1u);

  // Without network-config, none on the disk; rewriting replaces the file.
  seed.network_config.clear();
  ASSERT_TRUE(WriteNoCloudSeed(seed, iso).ok());
  auto ls = RunTool({"isoinfo", "-R", "-f", "-i", iso});
  ASSERT_TRUE(ls.ok());
  EXPECT_EQ(ls->out.find("network-config"), std::string::npos) << ls->out;

  seed.hostname = "a\nb";
  EXPECT_EQ(WriteNoCloudSeed(seed, iso).code(), Code::kInvalid);
  seed.hostname = "a";
  seed.instance_id.clear();
  EXPECT_EQ(WriteNoCloudSeed(seed, iso).code(), Code::kInvalid);
}

}  // namespace
}  // namespace lintel::images
