// TLS end to end: generated certificates, server verification by the client
// (CA, IP and DNS names), client certificates reaching the handler.
#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <set>

#include "client/http_client.h"
#include "server/http/certs.h"
#include "server/http/http_server.h"
#include "unit/http/http_test_util.h"

namespace lintel::http {
namespace {

using client::HttpClient;
using client::HttpClientOptions;
using testing::FuncHandler;
using testing::TextResponse;
using testing::WaitFor;
using namespace std::chrono_literals;

struct Pki {
  CertKeyPair ca;
  CertKeyPair other_ca;
  CertKeyPair server;   // SANs: IP 127.0.0.1, DNS localhost
  CertKeyPair alice;    // client cert from ca
  CertKeyPair mallory;  // client cert from other_ca
};

const Pki& GetPki() {
  static const Pki* pki = [] {
    auto* p = new Pki;
    p->ca = *GenerateCa("test-ca");
    p->other_ca = *GenerateCa("other-ca");
    ServerCertOptions opts;
    opts.ip_addresses = {"127.0.0.1"};
    opts.dns_names = {"localhost"};
    p->server = *IssueServerCert(p->ca, opts);
    p->alice = *IssueClientCert(p->ca, "alice", {"devs"});
    p->mallory = *IssueClientCert(p->other_ca, "mallory", {});
    return p;
  }();
  return *pki;
}

class TlsTest : public ::testing::Test {
 protected:
  void StartServer(bool verify_clients = false, CertKeyPair cert = GetPki().server) {
    handler_ = std::make_unique<FuncHandler>([this](Request&& req, std::unique_ptr<Responder> r) {
      {
        std::lock_guard lock(mu_);
        last_cn_ = req.client_cert_cn;
        last_groups_ = req.client_cert_groups;
        remotes_.insert(req.remote_address);
        last_tls_ = req.tls;
      }
      if (req.path == "/watch") {
        auto stream = r->StartStream(200, Headers());
        stream->OnClose([this] { ++closed_; });
        stream->Write(std::string("{\"line\":1}\n"));
        std::lock_guard lock(mu_);
        stream_ = stream;
        return;
      }
      r->Respond(TextResponse(200, "hello " + req.client_cert_cn));
    });
    ServerOptions opts;
    opts.tls = TlsConfig{cert.cert_pem, cert.key_pem,
                         verify_clients ? GetPki().ca.cert_pem : std::string()};
    server_ = std::make_unique<HttpServer>(opts, handler_.get());
    Status s = server_->Start();
    ASSERT_TRUE(s.ok()) << s.ToString();
  }

  HttpClientOptions ClientOptions(const std::string& host = "127.0.0.1") {
    HttpClientOptions o;
    o.base_url = "https://" + host + ":" + std::to_string(server_->port());
    o.ca_pem = GetPki().ca.cert_pem;
    o.request_timeout = 10s;
    return o;
  }

  Result<client::HttpResponse> Get(const HttpClientOptions& o, const std::string& path = "/") {
    auto c = HttpClient::Create(o);
    if (!c) {
      return c.error();
    }
    return (*c)->Do("GET", path);
  }

