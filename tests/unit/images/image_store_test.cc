#include "images/image_store.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <thread>

#include "common/fs.h"
#include "support/temp_dir.h"
#include "unit/images/tar_builder.h"
#include "unit/images/test_images.h"

namespace lintel::images {
namespace {

namespace fs = std::filesystem;
using testing::LayoutWriter;
using testing::MakeLayer;
using testing::TarBuilder;
using testing::TestImages;

size_t CountEntries(const std::string& dir) {
  std::error_code ec;
  return static_cast<size_t>(std::distance(fs::directory_iterator(dir, ec), {}));
}

class ImageStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ImageStoreOptions o;
    o.sync = false;
    auto s = ImageStore::Open(tmp_.File("store"), o);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(*s);
  }
  std::string Root() const { return store_->root(); }

  lintel::testing::TempDir tmp_;
  std::unique_ptr<ImageStore> store_;
};

TEST_F(ImageStoreTest, ImportsTheBusyboxTestImage) {
  auto t0 = std::chrono::steady_clock::now();
  auto image = store_->Import(TestImages() + "/busybox", "busybox");
  ASSERT_TRUE(image.ok()) << image.status().ToString();
  auto ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0);
  std::cout << "[ measure ] import busybox OCI layout: " << ms.count() << " ms\n";
  EXPECT_EQ(image->reference, "docker.io/library/busybox:latest");
  EXPECT_EQ(image->config.cmd, std::vector<std::string>{"/bin/sh"});
  ASSERT_EQ(image->config.env.size(), 1u);
  EXPECT_TRUE(image->config.env[0].starts_with("PATH="));
  ASSERT_EQ(image->layers.size(), 1u);
  const std::string& layer = image->layers[0];
  EXPECT_TRUE(FileExists(layer + "/bin/busybox"));
  EXPECT_EQ(fs::read_symlink(layer + "/bin/sh"), "/bin/busybox");
  EXPECT_FALSE(fs::is_symlink(layer + "/bin/busybox"));
  EXPECT_NE(ReadFile(layer + "/etc/passwd")->find("root:x:0:0"), std::string::npos);
  EXPECT_GT(image->size, 1'000'000);
  EXPECT_EQ(store_->RootfsLowerDirs(*image), image->layers);

  for (const char* ref : {"busybox", "busybox:latest", "docker.io/library/busybox"}) {
    SCOPED_TRACE(ref);
    auto r = store_->Resolve(ref);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r->digest, image->digest);
  }
  EXPECT_EQ(store_->Resolve(image->digest.ToString())->digest, image->digest);
  EXPECT_EQ(store_->Resolve(image->digest.Short())->digest, image->digest);
  EXPECT_EQ(store_->Resolve("busybox@" + image->digest.ToString())->digest, image->digest);
  auto missing = store_->Resolve("busybox:nope");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), Code::kNotFound);

  auto list = store_->List();
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ((*list)[0].name, "busybox");
  EXPECT_EQ((*list)[0].tag, "latest");
  EXPECT_EQ((*list)[0].digest, image->digest);
  EXPECT_EQ((*list)[0].size, image->size);
  EXPECT_EQ((*list)[0].created, "2024-01-01T00:00:00Z");

  // Importing again changes nothing and is quick: blobs and the layer are there.
  auto again = store_->Import(TestImages() + "/busybox", "busybox");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->digest, image->digest);
  EXPECT_EQ(CountEntries(Root() + "/tmp"), 0u);
}

TEST_F(ImageStoreTest, DockerArchiveSharesTheLayer) {
  auto oci = store_->Import(TestImages() + "/busybox", "");
  ASSERT_TRUE(oci.ok()) << oci.status().ToString();
  EXPECT_EQ(oci->reference, "docker.io/library/busybox:latest");  // from the directory name
  auto docker = store_->Import(TestImages() + "/busybox.tar", "bb-docker:v1");
  ASSERT_TRUE(docker.ok()) << docker.status().ToString();
  EXPECT_EQ(docker->reference, "docker.io/library/bb-docker:v1");
  EXPECT_EQ(docker->config.cmd, oci->config.cmd);
  EXPECT_EQ(docker->layers, oci->layers);  // one unpacked copy
  EXPECT_EQ(CountEntries(Root() + "/layers/sha256"), 1u);
  EXPECT_EQ(CountEntries(Root() + "/tmp"), 0u);
  // Without a name, the archive's RepoTags name it; the manifest is generated
  // deterministically.
  auto named = store_->Import(TestImages() + "/busybox.tar");
  ASSERT_TRUE(named.ok());
  EXPECT_EQ(named->reference, "docker.io/library/busybox:latest");
  EXPECT_EQ(named->digest, docker->digest);
}

