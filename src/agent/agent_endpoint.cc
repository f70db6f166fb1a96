#include "agent/agent_endpoint.h"

#include <spdlog/spdlog.h>

#include <atomic>
#include <charconv>
#include <thread>

#include "agent/agent.h"
#include "agent/exec_relay.h"
#include "common/fs.h"
#include "common/http_status.h"
#include "common/time_format.h"
#include "server/http/certs.h"
#include "server/http/http_server.h"
#include "server/http/remote_command.h"

namespace lintel::agent {

namespace {

http::Response StatusBody(const Status& s) {
  http::Response r;
  r.status = CodeHttpStatus(s.code());
  r.headers.Set("Content-Type", "application/json");
  r.body = Json({{"kind", "Status"},
                 {"apiVersion", "v1"},
                 {"metadata", Json::object()},
                 {"status", "Failure"},
                 {"message", s.message()},
                 {"reason", std::string(CodeReason(s.code()))},
                 {"code", r.status}})
               .dump();
  return r;
}

bool LooksLikeIp(const std::string& s) {
  return !s.empty() && (s.find(':') != std::string::npos ||
                        s.find_first_not_of("0123456789.") == std::string::npos);
}

// The endpoint's serving pair: DIR/agent.{crt,key}, a self-signed CA that
// signs it kept beside it (DIR/agent-ca.{crt,key}); remade when the names
// change or the certificate nears its end.
Result<std::pair<http::CertKeyPair, std::string>> EnsureServingPair(
    const std::string& dir, const std::vector<std::string>& names) {
  LINTEL_RETURN_IF_ERROR(MakeDirs(dir, 0700));
  const std::string ca_crt = dir + "/agent-ca.crt", ca_key = dir + "/agent-ca.key";
  const std::string crt = dir + "/agent.crt", key = dir + "/agent.key";
  http::CertKeyPair ca;
  if (FileExists(ca_crt) && FileExists(ca_key)) {
    LINTEL_ASSIGN_OR_RETURN(ca, http::LoadCertKeyPair(ca_crt, ca_key));
  } else {
    LINTEL_ASSIGN_OR_RETURN(ca, http::GenerateCa("lintel-agent-ca"));
    LINTEL_RETURN_IF_ERROR(WriteFileAtomic(ca_key, ca.key_pem, 0600));
    LINTEL_RETURN_IF_ERROR(WriteFileAtomic(ca_crt, ca.cert_pem, 0644));
  }
  http::ServerCertOptions o;
  o.common_name = "lintel-agent";
  for (const auto& n : names) (LooksLikeIp(n) ? o.ip_addresses : o.dns_names).push_back(n);
  if (FileExists(crt) && FileExists(key)) {
    auto pair = http::LoadCertKeyPair(crt, key);
    auto info = pair.ok() ? http::InspectCert(pair->cert_pem) : Result<http::CertInfo>(Status());
    if (pair.ok() && info.ok() && info->dns_names == o.dns_names &&
        info->ip_addresses == o.ip_addresses &&
        info->not_after > std::chrono::system_clock::now() + std::chrono::hours(24 * 30)) {
      return std::make_pair(*pair, ca.cert_pem);
    }
  }
  LINTEL_ASSIGN_OR_RETURN(http::CertKeyPair pair, http::IssueServerCert(ca, o));
  LINTEL_RETURN_IF_ERROR(WriteFileAtomic(key, pair.key_pem, 0600));
  LINTEL_RETURN_IF_ERROR(WriteFileAtomic(crt, pair.cert_pem, 0644));
  return std::make_pair(pair, ca.cert_pem);
}

}  // namespace

class AgentEndpoint::Impl final : public http::Handler {
 public:
  Impl(AgentEndpointOptions o, Agent* agent) : options_(std::move(o)), agent_(agent) {}

