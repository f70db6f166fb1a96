// Pulls from Debian's docker-registry, started on loopback by the test with
// images pushed by skopeo: the busybox test image, and a wrong-digest case
// made by tampering with the registry's storage.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "client/http_client.h"
#include "common/fs.h"
#include "images/image_store.h"
#include "support/require_root.h"
#include "support/temp_dir.h"
#include "unit/images/tar_builder.h"
#include "unit/images/test_images.h"

namespace lintel::images {
namespace {

// A file's text, or "" if it cannot be read (for error messages).
std::string FileText(const std::string& path) {
  auto r = ReadFile(path);
  return r.ok() ? *r : "";
}

namespace fs = std::filesystem;
using namespace std::chrono_literals;

uint16_t FreePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  socklen_t len = sizeof(addr);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

// docker-registry serving DIR/storage on 127.0.0.1:PORT until destroyed.
class Registry {
 public:
  explicit Registry(std::string dir) : dir_(std::move(dir)) {}
  ~Registry() { Stop(); }

  Status Start() {
    port_ = FreePort();
    testing::LayoutWriter::Write(dir_ + "/config.yml",
                                 "version: 0.1\n"
                                 "log: {level: warn}\n"
                                 "storage:\n"
                                 "  filesystem: {rootdirectory: " +
                                     dir_ +
                                     "/storage}\n"
                                     "  delete: {enabled: true}\n"
                                     "http: {addr: 127.0.0.1:" +
                                     std::to_string(port_) + "}\n");
    pid_ = ::fork();
    if (pid_ < 0) return Internal("fork");
    if (pid_ == 0) {
      int log = ::open((dir_ + "/registry.log").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      ::dup2(log, 1);
      ::dup2(log, 2);
      ::execlp("docker-registry", "docker-registry", "serve", (dir_ + "/config.yml").c_str(),
               nullptr);
      ::_exit(127);
    }
    client::HttpClientOptions o;
    o.base_url = "http://" + host();
    o.request_timeout = 1s;
    auto c = client::HttpClient::Create(o);
    if (!c.ok()) return c.error();
    auto deadline = std::chrono::steady_clock::now() + 15s;
    while (std::chrono::steady_clock::now() < deadline) {
      auto r = (*c)->Do("GET", "/v2/");
      if (r.ok() && r->status == 200) return Status();
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return Unavailable("docker-registry exited: " + FileText(dir_ + "/registry.log"));
      }
      std::this_thread::sleep_for(20ms);
    }
    return Timeout("docker-registry did not answer /v2/");
  }

  void Stop() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    for (int i = 0; i < 200; ++i) {
      if (::waitpid(pid_, nullptr, WNOHANG) == pid_) {
        pid_ = -1;
        return;
      }
      std::this_thread::sleep_for(10ms);
    }
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }

  std::string host() const { return "127.0.0.1:" + std::to_string(port_); }
  std::string storage() const { return dir_ + "/storage/docker/registry/v2"; }

  // skopeo copy oci:LAYOUT:TAG docker://HOST/REPO
  Status Push(const std::string& layout, const std::string& tag, const std::string& repo) {
    std::string cmd = "skopeo copy -q --dest-tls-verify=false oci:" + layout + ":" + tag +
                      " docker://" + host() + "/" + repo + " > " + dir_ + "/skopeo.log 2>&1";
    if (std::system(cmd.c_str()) != 0) {
      return Internal("skopeo push failed: " + FileText(dir_ + "/skopeo.log"));
    }
    return Status();
  }

 private:
  std::string dir_;
  uint16_t port_ = 0;
  pid_t pid_ = -1;
};

class RegistryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    LINTEL_REQUIRE_TOOL("docker-registry");
    LINTEL_REQUIRE_TOOL("skopeo");
    registry_ = std::make_unique<Registry>(tmp_.path());
    Status s = registry_->Start();
    ASSERT_TRUE(s.ok()) << s.ToString();
    auto store = ImageStore::Open(tmp_.File("store"));
    ASSERT_TRUE(store.ok());
    store_ = std::move(*store);
  }
  void TearDown() override {
    if (registry_) registry_->Stop();
  }

  lintel::testing::TempDir tmp_;
  std::unique_ptr<Registry> registry_;
  std::unique_ptr<ImageStore> store_;
};

TEST_F(RegistryTest, PullsBusyboxPushedBySkopeo) {
  ASSERT_TRUE(registry_->Push(testing::TestImages() + "/busybox", "latest", "test/busybox:1").ok());
  std::string ref = registry_->host() + "/test/busybox:1";
  auto t0 = std::chrono::steady_clock::now();
  auto image = store_->Pull(ref);
  auto elapsed = std::chrono::steady_clock::now() - t0;
  ASSERT_TRUE(image.ok()) << image.status().ToString();
  std::cout << "[ measure ] pull busybox from docker-registry (cold): "
            << std::chrono::duration<double, std::milli>(elapsed).count() << " ms\n";
  EXPECT_EQ(image->reference, ref);
  ASSERT_EQ(image->layers.size(), 1u);
  EXPECT_EQ(fs::read_symlink(image->layers[0] + "/bin/sh"), "/bin/busybox");
  EXPECT_TRUE(fs::is_regular_file(image->layers[0] + "/bin/busybox"));
  EXPECT_EQ(image->config.cmd, std::vector<std::string>{"/bin/sh"});

  t0 = std::chrono::steady_clock::now();
  auto warm = store_->Pull(ref);
  elapsed = std::chrono::steady_clock::now() - t0;
  ASSERT_TRUE(warm.ok());
  std::cout << "[ measure ] pull again (everything present): "
            << std::chrono::duration<double, std::milli>(elapsed).count() << " ms\n";
  auto by_digest = store_->Pull(registry_->host() + "/test/busybox@" + image->digest.ToString());
  ASSERT_TRUE(by_digest.ok()) << by_digest.status().ToString();
  EXPECT_EQ(by_digest->digest, image->digest);

  auto unknown = store_->Pull(registry_->host() + "/test/busybox:2");
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.status().code(), Code::kNotFound);
  EXPECT_NE(unknown.status().message().find("manifest unknown"), std::string::npos)
      << unknown.status().message();
}

TEST_F(RegistryTest, TamperedBlobInTheRegistryIsAWrongDigest) {
  testing::LayoutWriter w(tmp_.File("layout"));
  auto layer = testing::MakeLayer(testing::TarBuilder().File("payload", "original content"));
  w.Tag({{"latest", w.Image({layer})}});
  ASSERT_TRUE(registry_->Push(tmp_.File("layout"), "latest", "test/tampered:1").ok());
  std::string hex = Sha256Of(layer.blob).hex;
  std::string data =
      registry_->storage() + "/blobs/sha256/" + hex.substr(0, 2) + "/" + hex + "/data";
  ASSERT_TRUE(fs::exists(data)) << data;
  std::string content = *ReadFile(data);
  content[content.size() / 2] ^= 0x01;
  testing::LayoutWriter::Write(data, content);

  auto image = store_->Pull(registry_->host() + "/test/tampered:1");
  ASSERT_FALSE(image.ok());
  EXPECT_NE(image.status().message().find("digest mismatch"), std::string::npos)
      << image.status().message();
  EXPECT_TRUE(store_->List()->empty());
  EXPECT_TRUE(fs::is_empty(store_->root() + "/tmp"));
  EXPECT_TRUE(fs::is_empty(store_->root() + "/layers/sha256"));
}

}  // namespace
}  // namespace lintel::images