TEST_F(ImageStoreTest, ImportsWhatSkopeoWrites) {
  if (::system("command -v skopeo >/dev/null 2>&1") != 0) GTEST_SKIP() << "skopeo not installed";
  std::string src = "oci:" + TestImages() + "/busybox:latest";
  for (std::string dest : {"docker-archive:" + tmp_.File("s.tar") + ":skopeo/bb:1",
                           "oci-archive:" + tmp_.File("o.tar") + ":2"}) {
    SCOPED_TRACE(dest);
    std::string cmd = "skopeo copy -q " + src + " " + dest + " >/dev/null 2>&1";
    ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  }
  auto docker = store_->Import(tmp_.File("s.tar"));
  ASSERT_TRUE(docker.ok()) << docker.status().ToString();
  EXPECT_EQ(docker->reference, "docker.io/skopeo/bb:1");
  auto oci = store_->Import(tmp_.File("o.tar"), "fromoci");
  ASSERT_TRUE(oci.ok()) << oci.status().ToString();
  EXPECT_EQ(oci->reference, "docker.io/library/fromoci:2");
  EXPECT_EQ(docker->layers, oci->layers);
}

TEST_F(ImageStoreTest, ImportsAnOciLayoutTarAndRefusesOtherFiles) {
  std::string tar = tmp_.File("layout.tar.gz");
  std::string cmd = "tar -C " + TestImages() + "/busybox -czf " + tar + " .";
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  auto image = store_->Import(tar, "packed");
  ASSERT_TRUE(image.ok()) << image.status().ToString();
  EXPECT_EQ(image->reference, "docker.io/library/packed:latest");

  LayoutWriter::Write(tmp_.File("junk"), "this is not an archive");
  auto junk = store_->Import(tmp_.File("junk"), "x");
  ASSERT_FALSE(junk.ok());
  EXPECT_EQ(junk.status().message(),
            "image import " + tmp_.File("junk") + ": not an OCI layout or docker archive");
  fs::create_directories(tmp_.File("emptydir"));
  EXPECT_NE(store_->Import(tmp_.File("emptydir"), "x")
                .status()
                .message()
                .find("not an OCI layout or docker archive"),
            std::string::npos);
  auto none = store_->Import(tmp_.File("nonexistent"), "x");
  EXPECT_EQ(none.status().code(), Code::kNotFound);
  EXPECT_EQ(CountEntries(Root() + "/tmp"), 0u);
}

TEST_F(ImageStoreTest, TamperedBlobIsRefusedAndLeavesNothing) {
  LayoutWriter w(tmp_.File("layout"));
  auto layer = MakeLayer(TarBuilder().File("a", "original"));
  Descriptor m = w.Image({layer});
  w.Tag({{"latest", m}});
  // Same size, different content.
  auto bad = MakeLayer(TarBuilder().File("a", "modified"));
  std::string path = tmp_.File("layout/blobs/sha256/" + Sha256Of(layer.blob).hex);
  LayoutWriter::Write(path, bad.blob);
  auto image = store_->Import(tmp_.File("layout"), "tampered");
  ASSERT_FALSE(image.ok());
  EXPECT_NE(image.status().message().find("digest mismatch"), std::string::npos)
      << image.status().message();
  EXPECT_EQ(store_->List()->size(), 0u);
  EXPECT_EQ(CountEntries(Root() + "/tmp"), 0u);
  EXPECT_EQ(CountEntries(Root() + "/layers/sha256"), 0u);
}

TEST_F(ImageStoreTest, WrongDiffIdIsRefused) {
  LayoutWriter w(tmp_.File("layout"));
  auto layer = MakeLayer(TarBuilder().File("a", "1"));
  layer.diff_id = Sha256Of("something else");
  w.Tag({{"latest", w.Image({layer})}});
  auto image = store_->Import(tmp_.File("layout"), "wrongdiff");
  ASSERT_FALSE(image.ok());
  EXPECT_NE(image.status().message().find("diff id mismatch"), std::string::npos)
      << image.status().message();
  EXPECT_EQ(CountEntries(Root() + "/layers/sha256"), 0u);
  EXPECT_EQ(CountEntries(Root() + "/tmp"), 0u);
}

TEST_F(ImageStoreTest, PicksTagsAndPlatformsInALayout) {
  LayoutWriter w(tmp_.File("layout"));
  Descriptor arm = w.Image({MakeLayer(TarBuilder().File("arch", "arm64"))}, {}, "arm64");
  Descriptor amd = w.Image({MakeLayer(TarBuilder().File("arch", "amd64"))}, {}, "amd64");
  Descriptor v1 = w.Image({MakeLayer(TarBuilder().File("v", "1"))});
  w.Tag({{"multi", w.Index({arm, amd})}, {"v1", v1}});
  auto multi = store_->Import(tmp_.File("layout"), "app:multi");
  ASSERT_TRUE(multi.ok()) << multi.status().ToString();
  EXPECT_EQ(multi->digest, amd.digest);
  EXPECT_EQ(*ReadFile(multi->layers[0] + "/arch"), "amd64");
  auto one = store_->Import(tmp_.File("layout"), "app:v1");
  ASSERT_TRUE(one.ok());
  EXPECT_EQ(one->digest, v1.digest);
  auto ambiguous = store_->Import(tmp_.File("layout"), "app");
  ASSERT_FALSE(ambiguous.ok());
  EXPECT_NE(ambiguous.status().message().find("multi, v1"), std::string::npos)
      << ambiguous.status().message();
}