  Status Start() {
    if (options_.cluster_ca_pem.empty()) {
      return BadRequest("the agent endpoint needs the cluster CA (a server with TLS)");
    }
    const size_t colon = options_.listen.rfind(':');
    if (colon == std::string::npos) return BadRequest("--agent-listen wants HOST:PORT");
    std::string host = options_.listen.substr(0, colon);
    if (host.size() > 1 && host.front() == '[') host = host.substr(1, host.size() - 2);
    std::vector<std::string> names = options_.names;
    if (!host.empty() && host != "0.0.0.0" && host != "::" &&
        std::find(names.begin(), names.end(), host) == names.end()) {
      names.push_back(host);
    }
    if (names.empty()) names.push_back("127.0.0.1");
    LINTEL_ASSIGN_OR_RETURN(auto pair, EnsureServingPair(options_.pki_dir, names));
    ca_pem_ = pair.second;
    http::ServerOptions so;
    so.listen = options_.listen;
    so.worker_threads = options_.worker_threads;
    so.tls = http::TlsConfig{pair.first.cert_pem, pair.first.key_pem, options_.cluster_ca_pem};
    server_ = std::make_unique<http::HttpServer>(so, this);
    LINTEL_RETURN_IF_ERROR(server_->Start());
    // The URL names what the certificate covers: the listen host, else the
    // first name.
    std::string url_host =
        (host.empty() || host == "0.0.0.0" || host == "::") ? names.front() : host;
    if (url_host.find(':') != std::string::npos) url_host = "[" + url_host + "]";
    url_ = "https://" + url_host + ":" + std::to_string(server_->port());
    spdlog::info("agent: endpoint at {}", url_);
    return Status();
  }

  void Stop() {
    if (server_) server_->Stop();
  }

  void Handle(http::Request&& req, std::unique_ptr<http::Responder> responder) override {
    if (req.client_cert_cn != options_.allowed_user) {
      responder->Respond(StatusBody(
          Forbidden("the agent endpoint serves only the API server (a client certificate for " +
                    options_.allowed_user + " from the cluster CA)")));
      return;
    }
    // /v1/workloads/UID/{logs,exec,console}
    constexpr std::string_view kPrefix = "/v1/workloads/";
    const std::string& p = req.path;
    const size_t slash = p.find('/', kPrefix.size());
    const std::string what = slash == std::string::npos ? "" : p.substr(slash + 1);
    if (p.rfind(kPrefix, 0) != 0 || slash == std::string::npos ||
        (what != "logs" && what != "exec" && what != "console")) {
      responder->Respond(StatusBody(NotFound("no such path: " + p)));
      return;
    }
    if (req.method != "GET") {
      responder->Respond(StatusBody(Status(Code::kMethodNotAllowed, "GET only")));
      return;
    }
    const std::string uid = p.substr(kPrefix.size(), slash - kPrefix.size());
    if (what == "logs") {
      Logs(uid, req, std::move(responder));
    } else if (what == "exec") {
      Exec(uid, req, std::move(responder));
    } else {
      Console(uid, req, std::move(responder));
    }
  }

  std::string url_;
  std::string ca_pem_;
  std::unique_ptr<http::HttpServer> server_;

 private:
  // GET .../exec?command=..&container=&stdin=&tty= as a WebSocket speaking the
  // remotecommand protocol; errors before the process runs are a Status.
  void Exec(const std::string& uid, const http::Request& req,
            std::unique_ptr<http::Responder> responder) {
    if (!http::IsWebSocketUpgrade(req)) {
      responder->Respond(StatusBody(BadRequest("exec needs a WebSocket upgrade")));
      return;
    }
    const std::string proto = http::remotecommand::PickSubprotocol(http::OfferedSubprotocols(req));
    if (proto.empty()) {
      responder->Respond(StatusBody(
          BadRequest("exec speaks v5.channel.k8s.io or v4.channel.k8s.io; neither was offered")));
      return;
    }
    drivers::ExecOptions o;
    o.container = std::string(req.query.Get("container").value_or(""));
    for (auto c : req.query.GetAll("command")) o.command.emplace_back(c);
    o.stdin = req.query.GetBool("stdin");
    o.tty = req.query.GetBool("tty");
    if (o.command.empty()) {
      responder->Respond(StatusBody(BadRequest("exec needs a command")));
      return;
    }
    auto session = agent_->Exec(uid, o);
    if (!session.ok()) {
      responder->Respond(StatusBody(session.error()));
      return;
    }
    auto ws = responder->AcceptWebSocket(proto);
    std::thread([s = std::move(*session), ws]() mutable { RelayExec(std::move(s), ws); }).detach();
  }

