// RestClient: client::Client over HTTP, speaking the Kubernetes REST
// conventions to the Lintel API server (or any Kubernetes-style server).
//
// Paths: the core group is /api/v1/..., others /apis/GROUP/VERSION/...,
// with namespaces/NS/ for namespaced resources and /NAME[/SUBRESOURCE].
// Errors: a Kubernetes Status body becomes a Status whose code comes from the
// reason (falling back to the HTTP code), with its message and causes; any
// other error body becomes a message with the HTTP code. Transport failures
// come from HttpClient (Unavailable, Timeout).
//
// Threading: thread-safe; calls block. Watches deliver events on a thread of
// their own (one per watch).
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "client/client.h"
#include "client/http_client.h"
#include "client/kubeconfig.h"

namespace lintel::client {

class RestClient final : public Client {
 public:
  explicit RestClient(std::shared_ptr<HttpClient> http);
  static Result<std::unique_ptr<RestClient>> Create(HttpClientOptions options);
  static Result<std::unique_ptr<RestClient>> FromKubeconfig(const Kubeconfig& config);

  Result<Json> Get(const Resource& r, std::string_view ns, std::string_view name) override;
  Result<Json> List(const Resource& r, std::string_view ns, const ListOptions& opts) override;
  Result<Json> Create(const Resource& r, std::string_view ns, const Json& obj,
                      const WriteOptions& opts = {}) override;
  Result<Json> Update(const Resource& r, std::string_view ns, const Json& obj,
                      const WriteOptions& opts = {}, std::string_view subresource = "") override;
  Result<Json> Patch(const Resource& r, std::string_view ns, std::string_view name, PatchType type,
                     const Json& patch, const WriteOptions& opts = {},
                     std::string_view subresource = "") override;
  Result<Json> Delete(const Resource& r, std::string_view ns, std::string_view name,
                      const DeleteOptions& opts = {}) override;
  Result<std::unique_ptr<Watch>> WatchResource(const Resource& r, std::string_view ns,
                                               const ListOptions& opts,
                                               std::function<void(WatchEvent&&)> on_event) override;

  // GET of any path (discovery, /version, /openapi/v3): the JSON body, or the
  // decoded error. `accept` is sent as the Accept header.
  Result<Json> RawGet(std::string_view path_and_query,
                      std::string_view accept = "application/json");
  // Any request, answered as is (no error decoding): text bodies such as logs,
  // or callers that need the response headers.
  Result<HttpResponse> Raw(std::string_view method, std::string_view path_and_query,
                           const HttpHeaders& headers = {}, std::string_view body = {});

  HttpClient& http() { return *http_; }

  // "/apis/lintel.dev/v1alpha1/namespaces/ns/virtualmachines/name/status".
  // `ns` is left out for cluster-scoped resources and when empty.
  static std::string ResourcePath(const Resource& r, std::string_view ns,
                                  std::string_view name = "", std::string_view subresource = "");

 private:
  Result<Json> Call(std::string_view method, const std::string& target, std::string_view body = {},
                    std::string_view content_type = {});

  const std::shared_ptr<HttpClient> http_;
};

// Maps a Kubernetes Status reason to a code; unknown reasons fall back to the
// HTTP status.
Code CodeFromReason(std::string_view reason, int http_status);
// A Status for an error response (any body).
Status DecodeErrorResponse(int http_status, std::string_view body);
// A Status for a Kubernetes Status object (as in a watch ERROR event).
Status StatusFromObject(const Json& status, int http_status = 0);

}  // namespace lintel::client