TEST_F(ImageStoreTest, RemoveAndGarbageCollect) {
  LayoutWriter w(tmp_.File("layout"));
  auto shared = MakeLayer(TarBuilder().File("base", std::string(5000, 'b')));
  auto only_a = MakeLayer(TarBuilder().File("a", std::string(7000, 'a')));
  auto only_b = MakeLayer(TarBuilder().File("b", "b"));
  Descriptor a = w.Image({shared, only_a}, {{"Cmd", {"a"}}});
  Descriptor b = w.Image({shared, only_b}, {{"Cmd", {"b"}}});
  w.Tag({{"a", a}, {"b", b}});
  ASSERT_TRUE(store_->Import(tmp_.File("layout"), "img:a").ok());
  ASSERT_TRUE(store_->Import(tmp_.File("layout"), "img:b").ok());
  ASSERT_TRUE(store_->Import(tmp_.File("layout"), "alias:a").ok());
  EXPECT_EQ(CountEntries(Root() + "/layers/sha256"), 3u);

  // Nothing is garbage yet; leftovers of a crash are.
  fs::create_directories(Root() + "/tmp/layer-dead/root");
  fs::create_directories(Root() + "/layers/sha256/" + std::string(64, 'e') + "/root");
  auto gc = store_->GarbageCollect();
  ASSERT_TRUE(gc.ok()) << gc.status().ToString();
  EXPECT_EQ(gc->removed_blobs, 0);
  EXPECT_EQ(gc->removed_layers, 1);  // the incomplete one
  EXPECT_EQ(CountEntries(Root() + "/tmp"), 0u);

  EXPECT_EQ(store_->Remove("nope").status().code(), Code::kNotFound);
  auto removed = store_->Remove("img:a");
  ASSERT_TRUE(removed.ok());
  EXPECT_EQ(*removed, std::vector<std::string>{"docker.io/library/img:a"});
  gc = store_->GarbageCollect();
  ASSERT_TRUE(gc.ok());
  EXPECT_EQ(gc->removed_blobs, 0);  // alias:a still names it

  removed = store_->Remove(a.digest.Short());  // by digest: every name
  ASSERT_TRUE(removed.ok());
  EXPECT_EQ(*removed, std::vector<std::string>{"docker.io/library/alias:a"});
  gc = store_->GarbageCollect();
  ASSERT_TRUE(gc.ok());
  EXPECT_EQ(gc->removed_blobs, 3);  // a's manifest, config and only_a
  EXPECT_EQ(gc->removed_layers, 1);
  EXPECT_GE(gc->freed_bytes, 7000);
  auto still = store_->Resolve("img:b");
  ASSERT_TRUE(still.ok()) << still.status().ToString();
  EXPECT_EQ(*ReadFile(still->layers[0] + "/base"), std::string(5000, 'b'));

  // The agent's pass: images no workload uses go, the ones in use stay.
  ASSERT_TRUE(store_->Import(tmp_.File("layout"), "img:a").ok());
  gc = store_->GarbageCollect({"img:a"}, true);
  ASSERT_TRUE(gc.ok());
  EXPECT_EQ(gc->removed_images, 1);
  auto left = store_->List();
  ASSERT_EQ(left->size(), 1u);
  EXPECT_EQ((*left)[0].reference, "docker.io/library/img:a");
  EXPECT_EQ(CountEntries(Root() + "/layers/sha256"), 2u);
}

TEST_F(ImageStoreTest, ResolveRedoesALayerLostInACrash) {
  auto image = store_->Import(TestImages() + "/busybox", "busybox");
  ASSERT_TRUE(image.ok());
  // As if the machine crashed before the marker: the directory is incomplete.
  std::string layer_dir = fs::path(image->layers[0]).parent_path();
  ASSERT_TRUE(fs::remove(layer_dir + "/layer.json"));
  fs::remove(image->layers[0] + "/bin/busybox");
  auto again = store_->Resolve("busybox");
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_TRUE(FileExists(again->layers[0] + "/bin/busybox"));
  EXPECT_TRUE(FileExists(layer_dir + "/layer.json"));
}

TEST_F(ImageStoreTest, ConcurrentImportsOfOneImage) {
  std::vector<std::thread> threads;
  std::vector<Status> results(4);
  for (size_t i = 0; i < results.size(); ++i) {
    threads.emplace_back([&, i] {
      auto r = store_->Import(TestImages() + "/busybox", "busybox:t" + std::to_string(i % 2));
      results[i] = r.status();
    });
  }
  for (auto& t : threads) t.join();
  for (const auto& s : results) EXPECT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(store_->List()->size(), 2u);
  EXPECT_EQ(CountEntries(Root() + "/layers/sha256"), 1u);
  EXPECT_EQ(CountEntries(Root() + "/tmp"), 0u);
}

}  // namespace
}  // namespace lintel::images
