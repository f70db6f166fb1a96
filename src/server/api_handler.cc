// Routing, authentication, discovery, OpenAPI and the plain endpoints.
#include "server/api_handler.h"

#include <openssl/sha.h>
#include <spdlog/spdlog.h>

#include <random>

#include "api/discovery.h"
#include "api/openapi.h"
#include "server/negotiation.h"
#include "server/route.h"
#include "server/status_json.h"

namespace lintel::server {

namespace {

std::vector<std::string> Segments(const std::string& path) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos < path.size()) {
    if (path[pos] == '/') {
      ++pos;
      continue;
    }
    size_t end = path.find('/', pos);
    out.push_back(path.substr(pos, end == std::string::npos ? end : end - pos));
    if (end == std::string::npos) break;
    pos = end;
  }
  return out;
}

std::string Sha256Hex(const std::string& data) {
  unsigned char md[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), md);
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : md) {
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 15]);
  }
  return out;
}

http::Response JsonResponse(int status, std::string body,
                            std::string content_type = "application/json") {
  http::Response r;
  r.status = status;
  r.headers.Set("Content-Type", content_type);
  r.body = std::move(body);
  return r;
}

http::Response TextResponse(int status, std::string body) {
  return JsonResponse(status, std::move(body), "text/plain; charset=utf-8");
}

http::Response NotFoundPath() {
  return StatusResponse(NotFound("the server could not find the requested resource"));
}

bool IsPublic(const std::string& path) {
  return path == "/healthz" || path == "/livez" || path == "/readyz" || path == "/version" ||
         path.rfind("/healthz/", 0) == 0 || path.rfind("/livez/", 0) == 0 ||
         path.rfind("/readyz/", 0) == 0;
}

}  // namespace

ApiHandler::ApiHandler(Resources* resources, const Authenticator* auth, Metrics* metrics,
                       Clock* clock, ApiHandlerOptions options)
    : resources_(resources),
      auth_(auth),
      metrics_(metrics),
      clock_(clock),
      options_(std::move(options)) {
  const api::Registry& reg = resources_->registry();
  Json index = {{"paths", Json::object()}};
  for (const auto& gv : reg.GroupVersions()) {
    auto slash = gv.find('/');
    std::string group = slash == std::string::npos ? "" : gv.substr(0, slash);
    std::string version = slash == std::string::npos ? gv : gv.substr(slash + 1);
    std::string path = group.empty() ? "api/" + version : "apis/" + gv;
    std::string doc = api::OpenApiV3Document(reg, group, version).dump();
    index["paths"][path] = {
        {"serverRelativeURL", "/openapi/v3/" + path + "?hash=" + Sha256Hex(doc)}};
    openapi_docs_[path] = std::move(doc);
  }
  openapi_index_ = index.dump();
}

ApiHandler::~ApiHandler() = default;

void ApiHandler::Handle(http::Request&& req, std::unique_ptr<http::Responder> responder) {
  auto start = std::chrono::steady_clock::now();
  std::string verb = req.method, resource;
  std::optional<http::Response> resp;
  try {
    UserInfo user;
    if (!IsPublic(req.path)) {
      auto u = auth_->Authenticate(req);
      if (!u.ok()) {
        resp = StatusResponse(u.error());
      } else {
        user = std::move(*u);
      }
    }
    if (!resp) resp = Dispatch(req, responder.get(), user, &verb, &resource);
  } catch (const std::exception& e) {
    spdlog::error("{} {}: unexpected exception: {}", req.method, req.target, e.what());
    resp = StatusResponse(Internal(std::string("internal error: ") + e.what()));
  }
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  int code = resp ? resp->status : 200;
  metrics_->ObserveRequest(verb, resource, code, secs);
  if (spdlog::should_log(spdlog::level::debug)) {
    spdlog::debug("{} {} -> {} ({:.1f} ms)", req.method, req.target, code, secs * 1000);
  }
  if (resp) responder->Respond(std::move(*resp));
}

