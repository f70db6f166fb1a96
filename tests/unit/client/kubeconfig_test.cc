#include "client/kubeconfig.h"

#include <gtest/gtest.h>

#include <cstdlib>

#include "client/rest_client.h"
#include "common/fs.h"
#include "server/http/certs.h"
#include "server/http/http_server.h"
#include "support/temp_dir.h"
#include "unit/http/http_test_util.h"

namespace lintel::client {
namespace {

using namespace std::chrono_literals;

constexpr std::string_view kConfig = R"(apiVersion: v1
kind: Config
clusters:
- name: prod
  cluster:
    server: https://10.0.0.1:6443
    certificate-authority-data: Q0EgUEVN
- name: dev
  cluster:
    server: http://127.0.0.1:8080
    insecure-skip-tls-verify: true
    tls-server-name: dev.local
users:
- name: admin
  user:
    token: 12345
- name: dev-user
  user:
    client-certificate-data: Q0VSVA==
    client-key-data: S0VZ
contexts:
- name: prod-admin
  context:
    cluster: prod
    user: admin
- name: dev
  context:
    cluster: dev
    user: dev-user
    namespace: team-a
- name: broken
  context:
    cluster: nowhere
    user: admin
current-context: prod-admin
)";

// Sets an environment variable for one test and restores it.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const std::string& value) : name_(name) {
    const char* old = std::getenv(name);  // NOLINT(concurrency-mt-unsafe)
    if (old != nullptr) {
      old_ = old;
    }
    ::setenv(name, value.c_str(), 1);  // NOLINT(concurrency-mt-unsafe)
  }
  ~ScopedEnv() {
    if (old_) {
      ::setenv(name_, old_->c_str(), 1);  // NOLINT(concurrency-mt-unsafe)
    } else {
      ::unsetenv(name_);  // NOLINT(concurrency-mt-unsafe)
    }
  }

 private:
  const char* name_;
  std::optional<std::string> old_;
};

TEST(Base64Test, RoundTrips) {
  for (const std::string& s : std::vector<std::string>{"", "f", "fo", "foo", "foob", "fooba",
                                                       "foobar", std::string("\0\xff\x10", 3)}) {
    SCOPED_TRACE(s);
    auto back = Base64Decode(Base64Encode(s));
    ASSERT_TRUE(back.ok());
    EXPECT_EQ(*back, s);
  }
  EXPECT_EQ(Base64Encode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(Base64Encode("fo"), "Zm8=");
  EXPECT_EQ(*Base64Decode("Zm9v\nYmFy\n"), "foobar");
  EXPECT_FALSE(Base64Decode("Zm9v!").ok());
  EXPECT_FALSE(Base64Decode("Zm=9").ok());
  EXPECT_FALSE(Base64Decode("Z").ok());
}

TEST(KubeconfigTest, CurrentContextWithTokenAndCaData) {
  auto kc = ParseKubeconfig(kConfig, "/home/u/.kube/config");
  ASSERT_TRUE(kc.ok()) << kc.status().ToString();
  EXPECT_EQ(kc->context, "prod-admin");
  EXPECT_EQ(kc->cluster, "prod");
  EXPECT_EQ(kc->user, "admin");
  EXPECT_EQ(kc->server, "https://10.0.0.1:6443");
  EXPECT_EQ(kc->ca_pem, "CA PEM");
  EXPECT_EQ(kc->token, "12345");  // an unquoted number is still a token
  EXPECT_EQ(kc->ns, "default");
  EXPECT_FALSE(kc->insecure_skip_tls_verify);
  HttpClientOptions o = kc->ToHttpClientOptions();
  EXPECT_EQ(o.base_url, "https://10.0.0.1:6443");
  EXPECT_EQ(o.bearer_token, "12345");
  EXPECT_EQ(o.ca_pem, "CA PEM");
}

TEST(KubeconfigTest, NamedContextWithClientCertAndNamespace) {
  auto kc = ParseKubeconfig(kConfig, "/x", "dev");
  ASSERT_TRUE(kc.ok()) << kc.status().ToString();
  EXPECT_EQ(kc->server, "http://127.0.0.1:8080");
  EXPECT_TRUE(kc->insecure_skip_tls_verify);
  EXPECT_EQ(kc->tls_server_name, "dev.local");
  EXPECT_EQ(kc->client_cert_pem, "CERT");
  EXPECT_EQ(kc->client_key_pem, "KEY");
  EXPECT_EQ(kc->token, "");
  EXPECT_EQ(kc->ns, "team-a");
}

TEST(KubeconfigTest, OneLineErrors) {
  auto missing = ParseKubeconfig(kConfig, "/x", "foo");
  EXPECT_EQ(missing.status().code(), Code::kNotFound);
  EXPECT_EQ(missing.status().message(), "kubeconfig /x: context \"foo\" not found");
  auto broken = ParseKubeconfig(kConfig, "/x", "broken");
  EXPECT_EQ(broken.status().message(), "kubeconfig /x: cluster \"nowhere\" not found");
  EXPECT_EQ(ParseKubeconfig("clusters: [", "/x").status().code(), Code::kBadRequest);
  EXPECT_EQ(ParseKubeconfig("just a string", "/x").status().code(), Code::kBadRequest);
  auto no_current = ParseKubeconfig("apiVersion: v1\nkind: Config\n", "/x");
  EXPECT_EQ(no_current.status().code(), Code::kNotFound);
  EXPECT_NE(no_current.status().message().find("current-context"), std::string::npos);
  constexpr std::string_view kBadData = R"(
clusters: [{name: c, cluster: {server: "https://h", certificate-authority-data: "!!"}}]
contexts: [{name: x, context: {cluster: c}}]
current-context: x
)";
  auto bad = ParseKubeconfig(kBadData, "/x");
  EXPECT_EQ(bad.status().code(), Code::kBadRequest);
  EXPECT_EQ(bad.status().message(),
            "kubeconfig /x: cluster \"c\": certificate-authority-data: invalid base64");
  constexpr std::string_view kExec = R"(
clusters: [{name: c, cluster: {server: "https://h"}}]
users: [{name: u, user: {exec: {command: aws}}}]
contexts: [{name: x, context: {cluster: c, user: u}}]
current-context: x
)";
  EXPECT_NE(ParseKubeconfig(kExec, "/x").status().message().find("not supported"),
            std::string::npos);
}