  std::mutex mu_;
  std::string last_cn_;
  std::vector<std::string> last_groups_;
  std::set<std::string> remotes_;
  bool last_tls_ = false;
  std::shared_ptr<Stream> stream_;
  std::atomic<int> closed_{0};
  std::unique_ptr<FuncHandler> handler_;
  std::unique_ptr<HttpServer> server_;
};

TEST_F(TlsTest, RoundTripWithGeneratedCa) {
  StartServer();
  auto c = HttpClient::Create(ClientOptions());
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  for (int i = 0; i < 3; ++i) {
    auto resp = (*c)->Do("GET", "/");
    ASSERT_TRUE(resp.ok()) << resp.status().ToString();
    EXPECT_EQ(resp->status, 200);
  }
  EXPECT_EQ((*c)->IdleConnections(), 1u);
  std::lock_guard lock(mu_);
  EXPECT_EQ(remotes_.size(), 1u);  // one TLS connection, kept alive
  EXPECT_TRUE(last_tls_);
  EXPECT_EQ(last_cn_, "");
}

TEST_F(TlsTest, DnsNameIsVerified) {
  StartServer();
  auto resp = Get(ClientOptions("localhost"));
  ASSERT_TRUE(resp.ok()) << resp.status().ToString();
  EXPECT_EQ(resp->status, 200);
}

TEST_F(TlsTest, WrongCaIsRefused) {
  StartServer();
  HttpClientOptions o = ClientOptions();
  o.ca_pem = GetPki().other_ca.cert_pem;
  auto resp = Get(o);
  ASSERT_FALSE(resp.ok());
  EXPECT_EQ(resp.status().code(), Code::kUnavailable);
  EXPECT_FALSE(resp.status().retryable());
  EXPECT_NE(resp.status().message().find("certificate verify failed"), std::string::npos)
      << resp.status().message();

  o.insecure_skip_tls_verify = true;
  auto insecure = Get(o);
  ASSERT_TRUE(insecure.ok()) << insecure.status().ToString();
  EXPECT_EQ(insecure->status, 200);
}

TEST_F(TlsTest, NameMismatchIsRefused) {
  ServerCertOptions opts;
  opts.ip_addresses = {"127.0.0.2"};
  opts.dns_names = {"other.example"};
  auto cert = IssueServerCert(GetPki().ca, opts);
  ASSERT_TRUE(cert.ok());
  StartServer(false, *cert);
  auto resp = Get(ClientOptions());
  ASSERT_FALSE(resp.ok());
  EXPECT_NE(resp.status().message().find("certificate verify failed"), std::string::npos)
      << resp.status().message();
  // tls-server-name checks another name than the URL's host.
  HttpClientOptions o = ClientOptions();
  o.tls_server_name = "other.example";
  auto named = Get(o);
  ASSERT_TRUE(named.ok()) << named.status().ToString();
}

TEST_F(TlsTest, ClientCertificateCnReachesHandler) {
  StartServer(/*verify_clients=*/true);
  HttpClientOptions o = ClientOptions();
  o.client_cert_pem = GetPki().alice.cert_pem;
  o.client_key_pem = GetPki().alice.key_pem;
  auto resp = Get(o);
  ASSERT_TRUE(resp.ok()) << resp.status().ToString();
  EXPECT_EQ(resp->body, "hello alice");
  {
    std::lock_guard lock(mu_);
    EXPECT_EQ(last_groups_, std::vector<std::string>{"devs"});
  }

  // No certificate is fine (token clients); the CN is empty.
  auto anonymous = Get(ClientOptions());
  ASSERT_TRUE(anonymous.ok()) << anonymous.status().ToString();
  EXPECT_EQ(anonymous->body, "hello ");

  // A certificate from another CA fails the handshake.
  HttpClientOptions bad = ClientOptions();
  bad.client_cert_pem = GetPki().mallory.cert_pem;
  bad.client_key_pem = GetPki().mallory.key_pem;
  EXPECT_FALSE(Get(bad).ok());
}

TEST_F(TlsTest, StreamOverTlsAndDisconnect) {
  StartServer();
  auto c = HttpClient::Create(ClientOptions());
  ASSERT_TRUE(c.ok());
  std::mutex mu;
  std::vector<std::string> lines;
  auto resp = (*c)->DoStream("GET", "/watch", {}, {}, [&](std::string_view line) {
    std::lock_guard lock(mu);
    lines.emplace_back(line);
    return true;
  });
  ASSERT_TRUE(resp.ok()) << resp.status().ToString();
  ASSERT_EQ(resp->status, 200);
  ASSERT_TRUE(WaitFor([&] {
    std::lock_guard lock(mu);
    return lines.size() == 1;
  }));
  EXPECT_EQ(lines[0], "{\"line\":1}");
  resp->stream.reset();  // the client goes away
  EXPECT_TRUE(WaitFor([&] { return closed_.load() == 1; }));
}

TEST_F(TlsTest, BadServerMaterialIsRefusedAtStart) {
  FuncHandler handler([](Request&&, std::unique_ptr<Responder>) {});
  ServerOptions opts;
  opts.tls = TlsConfig{"junk", "junk", ""};
  HttpServer server(opts, &handler);
  EXPECT_FALSE(server.Start().ok());
  ServerOptions mismatched;
  mismatched.tls = TlsConfig{GetPki().server.cert_pem, GetPki().alice.key_pem, ""};
  HttpServer server2(mismatched, &handler);
  EXPECT_FALSE(server2.Start().ok());
}

}  // namespace
}  // namespace lintel::http
