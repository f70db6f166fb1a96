#include "images/registry_client.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>

#include "common/fs.h"
#include "images/image_store.h"
#include "support/temp_dir.h"
#include "unit/images/fake_registry.h"
#include "unit/images/tar_builder.h"

namespace lintel::images {
namespace {

namespace fs = std::filesystem;
using testing::FakeRegistry;
using testing::LayoutWriter;
using testing::MakeLayer;
using testing::TarBuilder;

class PullTest : public ::testing::Test {
 protected:
  void SetUp() override {
    LayoutWriter w(tmp_.File("layout"));
    base_ = MakeLayer(
        TarBuilder().Dir("bin").File("bin/sh", "#!fake", 0755).Dir("etc").File("etc/os", "base"));
    top_ = MakeLayer(TarBuilder().Dir("etc").Whiteout("etc/os").File("etc/top", "top"),
                     testing::Compression::kZstd);
    image_ = w.Image({base_, top_}, {{"Cmd", {"/bin/sh"}}, {"WorkingDir", "/srv"}});
    Descriptor arm = w.Image({MakeLayer(TarBuilder().File("arch", "arm64"))}, {}, "arm64");
    w.Tag({{"1", image_}, {"multi", w.Index({arm, image_})}});
    ImageStoreOptions o;
    o.sync = false;
    store_ = std::move(*ImageStore::Open(tmp_.File("store"), o));
  }
  std::unique_ptr<FakeRegistry> Start(FakeRegistry::Options o = {}) {
    auto r = std::make_unique<FakeRegistry>(tmp_.File("layout"), o);
    Status s = r->Start();
    EXPECT_TRUE(s.ok()) << s.ToString();
    return r;
  }
  size_t TmpEntries() const {
    return static_cast<size_t>(std::distance(fs::directory_iterator(store_->root() + "/tmp"), {}));
  }

