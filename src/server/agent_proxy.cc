#include "server/agent_proxy.h"

#include <spdlog/spdlog.h>

#include <condition_variable>
#include <mutex>
#include <thread>

#include "api/kind.h"
#include "client/http_client.h"
#include "server/http/remote_command.h"
#include "server/http/websocket.h"
#include "server/status_json.h"

namespace lintel::server {

namespace {

// One relayed stream: ends when the agent's body ends or the client leaves.
struct Relay {
  std::mutex mu;
  std::condition_variable cv;
  bool client_gone = false;
  std::string early;  // lines read before the downstream started
  std::unique_ptr<client::HttpClient> http;
  std::unique_ptr<client::HttpStream> upstream;
  std::shared_ptr<http::Stream> downstream;
};

http::Response PlainStatus(int code, std::string body) {
  http::Response r;
  r.status = code;
  r.headers.Set("Content-Type", "application/json");
  r.body = std::move(body);
  return r;
}

}  // namespace

AgentProxy::AgentProxy(Resources* resources, AgentClientCredentials credentials, int max_streams)
    : resources_(resources), credentials_(std::move(credentials)), max_streams_(max_streams) {}

std::optional<http::Response> AgentProxy::ServeLog(const http::Request& req, const Route& route,
                                                   http::Responder* responder) {
  const ErrorDetails pod_details{route.name, route.kind->group, route.kind->plural};
  auto text = resources_->Get(*route.kind, route.ns, route.name);
  if (!text.ok()) return StatusResponse(text.error(), pod_details);
  auto pod = ParseJson(*text);
  if (!pod.ok()) return StatusResponse(pod.error());
  const Json& uid = api::At(*pod, "/metadata/uid");
  const Json& host_name = api::At(*pod, "/status/host");
  if (!host_name.is_string() || host_name.get_ref<const std::string&>().empty()) {
    return StatusResponse(BadRequest("pod " + route.name + " is not on a host yet: it has no logs"),
                          pod_details);
  }
  const api::KindInfo* host_kind =
      resources_->registry().ByResource("lintel.dev", "v1alpha1", "hosts");
  auto host_text = host_kind ? resources_->Get(*host_kind, "", host_name.get<std::string>())
                             : Result<std::string>(Internal("no Host kind"));
  if (!host_text.ok()) {
    return StatusResponse(Unavailable("host " + host_name.get<std::string>() + " of pod " +
                                      route.name + ": " + host_text.error().message()));
  }
  auto host = ParseJson(*host_text);
  if (!host.ok()) return StatusResponse(host.error());
  const Json& url = api::At(*host, "/status/agentEndpoint/url");
  const Json& ca = api::At(*host, "/status/agentEndpoint/caBundle");
  if (!url.is_string() || !ca.is_string()) {
    return StatusResponse(Unavailable("host " + host_name.get<std::string>() +
                                      " publishes no agent endpoint, so its logs cannot be read "
                                      "through the API"));
  }
  if (streams_->fetch_add(1) >= max_streams_) {
    streams_->fetch_sub(1);
    return StatusResponse(Status(Code::kTooManyRequests, "too many log streams; try again"));
  }
  // From here on the count is released by whoever ends the relay.
  struct Slot {
    std::shared_ptr<std::atomic<int>> n;
    ~Slot() { n->fetch_sub(1); }
  };
  auto slot = std::make_shared<Slot>(Slot{streams_});

  client::HttpClientOptions o;
  o.base_url = url.get<std::string>();
  o.ca_pem = ca.get<std::string>();
  o.client_cert_pem = credentials_.cert_pem;
  o.client_key_pem = credentials_.key_pem;
  o.user_agent = "lintel-apiserver";
  o.max_idle_connections = 0;
  o.request_timeout = std::chrono::seconds(30);  // until the agent's head
  auto http = client::HttpClient::Create(std::move(o));
  if (!http.ok()) return StatusResponse(http.error());

  const size_t q = req.target.find('?');
  const std::string target = "/v1/workloads/" + uid.get<std::string>() + "/logs" +
                             (q == std::string::npos ? "" : req.target.substr(q));
  auto relay = std::make_shared<Relay>();
  relay->http = std::move(*http);
  // Lines may arrive on the client's stream thread before DoStream returns;
  // they wait in `early` until the downstream starts.
  auto res = relay->http->DoStream("GET", target, {}, "", [relay](std::string_view line) {
    std::string chunk(line);
    chunk += '\n';
    std::shared_ptr<http::Stream> down;
    {
      std::lock_guard<std::mutex> l(relay->mu);
      if (!relay->downstream) {
        relay->early += chunk;
        return true;
      }
      down = relay->downstream;
    }
    return down->Write(std::move(chunk));
  });
  if (!res.ok()) {
    return StatusResponse(Unavailable("host " + host_name.get<std::string>() + "'s agent at " +
                                      url.get<std::string>() + ": " + res.error().message()));
  }
  if (res->status / 100 != 2) return PlainStatus(res->status, std::move(res->body));

  http::Headers h;
  h.Set("Content-Type", "text/plain; charset=utf-8");
  auto down = responder->StartStream(200, std::move(h));
  {
    std::lock_guard<std::mutex> l(relay->mu);
    if (!relay->early.empty()) down->Write(std::move(relay->early));
    relay->downstream = down;
    relay->upstream = std::move(res->stream);
  }
  down->OnClose([relay] {
    std::lock_guard<std::mutex> l(relay->mu);
    relay->client_gone = true;
    relay->cv.notify_all();
  });
  // The watcher: the agent's body ended (Done) or the client left.
  std::thread([relay, slot] {
    std::unique_lock<std::mutex> l(relay->mu);
    while (!relay->client_gone && !relay->upstream->Done()) {
      relay->cv.wait_for(l, std::chrono::milliseconds(200));
    }
    auto upstream = std::move(relay->upstream);
    auto downstream = relay->downstream;
    l.unlock();
    upstream.reset();  // cancels and joins the reader
    downstream->Close();
  }).detach();
  return std::nullopt;
}

std::optional<http::Response> AgentProxy::ServeExec(const http::Request& req, const Route& route,
                                                    http::Responder* responder) {
  const ErrorDetails details{route.name, route.kind->group, route.kind->plural};
  if (!http::IsWebSocketUpgrade(req)) {
    return StatusResponse(BadRequest("exec needs a WebSocket upgrade (v5.channel.k8s.io or "
                                     "v4.channel.k8s.io); SPDY is not supported"),
                          details);
  }
  std::string proto = http::remotecommand::PickSubprotocol(http::OfferedSubprotocols(req));
  if (proto.empty()) {
    return StatusResponse(
        BadRequest("exec speaks v5.channel.k8s.io or v4.channel.k8s.io; neither was offered"),
        details);
  }
  if (req.query.GetAll("command").empty()) {
    return StatusResponse(BadRequest("exec needs a command (query parameter command)"), details);
  }
  return ServeWebSocket(req, route, responder, "exec", proto);
}

std::optional<http::Response> AgentProxy::ServeConsole(const http::Request& req, const Route& route,
                                                       http::Responder* responder) {
  const ErrorDetails details{route.name, route.kind->group, route.kind->plural};
  if (!http::IsWebSocketUpgrade(req)) {
    return StatusResponse(BadRequest("the console is a WebSocket: send an upgrade request"),
                          details);
  }
  auto offered = http::OfferedSubprotocols(req);
  return ServeWebSocket(req, route, responder, "console", offered.empty() ? "" : offered.front());
}

std::optional<http::Response> AgentProxy::ServeWebSocket(const http::Request& req,
                                                         const Route& route,
                                                         http::Responder* responder,
                                                         const std::string& what,
                                                         const std::string& subprotocol) {
  const ErrorDetails details{route.name, route.kind->group, route.kind->plural};
  const std::string object = route.kind->singular + " " + route.name;
  auto text = resources_->Get(*route.kind, route.ns, route.name);
  if (!text.ok()) return StatusResponse(text.error(), details);
  auto obj = ParseJson(*text);
  if (!obj.ok()) return StatusResponse(obj.error());
  const Json& uid = api::At(*obj, "/metadata/uid");
  const Json& host_name = api::At(*obj, "/status/host");
  if (!uid.is_string() || !host_name.is_string() ||
      host_name.get_ref<const std::string&>().empty()) {
    return StatusResponse(BadRequest(object + " is not on a host yet: no " + what), details);
  }
  const std::string host = host_name.get<std::string>();
  const api::KindInfo* host_kind =
      resources_->registry().ByResource("lintel.dev", "v1alpha1", "hosts");
  auto host_text = host_kind ? resources_->Get(*host_kind, "", host)
                             : Result<std::string>(Internal("no Host kind"));
  if (!host_text.ok()) {
    return StatusResponse(
        Unavailable("host " + host + " of " + object + ": " + host_text.error().message()));
  }
  auto host_obj = ParseJson(*host_text);
  if (!host_obj.ok()) return StatusResponse(host_obj.error());
  const Json& url = api::At(*host_obj, "/status/agentEndpoint/url");
  const Json& ca = api::At(*host_obj, "/status/agentEndpoint/caBundle");
  if (!url.is_string() || !ca.is_string()) {
    return StatusResponse(Unavailable("host " + host + " publishes no agent endpoint, so " + what +
                                      " cannot reach it through the API"));
  }
  if (streams_->fetch_add(1) >= max_streams_) {
    streams_->fetch_sub(1);
    return StatusResponse(Status(Code::kTooManyRequests, "too many streams; try again"));
  }
  struct Slot {
    std::shared_ptr<std::atomic<int>> n;
    ~Slot() { n->fetch_sub(1); }
  };
  auto slot = std::make_shared<Slot>(Slot{streams_});

  client::HttpClientOptions o;
  o.base_url = url.get<std::string>();
  o.ca_pem = ca.get<std::string>();
  o.client_cert_pem = credentials_.cert_pem;
  o.client_key_pem = credentials_.key_pem;
  o.user_agent = "lintel-apiserver";
  o.request_timeout = std::chrono::seconds(30);  // until the agent's 101
  const size_t q = req.target.find('?');
  const std::string target = "/v1/workloads/" + uid.get<std::string>() + "/" + what +
                             (q == std::string::npos ? "" : req.target.substr(q));
  std::vector<std::string> offer;
  if (!subprotocol.empty()) offer.push_back(subprotocol);
  auto dial = http::DialWebSocket(o, target, offer);
  if (!dial.ok()) {
    return StatusResponse(Unavailable("host " + host + "'s agent at " + url.get<std::string>() +
                                      ": " + dial.error().message()));
  }
  if (!dial->socket) return PlainStatus(dial->status, std::move(dial->body));
  std::shared_ptr<http::WebSocket> up = std::move(dial->socket);
  std::shared_ptr<http::WebSocket> down = responder->AcceptWebSocket(subprotocol);
  if (!down) {
    return StatusResponse(Internal("this transport cannot upgrade to a WebSocket"));
  }
  // Two relays; whichever side ends first closes the other. The upstream
  // socket (and its thread) goes with the last of them.
  std::thread([up, down, slot] {
    while (auto m = down->Read()) {
      if (!up->Write(std::move(*m))) break;
    }
    up->Close();
  }).detach();
  std::thread([up, down, slot] {
    while (auto m = up->Read()) {
      if (!down->Write(std::move(*m))) break;
    }
    down->Close();
  }).detach();
  return std::nullopt;
}

}  // namespace lintel::server
