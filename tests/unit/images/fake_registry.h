// A small OCI distribution registry for tests, serving an OCI image layout
// over lintel's HTTP server: anonymous or Bearer-token auth (with a token
// endpoint that may demand Basic credentials), optional TLS, blob redirects,
// and a blob it serves corrupted.
#pragma once

#include <atomic>
#include <memory>
#include <optional>
#include <string>

#include "common/fs.h"
#include "common/json.h"
#include "images/digest.h"
#include "images/manifest.h"
#include "images/registry_auth.h"
#include "server/http/certs.h"
#include "server/http/http_server.h"

namespace lintel::images::testing {

class FakeRegistry : public http::Handler {
 public:
  struct Options {
    bool token_auth = false;
    std::string username;  // the token endpoint wants these, when set
    std::string password;
    bool tls = false;
    bool redirect_blobs = false;
    std::string corrupt_hex;  // this blob (or manifest) is served with a byte flipped
  };
  FakeRegistry(std::string layout_dir, Options options)
      : dir_(std::move(layout_dir)), options_(std::move(options)) {}
  ~FakeRegistry() override { Stop(); }

  Status Start() {
    http::ServerOptions so;
    so.listen = "127.0.0.1:0";
    so.worker_threads = 4;
    if (options_.tls) {
      auto ca = http::GenerateCa("fake-registry-ca");
      if (!ca.ok()) return ca.error();
      http::ServerCertOptions co;
      co.common_name = "127.0.0.1";
      co.ip_addresses = {"127.0.0.1"};
      auto cert = http::IssueServerCert(*ca, co);
      if (!cert.ok()) return cert.error();
      ca_pem_ = ca->cert_pem;
      so.tls = http::TlsConfig{cert->cert_pem, cert->key_pem, ""};
    }
    server_ = std::make_unique<http::HttpServer>(so, this);
    return server_->Start();
  }
  void Stop() {
    if (server_) server_->Stop();
  }
  std::string host() const { return "127.0.0.1:" + std::to_string(server_->port()); }
  std::string url() const { return (options_.tls ? "https://" : "http://") + host(); }
  const std::string& ca_pem() const { return ca_pem_; }
  int blob_requests() const { return blob_requests_.load(); }
  int token_requests() const { return token_requests_.load(); }

  void Handle(http::Request&& req, std::unique_ptr<http::Responder> r) override {
    r->Respond(Serve(req));
  }

 private:
  static http::Response Error(int status, const std::string& code, const std::string& message) {
    http::Response out;
    out.status = status;
    out.headers.Set("Content-Type", "application/json");
    out.body = Json{{"errors", {{{"code", code}, {"message", message}}}}}.dump();
    return out;
  }

  http::Response Blob(const std::string& hex, const std::string& content_type) {
    auto content = ReadFile(dir_ + "/blobs/sha256/" + hex);
    if (!IsSha256Hex(hex) || !content.ok()) return Error(404, "BLOB_UNKNOWN", "blob unknown");
    http::Response out;
    out.headers.Set("Content-Type", content_type);
    out.headers.Set("Docker-Content-Digest", "sha256:" + hex);
    out.body = std::move(*content);
    if (hex == options_.corrupt_hex && !out.body.empty()) out.body[out.body.size() / 2] ^= 0x20;
    return out;
  }

  http::Response Serve(const http::Request& req) {
    const std::string& p = req.path;
    if (p == "/token") {
      ++token_requests_;
      if (!options_.username.empty() &&
          req.headers.Get("authorization").value_or("") !=
              BasicAuthorization(options_.username, options_.password)) {
        return Error(401, "UNAUTHORIZED", "bad credentials");
      }
      http::Response out;
      out.headers.Set("Content-Type", "application/json");
      out.body = R"({"token":"t0k3n","expires_in":300})";
      return out;
    }
    if (p.starts_with("/redirected/"))
      return Blob(p.substr(p.rfind(':') + 1), "application/octet-stream");
    if (!p.starts_with("/v2/")) return Error(404, "NOT_FOUND", "no such path");
    size_t manifests = p.find("/manifests/");
    size_t blobs = p.find("/blobs/");
    std::string repo = p.substr(4, std::min(manifests, blobs) - 4);
    if (options_.token_auth && req.headers.Get("authorization").value_or("") != "Bearer t0k3n") {
      http::Response out = Error(401, "UNAUTHORIZED", "authentication required");
      out.headers.Set("WWW-Authenticate",
                      "Bearer realm=\"" + url() +
                          "/token\",service=\"fake\",scope=\"repository:" + repo + ":pull\"");
      return out;
    }
    if (p == "/v2/") return http::Response{200, {}, "{}"};
    if (manifests != std::string::npos) {
      std::string ref = p.substr(manifests + 11);
      std::string hex;
      if (ref.starts_with("sha256:")) {
        hex = ref.substr(7);
      } else if (auto text = ReadFile(dir_ + "/index.json"); text.ok()) {
        // Kept in a local: a range-for over a member of a temporary dangles.
        const Json index = Json::parse(*text);
        for (const auto& m : index["manifests"]) {
          if (m["annotations"].value(std::string(kRefNameAnnotation), "") == ref) {
            hex = m["digest"].get<std::string>().substr(7);
          }
        }
      }
      if (hex.empty()) return Error(404, "MANIFEST_UNKNOWN", "manifest unknown");
      auto body = ReadFile(dir_ + "/blobs/sha256/" + hex);
      std::string type = body.ok() ? Json::parse(*body).value("mediaType", "") : "";
      return Blob(hex, type);
    }
    if (blobs != std::string::npos) {
      ++blob_requests_;
      std::string digest = p.substr(blobs + 7);
      if (options_.redirect_blobs) {
        http::Response out;
        out.status = 307;
        out.headers.Set("Location", url() + "/redirected/" + digest);
        return out;
      }
      return Blob(digest.substr(digest.find(':') + 1), "application/octet-stream");
    }
    return Error(404, "NOT_FOUND", "no such path");
  }

  std::string dir_;
  Options options_;
  std::string ca_pem_;
  std::unique_ptr<http::HttpServer> server_;
  std::atomic<int> blob_requests_{0};
  std::atomic<int> token_requests_{0};
};

}  // namespace lintel::images::testing
