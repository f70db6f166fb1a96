#include "images/registry_client.h"

#include <vector>

#include "client/url.h"
#include "common/json.h"
#include "images/manifest.h"
#include "images/registry_auth.h"

namespace lintel::images {

namespace {

constexpr size_t kMaxManifestBytes = 4u << 20;
constexpr int kMaxRedirects = 5;

// The registry's answer as a Status with its own message.
Status ResponseError(const std::string& what, const client::HttpResponse& r) {
  std::string msg = what + ": HTTP " + std::to_string(r.status);
  if (std::string detail = RegistryErrorMessage(r.body); !detail.empty()) msg += ": " + detail;
  switch (r.status) {
    case 401:
      return Unauthorized(msg);
    case 403:
      return Forbidden(msg);
    case 404:
      return NotFound(msg);
    case 408:
    case 429:
      return Unavailable(msg);
    default:
      return r.status >= 500 ? Unavailable(msg) : Status(Code::kBadRequest, msg);
  }
}

std::string HostOf(const std::string& base) {
  auto u = client::ParseBaseUrl(base);
  return u.ok() ? u->HostHeader() : base;
}

}  // namespace

RegistryClient::RegistryClient(std::string registry, RegistryOptions options)
    : registry_(std::move(registry)), options_(std::move(options)) {}

RegistryClient::~RegistryClient() = default;

Result<client::HttpClient*> RegistryClient::ClientFor(const std::string& base) {
  auto it = clients_.find(base);
  if (it != clients_.end()) return it->second.get();
  client::HttpClientOptions o;
  o.base_url = base;
  o.ca_pem = options_.ca_pem;
  o.insecure_skip_tls_verify = options_.insecure || IsLoopbackRegistry(registry_);
  o.user_agent = options_.user_agent;
  o.request_timeout = options_.request_timeout;
  o.connect_timeout = std::min(options_.request_timeout, std::chrono::milliseconds(10'000));
  o.max_idle_connections = 2;
  o.max_response_bytes = 16u << 20;
  LINTEL_ASSIGN_OR_RETURN(auto c, client::HttpClient::Create(std::move(o)));
  client::HttpClient* raw = c.get();
  clients_[base] = std::move(c);
  return raw;
}

Status RegistryClient::ChooseEndpoint() {
  if (!base_.empty()) return Status();
  std::string host = registry_ == "docker.io" ? "registry-1.docker.io" : registry_;
  std::vector<std::string> candidates = {"https://" + host};
  if (options_.insecure || IsLoopbackRegistry(registry_)) candidates.push_back("http://" + host);
  Status last;
  for (const auto& base : candidates) {
    LINTEL_ASSIGN_OR_RETURN(client::HttpClient * c, ClientFor(base));
    auto r = c->Do("GET", "/v2/");
    if (r.ok()) {
      base_ = base;  // any HTTP answer (200, 401) means this one speaks the protocol
      return Status();
    }
    last = r.error();
  }
  return last.Wrap("registry " + registry_);
}

Result<client::HttpResponse> RegistryClient::GetFollowingRedirects(std::string base,
                                                                   std::string target,
                                                                   client::HttpHeaders headers,
                                                                   const Sink* sink) {
  for (int hop = 0;; ++hop) {
    LINTEL_ASSIGN_OR_RETURN(client::HttpClient * c, ClientFor(base));
    auto r = sink != nullptr ? c->DoToSink("GET", target, headers, {}, *sink)
                             : c->Do("GET", target, headers);
    if (!r.ok()) return r;
    bool redirect = r->status == 301 || r->status == 302 || r->status == 303 || r->status == 307 ||
                    r->status == 308;
    auto location = r->headers.Get("Location");
    if (!redirect || !location) return r;
    if (hop >= kMaxRedirects) return Unavailable("too many redirects from " + base + target);
    std::string loc(*location);
    if (loc.starts_with("/")) {
      target = loc;
      continue;
    }
    LINTEL_ASSIGN_OR_RETURN(client::SplitUrl next, client::SplitAbsoluteUrl(loc));
    if (HostOf(next.base) != HostOf(base)) {
      headers = client::HttpHeaders();  // credentials stay with the registry
    }
    base = std::move(next.base);
    target = std::move(next.target);
  }
}

Result<client::HttpResponse> RegistryClient::Get(const std::string& repository,
                                                 const std::string& target,
                                                 client::HttpHeaders headers, const Sink* sink) {
  LINTEL_RETURN_IF_ERROR(ChooseEndpoint());
  for (int attempt = 0;; ++attempt) {
    client::HttpHeaders h = headers;
    if (!authorization_.empty()) h.Set("Authorization", authorization_);
    LINTEL_ASSIGN_OR_RETURN(client::HttpResponse r, GetFollowingRedirects(base_, target, h, sink));
    if (r.status != 401 || attempt > 0) return r;
    auto challenge = r.headers.Get("WWW-Authenticate");
    if (!challenge) return r;
    LINTEL_RETURN_IF_ERROR(Authenticate(*challenge, repository));
  }
}

Status RegistryClient::Authenticate(std::string_view header, const std::string& repository) {
  auto fail = [&](const std::string& why) {
    return Unauthorized("registry " + registry_ + ": " + why);
  };
  auto challenge = ParseAuthChallenge(header);
  if (!challenge.ok()) return fail(challenge.error().message());
  bool have_creds = !options_.username.empty() || !options_.password.empty();
  if (challenge->scheme == "basic") {
    if (!have_creds) return fail("authentication required (Basic); no credentials given");
    authorization_ = BasicAuthorization(options_.username, options_.password);
    return Status();
  }
  if (challenge->scheme != "bearer" || challenge->params["realm"].empty()) {
    return fail("unsupported authentication challenge \"" + std::string(header) + "\"");
  }
  std::string url = TokenUrl(*challenge, repository);
  auto split = client::SplitAbsoluteUrl(url);
  if (!split.ok()) return fail("token realm: " + split.error().message());
  LINTEL_ASSIGN_OR_RETURN(client::HttpClient * c, ClientFor(split->base));
  client::HttpHeaders h;
  if (have_creds) h.Set("Authorization", BasicAuthorization(options_.username, options_.password));
  auto r = c->Do("GET", split->target, h);
  if (!r.ok()) return r.error().Wrap("registry " + registry_ + ": token");
  if (r->status != 200) {
    Status s = ResponseError("token from " + split->base, *r);
    return r->status == 401 || r->status == 403 ? fail(s.message()) : s;
  }
  auto token = ParseTokenResponse(r->body);
  if (!token.ok()) return fail(token.error().message());
  authorization_ = "Bearer " + *token;
  return Status();
}

Result<FetchedManifest> RegistryClient::GetManifest(const std::string& repository,
                                                    const std::string& reference) {
  std::string what = "manifest " + registry_ + "/" + repository + ":" + reference;
  if (reference.starts_with("sha256:"))
    what = "manifest " + registry_ + "/" + repository + "@" + reference;
  client::HttpHeaders h;
  h.Set("Accept", ManifestAcceptHeader());
  LINTEL_ASSIGN_OR_RETURN(
      client::HttpResponse r,
      Get(repository, "/v2/" + repository + "/manifests/" + reference, h, nullptr));
  if (r.status != 200) return ResponseError(what, r);
  if (r.body.size() > kMaxManifestBytes) return Invalid(what + ": larger than 4 MiB");
  FetchedManifest out;
  out.digest = Sha256Of(r.body);
  if (reference.find(':') != std::string::npos) {
    LINTEL_ASSIGN_OR_RETURN(Digest want, ParseDigest(reference));
    LINTEL_RETURN_IF_ERROR(CheckDigest(what, want, out.digest));
  } else if (auto header = r.headers.Get("Docker-Content-Digest")) {
    auto want = ParseDigest(*header);
    if (want.ok()) {
      LINTEL_RETURN_IF_ERROR(CheckDigest(what, *want, out.digest));
    }
  }
  auto doc = ParseJson(r.body);
  if (doc.ok() && doc->is_object()) out.media_type = doc->value("mediaType", "");
  if (out.media_type.empty()) {
    std::string ct(r.headers.Get("Content-Type").value_or(""));
    out.media_type = ct.substr(0, ct.find(';'));
  }
  out.body = std::move(r.body);
  return out;
}

Status RegistryClient::GetBlob(const std::string& repository, const Digest& digest,
                               const std::function<Status(std::string_view)>& sink) {
  LINTEL_ASSIGN_OR_RETURN(
      client::HttpResponse r,
      Get(repository, "/v2/" + repository + "/blobs/" + digest.ToString(), {}, &sink));
  if (r.status != 200) {
    return ResponseError("blob " + registry_ + "/" + repository + "@" + digest.ToString(), r);
  }
  return Status();
}

}  // namespace lintel::images