TEST(KubeconfigTest, FileReferencesAreRelativeToTheKubeconfig) {
  lintel::testing::TempDir dir;
  ASSERT_TRUE(MakeDirs(dir.File("pki")).ok());
  ASSERT_TRUE(WriteFileAtomic(dir.File("pki/ca.crt"), "CA FILE").ok());
  ASSERT_TRUE(WriteFileAtomic(dir.File("pki/c.crt"), "CERT FILE").ok());
  ASSERT_TRUE(WriteFileAtomic(dir.File("pki/c.key"), "KEY FILE").ok());
  ASSERT_TRUE(WriteFileAtomic(dir.File("token"), "tok-from-file\n").ok());
  std::string config = R"(
clusters: [{name: c, cluster: {server: "https://h:1", certificate-authority: pki/ca.crt}}]
users:
- {name: u, user: {client-certificate: pki/c.crt, client-key: )" +
                       dir.File("pki/c.key") + R"(, tokenFile: token}}
contexts: [{name: x, context: {cluster: c, user: u}}]
current-context: x
)";
  ASSERT_TRUE(WriteFileAtomic(dir.File("config"), config).ok());
  auto kc = LoadKubeconfig(dir.File("config"));
  ASSERT_TRUE(kc.ok()) << kc.status().ToString();
  EXPECT_EQ(kc->ca_pem, "CA FILE");
  EXPECT_EQ(kc->client_cert_pem, "CERT FILE");
  EXPECT_EQ(kc->client_key_pem, "KEY FILE");
  EXPECT_EQ(kc->token, "tok-from-file");

  ASSERT_TRUE(::unlink(dir.File("pki/ca.crt").c_str()) == 0);
  auto gone = LoadKubeconfig(dir.File("config"));
  EXPECT_EQ(gone.status().code(), Code::kNotFound);
  EXPECT_TRUE(gone.status().message().starts_with("kubeconfig " + dir.File("config") +
                                                  ": cluster \"c\": certificate-authority: "))
      << gone.status().message();
}

