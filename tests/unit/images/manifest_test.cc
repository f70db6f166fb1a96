#include "images/manifest.h"

#include <gtest/gtest.h>

#include "images/registry_auth.h"

namespace lintel::images {
namespace {

std::string Hex(char c) { return std::string(64, c); }

Json Desc(const std::string& media, char c, const char* arch = nullptr) {
  Json j = {{"mediaType", media}, {"digest", "sha256:" + Hex(c)}, {"size", 100}};
  if (arch != nullptr) j["platform"] = {{"os", "linux"}, {"architecture", arch}};
  return j;
}

TEST(ManifestTest, DockerManifestListResolvesToLinuxAmd64) {
  Json list = {{"schemaVersion", 2},
               {"mediaType", media::kDockerManifestList},
               {"manifests",
                {Desc(std::string(media::kDockerManifest), 'a', "arm64"),
                 Desc(std::string(media::kDockerManifest), 'b', "amd64"),
                 Desc(std::string(media::kDockerManifest), 'c', "s390x")}}};
  auto kind = ClassifyDocument(list);
  ASSERT_TRUE(kind.ok());
  EXPECT_EQ(*kind, DocumentKind::kIndex);
  auto idx = ParseIndex(list.dump());
  ASSERT_TRUE(idx.ok()) << idx.status().ToString();
  auto d = SelectPlatform(*idx);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->digest.hex, Hex('b'));

  auto none = SelectPlatform(*idx, Platform{"linux", "riscv64", ""});
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.status().code(), Code::kNotFound);
  EXPECT_NE(none.status().message().find("linux/arm64, linux/amd64, linux/s390x"),
            std::string::npos)
      << none.status().message();
}

TEST(ManifestTest, AttestationEntriesAreSkippedAndSinglePlatformlessEntryIsTaken) {
  Json oci = {{"schemaVersion", 2},
              {"manifests",
               {Desc(std::string(media::kOciManifest), 'a', "unknown"),
                Desc(std::string(media::kOciManifest), 'b', "amd64")}}};
  oci["manifests"][0]["platform"]["os"] = "unknown";
  auto idx = ParseIndex(oci.dump());
  ASSERT_TRUE(idx.ok());
  EXPECT_EQ(SelectPlatform(*idx)->digest.hex, Hex('b'));
  // The shape decides when there is no mediaType.
  EXPECT_EQ(*ClassifyDocument(oci), DocumentKind::kIndex);

  Json layout = {{"schemaVersion", 2},
                 {"manifests", {Desc(std::string(media::kOciManifest), 'c')}}};
  auto single = ParseIndex(layout.dump());
  ASSERT_TRUE(single.ok());
  EXPECT_EQ(SelectPlatform(*single)->digest.hex, Hex('c'));
}

TEST(ManifestTest, ParsesSchema2AndOciManifestsAndConfig) {
  Json m = {{"schemaVersion", 2},
            {"mediaType", media::kDockerManifest},
            {"config", Desc(std::string(media::kDockerConfig), 'c')},
            {"layers",
             {Desc(std::string(media::kDockerLayerGzip), '1'),
              Desc(std::string(media::kOciLayerZstd), '2')}}};
  EXPECT_EQ(*ClassifyDocument(m), DocumentKind::kManifest);
  auto parsed = ParseManifest(m.dump());
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->config.digest.hex, Hex('c'));
  ASSERT_EQ(parsed->layers.size(), 2u);
  EXPECT_TRUE(IsLayerMediaType(parsed->layers[0].media_type));
  EXPECT_TRUE(IsLayerMediaType(parsed->layers[1].media_type));
  EXPECT_FALSE(IsLayerMediaType("application/vnd.cncf.helm.chart.content.v1.tar+gzip"));

  Json c = {{"created", "2024-01-01T00:00:00Z"},
            {"architecture", "amd64"},
            {"os", "linux"},
            {"config",
             {{"Entrypoint", {"/entry"}},
              {"Cmd", {"/bin/sh", "-c", "x"}},
              {"Env", {"PATH=/bin", "A=b"}},
              {"WorkingDir", "/srv"},
              {"User", "1000:1000"},
              {"Labels", {{"k", "v"}}}}},
            {"rootfs", {{"type", "layers"}, {"diff_ids", {"sha256:" + Hex('d')}}}}};
  auto config = ParseImageConfig(c.dump());
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->entrypoint, std::vector<std::string>{"/entry"});
  EXPECT_EQ(config->cmd.size(), 3u);
  EXPECT_EQ(config->env[1], "A=b");
  EXPECT_EQ(config->working_dir, "/srv");
  EXPECT_EQ(config->user, "1000:1000");
  EXPECT_EQ(config->labels.at("k"), "v");
  ASSERT_EQ(config->diff_ids.size(), 1u);
}