  // GET .../console as a WebSocket of raw binary messages both ways.
  void Console(const std::string& uid, const http::Request& req,
               std::unique_ptr<http::Responder> responder) {
    if (!http::IsWebSocketUpgrade(req)) {
      responder->Respond(StatusBody(BadRequest("console needs a WebSocket upgrade")));
      return;
    }
    auto fd = agent_->OpenConsole(uid);
    if (!fd.ok()) {
      responder->Respond(StatusBody(fd.error()));
      return;
    }
    auto offered = http::OfferedSubprotocols(req);
    auto ws = responder->AcceptWebSocket(offered.empty() ? "" : offered.front());
    std::thread([fd = *fd, ws] { RelayConsole(fd, ws); }).detach();
  }

  void Logs(const std::string& uid, const http::Request& req,
            std::unique_ptr<http::Responder> responder) {
    drivers::LogOptions o;
    o.container = std::string(req.query.Get("container").value_or(""));
    o.previous = req.query.GetBool("previous");
    o.follow = req.query.GetBool("follow");
    if (auto t = req.query.Get("tailLines")) {
      int64_t n = -1;
      auto [ptr, ec] = std::from_chars(t->data(), t->data() + t->size(), n);
      if (ec != std::errc() || ptr != t->data() + t->size() || n < 0) {
        responder->Respond(StatusBody(BadRequest("tailLines: not a non-negative integer")));
        return;
      }
      o.tail_lines = n;
    }
    const bool timestamps = req.query.GetBool("timestamps");
    // Errors (no such workload, container or previous run) are answered as a
    // Status before any line; the stream starts with the first line, or at
    // once for a follow (which may wait long for one).
    std::shared_ptr<http::Stream> stream;
    auto start = [&] {
      if (!stream) {
        http::Headers h;
        h.Set("Content-Type", "text/plain; charset=utf-8");
        stream = responder->StartStream(200, std::move(h));
      }
    };
    if (o.follow) {
      drivers::LogOptions probe = o;
      probe.follow = false;
      probe.tail_lines = 0;
      Status s = agent_->Logs(uid, probe, [](const drivers::LogLine&) { return true; });
      if (!s.ok()) {
        responder->Respond(StatusBody(s));
        return;
      }
      start();
    }
    std::string batch;
    o.cancelled = [&stream] { return stream && stream->Closed(); };
    Status s = agent_->Logs(uid, o, [&](const drivers::LogLine& line) {
      start();
      std::string text;
      if (timestamps) text = FormatRfc3339Micro(line.time) + " ";
      text += line.text;
      text += '\n';
      return stream->Write(std::move(text));
    });
    if (!stream) {
      if (!s.ok()) {
        responder->Respond(StatusBody(s));
        return;
      }
      start();
    } else if (!s.ok()) {
      spdlog::warn("agent: logs of {}: {}", uid, s.ToString());
    }
    stream->Close();
  }

  AgentEndpointOptions options_;
  Agent* agent_;
};

Result<std::unique_ptr<AgentEndpoint>> AgentEndpoint::Start(AgentEndpointOptions options,
                                                            Agent* agent) {
  auto impl = std::make_unique<Impl>(std::move(options), agent);
  LINTEL_RETURN_IF_ERROR(impl->Start());
  return std::unique_ptr<AgentEndpoint>(new AgentEndpoint(std::move(impl)));
}

AgentEndpoint::AgentEndpoint(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
AgentEndpoint::~AgentEndpoint() { impl_->Stop(); }

Json AgentEndpoint::Advertised() const {
  return {{"url", impl_->url_}, {"caBundle", impl_->ca_pem_}};
}

uint16_t AgentEndpoint::port() const { return impl_->server_->port(); }

}  // namespace lintel::agent
