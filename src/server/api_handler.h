// ApiHandler: the Kubernetes-convention HTTP API on top of Resources.
//
//   /version /healthz /livez /readyz /metrics
//   /api /apis /apis/G /apis/G/V                       discovery (legacy + aggregated)
//   /openapi/v3 /openapi/v3/apis/G/V                   OpenAPI v3 (v2: 404)
//   /apis/G/V/[namespaces/NS/]PLURAL[/NAME[/status|/scale]]   resources
//
// It authenticates, negotiates representations (JSON, Table), decodes bodies,
// maps verbs to Resources calls, encodes Status errors, streams watches from
// the WatchCache, and counts everything in Metrics.
//
// Threading: Handle runs on the transport's worker threads, concurrently.
#pragma once

#include <atomic>
#include <memory>
#include <string>

#include "common/clock.h"
#include "server/agent_proxy.h"
#include "server/auth.h"
#include "server/http/http.h"
#include "server/metrics.h"
#include "server/resources.h"
#include "server/route.h"
#include "server/watch_stream.h"

namespace lintel::server {

struct ApiHandlerOptions {
  std::string version = "0.1.0";
  std::string git_commit;
  // Watches without timeoutSeconds end after a random time in [min, 2*min).
  std::chrono::seconds min_watch_timeout{1800};
};

class ApiHandler final : public http::Handler {
 public:
  ApiHandler(Resources* resources, const Authenticator* auth, Metrics* metrics, Clock* clock,
             ApiHandlerOptions options);
  ~ApiHandler() override;

  void Handle(http::Request&& request, std::unique_ptr<http::Responder> responder) override;
  void SetReady(bool ready) { ready_ = ready; }
  // Serves pods/NAME/{log,exec} and virtualmachines/NAME/console through the
  // agents; null (no TLS): 503. Before serving.
  void SetAgentProxy(AgentProxy* proxy) { agent_proxy_ = proxy; }

 private:
  // Serves one request; returns the response, or nullopt when it started a stream.
  std::optional<http::Response> Dispatch(const http::Request& req, http::Responder* responder,
                                         const UserInfo& user, std::string* verb,
                                         std::string* resource);
  http::Response Discovery(const http::Request& req, const std::vector<std::string>& seg);
  http::Response OpenApi(const http::Request& req, const std::vector<std::string>& seg);
  std::optional<http::Response> ServeResource(const http::Request& req, const Route& route,
                                              http::Responder* responder, const UserInfo& user,
                                              std::string* verb);
  std::optional<http::Response> Watch(const http::Request& req, const Route& route,
                                      http::Responder* responder);

  Resources* resources_;
  AgentProxy* agent_proxy_ = nullptr;
  const Authenticator* auth_;
  Metrics* metrics_;
  Clock* clock_;
  ApiHandlerOptions options_;
  std::atomic<bool> ready_{true};
  std::string openapi_index_;
  std::map<std::string, std::string> openapi_docs_;  // "apis/G/V" -> document
  StreamTimers timers_;
};

}  // namespace lintel::server