TEST(ManifestTest, RefusesSchema1AndBadDescriptors) {
  Json v1 = {{"schemaVersion", 1}, {"name", "x"}, {"fsLayers", Json::array()}};
  EXPECT_EQ(ClassifyDocument(v1).status().code(), Code::kNotSupported);
  EXPECT_EQ(
      ClassifyDocument(Json::object(), std::string(media::kDockerSchema1Signed)).status().code(),
      Code::kNotSupported);
  Json bad = {{"config", {{"digest", "sha256:xyz"}, {"size", 1}}}, {"layers", Json::array()}};
  EXPECT_FALSE(ParseManifest(bad.dump()).ok());
  Json negative = {{"config", Desc(std::string(media::kOciConfig), 'c')},
                   {"layers", Json::array()}};
  negative["config"]["size"] = -1;
  EXPECT_FALSE(ParseManifest(negative.dump()).ok());
  EXPECT_FALSE(ParseManifest("[1,2]").ok());
  EXPECT_FALSE(ParseImageConfig(R"({"config":{}})").ok());  // no rootfs
}

TEST(RegistryAuthTest, ParsesChallengesAndBuildsTokenUrls) {
  auto c = ParseAuthChallenge(
      R"(Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/busybox:pull")");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->scheme, "bearer");
  EXPECT_EQ(c->params["realm"], "https://auth.docker.io/token");
  EXPECT_EQ(c->params["service"], "registry.docker.io");
  EXPECT_EQ(TokenUrl(*c, "ignored"),
            "https://auth.docker.io/"
            "token?service=registry.docker.io&scope=repository%3Alibrary%2Fbusybox%3Apull");

  auto no_scope = ParseAuthChallenge(R"(bearer Realm="http://h/t?a=1", service=reg)");
  ASSERT_TRUE(no_scope.ok());
  EXPECT_EQ(TokenUrl(*no_scope, "test/busybox"),
            "http://h/t?a=1&service=reg&scope=repository%3Atest%2Fbusybox%3Apull");

  auto basic = ParseAuthChallenge(R"(Basic realm="basic-realm")");
  ASSERT_TRUE(basic.ok());
  EXPECT_EQ(basic->scheme, "basic");
  EXPECT_FALSE(ParseAuthChallenge("").ok());

  EXPECT_EQ(BasicAuthorization("user", "pass"), "Basic dXNlcjpwYXNz");
  EXPECT_EQ(*ParseTokenResponse(R"({"token":"t1","expires_in":300})"), "t1");
  EXPECT_EQ(*ParseTokenResponse(R"({"access_token":"t2"})"), "t2");
  EXPECT_FALSE(ParseTokenResponse(R"({"token":""})").ok());

  EXPECT_EQ(
      RegistryErrorMessage(
          R"({"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown","detail":{}}]})"),
      "MANIFEST_UNKNOWN: manifest unknown");
  EXPECT_EQ(RegistryErrorMessage("plain\ntext\n"), "plain text");

  EXPECT_TRUE(IsLoopbackRegistry("127.0.0.1:5000"));
  EXPECT_TRUE(IsLoopbackRegistry("localhost:5000"));
  EXPECT_TRUE(IsLoopbackRegistry("[::1]:5000"));
  EXPECT_FALSE(IsLoopbackRegistry("docker.io"));
  EXPECT_FALSE(IsLoopbackRegistry("127.example:5000"));
}

}  // namespace
}  // namespace lintel::images