std::optional<http::Response> ApiHandler::Dispatch(const http::Request& req,
                                                   http::Responder* responder,
                                                   const UserInfo& user, std::string* verb,
                                                   std::string* resource) {
  const std::string& path = req.path;
  if (path == "/version") {
    Json v = {{"major", "0"},
              {"minor", "1"},
              {"gitVersion", "v" + options_.version},
              {"gitCommit", options_.git_commit},
              {"gitTreeState", "clean"},
              {"buildDate", ""},
              {"goVersion", ""},
              {"compiler", "g++"},
              {"platform", "linux/amd64"}};
    return JsonResponse(200, v.dump());
  }
  if (path == "/healthz" || path == "/livez" || path.rfind("/healthz/", 0) == 0 ||
      path.rfind("/livez/", 0) == 0) {
    return TextResponse(200, "ok");
  }
  if (path == "/readyz" || path.rfind("/readyz/", 0) == 0) {
    Status s = ready_ ? resources_->cache()->Sync(std::chrono::seconds(2)) : Unavailable("starting");
    if (!s.ok()) return TextResponse(503, "[-]store failed: " + s.message() + "\nreadyz check failed");
    return TextResponse(200, "ok");
  }
  if (path == "/metrics") {
    if (req.method != "GET") return StatusResponse(Status(Code::kMethodNotAllowed, "GET only"));
    return JsonResponse(200, metrics_->Render(), "text/plain; version=0.0.4");
  }
  auto seg = Segments(path);
  if (seg.empty()) {
    Json paths = Json::array({"/api", "/apis", "/healthz", "/livez", "/metrics", "/openapi/v3",
                              "/readyz", "/version"});
    for (const auto& gv : resources_->registry().GroupVersions()) {
      paths.push_back("/apis/" + gv);
    }
    return JsonResponse(200, Json({{"paths", paths}}).dump());
  }
  if (seg[0] == "openapi") return OpenApi(req, seg);
  if (seg[0] != "api" && seg[0] != "apis") return NotFoundPath();
  *verb = "GET";
  // Discovery: /api, /api/v1, /apis, /apis/G, /apis/G/V.
  bool core = seg[0] == "api";
  if ((core && seg.size() <= 2) || (!core && seg.size() <= 3)) {
    if (req.method != "GET") {
      return StatusResponse(Status(Code::kMethodNotAllowed, "discovery is read-only"));
    }
    return Discovery(req, seg);
  }
  auto route = ParseRoute(resources_->registry(), seg);
  if (!route.ok()) return StatusResponse(route.error());
  *resource = route->kind->plural;
  if (!route->subresource.empty()) *resource += "/" + route->subresource;
  return ServeResource(req, *route, responder, user, verb);
}

http::Response ApiHandler::Discovery(const http::Request& req,
                                     const std::vector<std::string>& seg) {
  const api::Registry& reg = resources_->registry();
  std::string accept(req.headers.Get("accept").value_or(""));
  bool core = seg[0] == "api";
  if (seg.size() == 1) {
    auto neg = Negotiate(accept, false, true);
    if (!neg.ok()) return StatusResponse(neg.error());
    if (neg->rep == Representation::kDiscovery) {
      Json doc = api::AggregatedDiscovery(reg, core, neg->version);
      http::Response r = JsonResponse(200, doc.dump(), neg->content_type);
      r.headers.Set("Vary", "Accept");
      return r;
    }
    if (core) {
      // No core group is served: clients treat a 404 as "no legacy API".
      bool any_core = false;
      for (const auto& k : reg.kinds()) any_core |= k.group.empty();
      if (!any_core) return NotFoundPath();
      return JsonResponse(200, Json({{"kind", "APIVersions"}, {"versions", {"v1"}}}).dump());
    }
    return JsonResponse(200, api::ApiGroupList(reg).dump());
  }
  if (core) {
    Json list = api::ApiResourceList(reg, "", seg[1]);
    if (list.is_null()) return NotFoundPath();
    return JsonResponse(200, list.dump());
  }
  if (seg.size() == 2) {
    Json g = api::ApiGroup(reg, seg[1]);
    if (g.is_null()) return NotFoundPath();
    return JsonResponse(200, g.dump());
  }
  Json list = api::ApiResourceList(reg, seg[1], seg[2]);
  if (list.is_null()) return NotFoundPath();
  return JsonResponse(200, list.dump());
}

http::Response ApiHandler::OpenApi(const http::Request& req, const std::vector<std::string>& seg) {
  if (seg.size() >= 2 && seg[1] == "v3") {
    if (seg.size() == 2) return JsonResponse(200, openapi_index_);
    std::string key;
    for (size_t i = 2; i < seg.size(); ++i) key += (key.empty() ? "" : "/") + seg[i];
    auto it = openapi_docs_.find(key);
    if (it == openapi_docs_.end()) return NotFoundPath();
    http::Response r = JsonResponse(200, it->second);
    if (req.query.Has("hash")) r.headers.Set("Cache-Control", "public, immutable");
    return r;
  }
  // OpenAPI v2 would have to be protobuf for kubectl; JSON is worse than nothing.
  return NotFoundPath();
}

}  // namespace lintel::server