TEST(KubeconfigTest, FindsTheFileLikeKubectl) {
  lintel::testing::TempDir dir;
  std::string a = dir.File("a"), b = dir.File("b");
  ASSERT_TRUE(WriteFileAtomic(b, std::string(kConfig)).ok());
  {
    ScopedEnv env("KUBECONFIG", a + ":" + b);
    EXPECT_EQ(*FindKubeconfig(""), b);  // the first that exists
    EXPECT_EQ(*FindKubeconfig(b), b);   // an explicit path wins
    EXPECT_EQ(FindKubeconfig(a).status().code(), Code::kNotFound);
    auto kc = LoadKubeconfig("", "dev");
    ASSERT_TRUE(kc.ok()) << kc.status().ToString();
    EXPECT_EQ(kc->path, b);
  }
  {
    ScopedEnv env("KUBECONFIG", a);
    EXPECT_EQ(FindKubeconfig("").status().code(), Code::kNotFound);
  }
  {
    ScopedEnv env("KUBECONFIG", "");
    ScopedEnv home("HOME", dir.path());
    EXPECT_EQ(FindKubeconfig("").status().code(), Code::kNotFound);
    ASSERT_TRUE(MakeDirs(dir.File(".kube")).ok());
    ASSERT_TRUE(WriteFileAtomic(dir.File(".kube/config"), std::string(kConfig)).ok());
    EXPECT_EQ(*FindKubeconfig(""), dir.File(".kube/config"));
  }
}

TEST(KubeconfigTest, RenderRoundTrips) {
  KubeconfigContent c;
  c.server = "https://127.0.0.1:6443";
  c.ca_pem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
  c.token = "abc: def # not a comment";
  c.client_cert_pem = "CERT";
  c.client_key_pem = "KEY";
  c.ns = "team-a";
  std::string yaml = RenderKubeconfig(c);
  EXPECT_NE(yaml.find("current-context: \"lintel\""), std::string::npos) << yaml;
  auto kc = ParseKubeconfig(yaml, "/rendered");
  ASSERT_TRUE(kc.ok()) << kc.status().ToString() << "\n" << yaml;
  EXPECT_EQ(kc->context, "lintel");
  EXPECT_EQ(kc->server, c.server);
  EXPECT_EQ(kc->ca_pem, c.ca_pem);
  EXPECT_EQ(kc->token, c.token);
  EXPECT_EQ(kc->client_cert_pem, "CERT");
  EXPECT_EQ(kc->client_key_pem, "KEY");
  EXPECT_EQ(kc->ns, "team-a");

  KubeconfigContent anonymous;
  anonymous.name = "x";
  anonymous.server = "http://127.0.0.1:1";
  anonymous.insecure_skip_tls_verify = true;
  auto kc2 = ParseKubeconfig(RenderKubeconfig(anonymous), "/r");
  ASSERT_TRUE(kc2.ok()) << kc2.status().ToString();
  EXPECT_TRUE(kc2->insecure_skip_tls_verify);
  EXPECT_EQ(kc2->ns, "default");
}

// A rendered kubeconfig with a client certificate drives a RestClient over TLS.
TEST(KubeconfigTest, RenderedConfigWorksEndToEnd) {
  auto ca = http::GenerateCa("ca");
  ASSERT_TRUE(ca.ok());
  http::ServerCertOptions so;
  so.ip_addresses = {"127.0.0.1"};
  auto server_cert = http::IssueServerCert(*ca, so);
  auto user_cert = http::IssueClientCert(*ca, "admin", {"system:masters"});
  ASSERT_TRUE(server_cert.ok() && user_cert.ok());
  http::testing::FuncHandler handler([](http::Request&& req, std::unique_ptr<http::Responder> r) {
    r->Respond(http::testing::TextResponse(
        200,
        Json({{"cn", req.client_cert_cn},
              {"auth", std::string(req.headers.Get("authorization").value_or(""))}})
            .dump(),
        "application/json"));
  });
  http::ServerOptions opts;
  opts.tls = http::TlsConfig{server_cert->cert_pem, server_cert->key_pem, ca->cert_pem};
  http::HttpServer server(opts, &handler);
  ASSERT_TRUE(server.Start().ok());

  lintel::testing::TempDir dir;
  KubeconfigContent c;
  c.server = "https://127.0.0.1:" + std::to_string(server.port());
  c.ca_pem = ca->cert_pem;
  c.token = "t0ken";
  c.client_cert_pem = user_cert->cert_pem;
  c.client_key_pem = user_cert->key_pem;
  ASSERT_TRUE(WriteFileAtomic(dir.File("kubeconfig"), RenderKubeconfig(c), 0600).ok());
  auto kc = LoadKubeconfig(dir.File("kubeconfig"));
  ASSERT_TRUE(kc.ok()) << kc.status().ToString();
  auto rest = RestClient::FromKubeconfig(*kc);
  ASSERT_TRUE(rest.ok()) << rest.status().ToString();
  auto got = (*rest)->RawGet("/version");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ((*got)["cn"], "admin");
  EXPECT_EQ((*got)["auth"], "Bearer t0ken");
}

}  // namespace
}  // namespace lintel::client
