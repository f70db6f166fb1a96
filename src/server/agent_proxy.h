// AgentProxy: requests the API serves by asking a host's agent:
// GET pods/NAME/log (kubectl's PodLogOptions: container, follow, previous,
// tailLines, timestamps), pods/NAME/exec and virtualmachines/NAME/console
// (WebSockets, relayed message by message to the agent's own WebSocket).
//
//   client ── GET .../pods/NAME/log ──▶ AgentProxy: the Pod (uid, status.host)
//      ▲                                  the Host (status.agentEndpoint: url, caBundle)
//      │ chunked text                     │ HTTPS, the server's client certificate
//      └──────────── relayed ◀─────────── agent: GET /v1/workloads/UID/logs
//
// The agent's certificate is pinned to the caBundle its Host publishes; the
// server authenticates with a client certificate from the cluster CA (CN
// lintel:apiserver), which the agent checks against its kubeconfig's CA.
//
// Threading: ServeLog runs on a server worker thread until the agent answers
// the head; the body is relayed by the HTTP client's stream thread, and a
// small watcher thread per stream ends it when either side goes away. At
// most `max_streams` at once (TooManyRequests beyond). ServeExec and
// ServeConsole dial the agent on the worker thread, then relay on two
// threads of their own per session (they share the `max_streams` limit).
//
//   client ══ WebSocket (v5/v4.channel.k8s.io, or raw bytes for a console) ══▶ AgentProxy
//          ══ WebSocket, same subprotocol, TLS as above ══▶ agent /v1/workloads/UID/{exec,console}
#pragma once

#include <atomic>
#include <memory>
#include <optional>
#include <string>

#include "server/http/http.h"
#include "server/resources.h"
#include "server/route.h"

namespace lintel::server {

struct AgentClientCredentials {
  std::string cert_pem;  // CN lintel:apiserver, signed by the cluster CA
  std::string key_pem;
};

class AgentProxy {
 public:
  AgentProxy(Resources* resources, AgentClientCredentials credentials, int max_streams = 256);

  // Answers now (an error, or the agent's own error), or starts a stream on
  // `responder` and returns nullopt.
  std::optional<http::Response> ServeLog(const http::Request& req, const Route& route,
                                         http::Responder* responder);
  // A WebSocket upgrade of pods/NAME/exec (query: command, container, stdin,
  // stdout, stderr, tty) or virtualmachines/NAME/console. Errors before the
  // upgrade are answered as a Status: NotFound (no such object), BadRequest
  // (not bound to a host, not an upgrade, no known subprotocol), Unavailable
  // (no agent endpoint or unreachable), or the agent's own refusal.
  std::optional<http::Response> ServeExec(const http::Request& req, const Route& route,
                                          http::Responder* responder);
  std::optional<http::Response> ServeConsole(const http::Request& req, const Route& route,
                                             http::Responder* responder);

 private:
  std::optional<http::Response> ServeWebSocket(const http::Request& req, const Route& route,
                                               http::Responder* responder, const std::string& what,
                                               const std::string& subprotocol);

  Resources* resources_;
  const AgentClientCredentials credentials_;
  const int max_streams_;
  std::shared_ptr<std::atomic<int>> streams_ = std::make_shared<std::atomic<int>>(0);
};

}  // namespace lintel::server
