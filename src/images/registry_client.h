// RegistryClient: the pull side of the OCI distribution spec against one
// registry: manifests by tag or digest, blobs streamed to a sink.
//
// Transport: HTTPS verified against the system trust store (or `ca_pem`).
// With `insecure`, and always for loopback registries, HTTPS is tried without
// verification and plain HTTP after it; the first that answers /v2/ is kept.
// Auth: anonymous first; a 401 with `WWW-Authenticate: Bearer realm=..,
// service=.., scope=..` fetches a token from the realm (with Basic credentials
// when given) and retries; a `Basic` challenge is answered with the
// credentials. Redirects (blob downloads from a CDN) are followed, without the
// Authorization header when they leave the registry's host.
//
// Errors carry the registry's own message: NotFound ("MANIFEST_UNKNOWN:
// manifest unknown"), Unauthorized, Forbidden, Unavailable (retryable: cannot
// connect, 5xx, 429), Internal for digest mismatches.
//
// Not thread-safe: one client per pull, used by one thread.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "client/http_client.h"
#include "common/status.h"
#include "images/digest.h"

namespace lintel::images {

struct RegistryOptions {
  bool insecure = false;  // HTTPS without verification, then plain HTTP
  std::string username;
  std::string password;
  std::string ca_pem;
  std::chrono::milliseconds request_timeout{60'000};
  std::string user_agent = "lintel";
};

struct FetchedManifest {
  std::string body;
  std::string media_type;  // the document's mediaType, else the Content-Type
  Digest digest;           // sha256 of body, verified
};

class RegistryClient {
 public:
  // `registry` as in a Reference: "127.0.0.1:5000", "docker.io".
  RegistryClient(std::string registry, RegistryOptions options);
  ~RegistryClient();
  RegistryClient(const RegistryClient&) = delete;
  RegistryClient& operator=(const RegistryClient&) = delete;

  // GET /v2/<repository>/manifests/<tag or digest>. The body's digest is
  // checked against the digest asked for, else against Docker-Content-Digest
  // when the registry sends one.
  Result<FetchedManifest> GetManifest(const std::string& repository, const std::string& reference);

  // GET /v2/<repository>/blobs/<digest>, handed to `sink` as it arrives. The
  // caller verifies the digest (BlobStore::Writer::Commit).
  Status GetBlob(const std::string& repository, const Digest& digest,
                 const std::function<Status(std::string_view)>& sink);

  // The base URL in use ("http://127.0.0.1:5000"), once one answered.
  const std::string& endpoint() const { return base_; }

 private:
  using Sink = std::function<Status(std::string_view)>;
  Status ChooseEndpoint();
  Result<client::HttpClient*> ClientFor(const std::string& base);
  // GET with auth retry and redirects; `sink` receives a 2xx body if given.
  Result<client::HttpResponse> Get(const std::string& repository, const std::string& target,
                                   client::HttpHeaders headers, const Sink* sink);
  Result<client::HttpResponse> GetFollowingRedirects(std::string base, std::string target,
                                                     client::HttpHeaders headers, const Sink* sink);
  Status Authenticate(std::string_view challenge, const std::string& repository);

  std::string registry_;
  RegistryOptions options_;
  std::string base_;
  std::string authorization_;
  std::map<std::string, std::unique_ptr<client::HttpClient>> clients_;
};

}  // namespace lintel::images
