#include "server/agent_proxy.h"

#include <spdlog/spdlog.h>

#include <condition_variable>
#include <mutex>
#include <thread>

#include "api/kind.h"
#include "client/http_client.h"
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

}  // namespace lintel::server