  lintel::testing::TempDir tmp_;
  testing::TestLayer base_, top_;
  Descriptor image_;
  std::unique_ptr<ImageStore> store_;
};

TEST_F(PullTest, PullsAnonymouslyAndSkipsWhatItHas) {
  auto reg = Start();
  std::vector<std::string> progress;
  PullOptions o;
  o.progress = [&](std::string_view line) { progress.emplace_back(line); };
  auto image = store_->Pull(reg->host() + "/test/app:1", o);
  ASSERT_TRUE(image.ok()) << image.status().ToString();
  EXPECT_EQ(image->reference, reg->host() + "/test/app:1");
  EXPECT_EQ(image->digest, image_.digest);
  EXPECT_EQ(image->config.cmd, std::vector<std::string>{"/bin/sh"});
  EXPECT_EQ(image->config.working_dir, "/srv");
  ASSERT_EQ(image->layers.size(), 2u);
  EXPECT_EQ(*ReadFile(image->layers[0] + "/bin/sh"), "#!fake");
  EXPECT_EQ(*ReadFile(image->layers[1] + "/etc/top"), "top");
  EXPECT_EQ(reg->blob_requests(), 3);  // config and two layers
  EXPECT_GE(progress.size(), 4u);

  // Again, and by digest: nothing is downloaded twice.
  ASSERT_TRUE(store_->Pull(reg->host() + "/test/app:1").ok());
  auto by_digest = store_->Pull(reg->host() + "/test/app@" + image_.digest.ToString());
  ASSERT_TRUE(by_digest.ok()) << by_digest.status().ToString();
  EXPECT_EQ(reg->blob_requests(), 3);
  EXPECT_EQ(store_->List()->size(), 2u);
  EXPECT_EQ(store_->Resolve(reg->host() + "/test/app:1")->digest, image_.digest);
}

TEST_F(PullTest, ResolvesAnIndexToLinuxAmd64) {
  auto reg = Start();
  auto image = store_->Pull(reg->host() + "/test/app:multi");
  ASSERT_TRUE(image.ok()) << image.status().ToString();
  EXPECT_EQ(image->digest, image_.digest);
  EXPECT_FALSE(FileExists(image->layers[0] + "/arch"));
}

TEST_F(PullTest, BearerTokenAuth) {
  FakeRegistry::Options o;
  o.token_auth = true;
  o.username = "alice";
  o.password = "s3cret";
  auto reg = Start(o);
  auto anonymous = store_->Pull(reg->host() + "/test/app:1");
  ASSERT_FALSE(anonymous.ok());
  EXPECT_EQ(anonymous.status().code(), Code::kUnauthorized);
  EXPECT_NE(anonymous.status().message().find("bad credentials"), std::string::npos)
      << anonymous.status().message();
  PullOptions creds;
  creds.username = "alice";
  creds.password = "s3cret";
  auto image = store_->Pull(reg->host() + "/test/app:1", creds);
  ASSERT_TRUE(image.ok()) << image.status().ToString();
  EXPECT_EQ(reg->token_requests(), 2);  // one refused, one granted and reused for every blob
}

TEST_F(PullTest, AnonymousTokenAndRedirectedBlobs) {
  FakeRegistry::Options o;
  o.token_auth = true;
  o.redirect_blobs = true;
  auto reg = Start(o);
  auto image = store_->Pull(reg->host() + "/test/app:1");
  ASSERT_TRUE(image.ok()) << image.status().ToString();
  EXPECT_EQ(reg->token_requests(), 1);
}

TEST_F(PullTest, WrongDigestIsRefusedAndLeavesNothing) {
  // The base first: once a layer is unpacked it is never fetched again.
  for (const auto* victim : {&base_, &top_}) {
    FakeRegistry::Options o;
    o.corrupt_hex = Sha256Of(victim->blob).hex;
    auto reg = Start(o);
    auto image = store_->Pull(reg->host() + "/test/app:1");
    ASSERT_FALSE(image.ok());
    EXPECT_NE(image.status().message().find("digest mismatch"), std::string::npos)
        << image.status().message();
    EXPECT_EQ(store_->List()->size(), 0u);
    EXPECT_EQ(TmpEntries(), 0u);
  }
  // A manifest whose content does not match the digest it was asked by.
  FakeRegistry::Options o;
  o.corrupt_hex = image_.digest.hex;
  auto reg = Start(o);
  auto image = store_->Pull(reg->host() + "/test/app@" + image_.digest.ToString());
  ASSERT_FALSE(image.ok());
  EXPECT_NE(image.status().message().find("digest mismatch"), std::string::npos);
  // By tag too: Docker-Content-Digest is checked.
  image = store_->Pull(reg->host() + "/test/app:1");
  ASSERT_FALSE(image.ok());
  EXPECT_NE(image.status().message().find("digest mismatch"), std::string::npos);
}

TEST_F(PullTest, RegistryErrorsCarryTheRegistrysMessage) {
  auto reg = Start();
  auto unknown = store_->Pull(reg->host() + "/test/app:nope");
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.status().code(), Code::kNotFound);
  EXPECT_NE(unknown.status().message().find("MANIFEST_UNKNOWN: manifest unknown"),
            std::string::npos)
      << unknown.status().message();
  uint16_t port = 0;
  {
    auto gone = Start();
    port = static_cast<uint16_t>(std::stoi(gone->host().substr(10)));
  }
  auto unreachable = store_->Pull("127.0.0.1:" + std::to_string(port) + "/test/app:1");
  ASSERT_FALSE(unreachable.ok());
  EXPECT_EQ(unreachable.status().code(), Code::kUnavailable);
  EXPECT_TRUE(unreachable.status().retryable());
  EXPECT_FALSE(store_->Pull("Bad Ref").ok());
}

TEST_F(PullTest, HttpsRegistry) {
  FakeRegistry::Options o;
  o.tls = true;
  o.token_auth = true;
  auto reg = Start(o);
  RegistryClient client(reg->host(), {});
  auto m = client.GetManifest("test/app", "1");
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(client.endpoint(), "https://" + reg->host());
  EXPECT_EQ(m->digest, image_.digest);
  EXPECT_EQ(m->media_type, media::kOciManifest);
  auto image = store_->Pull(reg->host() + "/test/app:1");
  ASSERT_TRUE(image.ok()) << image.status().ToString();
}

}  // namespace
}  // namespace lintel::images
