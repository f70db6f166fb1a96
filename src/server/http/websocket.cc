#include "server/http/websocket.h"

#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <optional>
#include <thread>

#include "client/url.h"
#include "server/http/websocket_conn.h"

namespace lintel::http {

// --- WsCore ---

std::optional<std::string> WsCore::Read() {
  std::unique_lock<std::mutex> l(mu_);
  cv_.wait(l, [&] { return !inbox_.empty() || ended_; });
  if (inbox_.empty()) return std::nullopt;
  std::string m = std::move(inbox_.front());
  inbox_.pop_front();
  return m;
}

bool WsCore::Write(std::string message) {
  std::function<void()> kick;
  {
    std::lock_guard<std::mutex> l(mu_);
    if (ended_ || close_queued_) return false;
    outbox_.push_back(std::move(message));
    kick = kick_;
  }
  if (kick) kick();
  return true;
}

void WsCore::Close() {
  std::function<void()> kick;
  {
    std::lock_guard<std::mutex> l(mu_);
    if (close_queued_ || ended_) return;
    close_queued_ = true;
    kick = kick_;
  }
  if (kick) kick();
}

std::string WsCore::subprotocol() const {
  std::lock_guard<std::mutex> l(mu_);
  return subprotocol_;
}

void WsCore::SetSubprotocol(std::string p) {
  std::lock_guard<std::mutex> l(mu_);
  subprotocol_ = std::move(p);
}

void WsCore::Attach(std::function<void()> kick) {
  std::lock_guard<std::mutex> l(mu_);
  kick_ = std::move(kick);
}

void WsCore::Deliver(std::string message) {
  {
    std::lock_guard<std::mutex> l(mu_);
    inbox_.push_back(std::move(message));
  }
  cv_.notify_all();
}

void WsCore::Ended() {
  {
    std::lock_guard<std::mutex> l(mu_);
    ended_ = true;
    kick_ = nullptr;
  }
  cv_.notify_all();
}

WsCore::Next WsCore::TakeNext(std::string* message) {
  std::lock_guard<std::mutex> l(mu_);
  if (!outbox_.empty()) {
    *message = std::move(outbox_.front());
    outbox_.pop_front();
    return Next::kMessage;
  }
  if (close_queued_ && !close_taken_) {
    close_taken_ = true;
    return Next::kClose;
  }
  return Next::kNone;
}

bool WsCore::WaitEnded(std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> l(mu_);
  return cv_.wait_for(l, timeout, [&] { return ended_; });
}

// --- the client ---

namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bws = boost::beast::websocket;
using tcp = net::ip::tcp;
using error_code = boost::system::error_code;

// Owns the io_context and thread a dialled connection runs on.
class ClientSocket final : public WebSocket {
 public:
  ClientSocket(std::unique_ptr<net::io_context> ioc, std::shared_ptr<WsCore> core)
      : ioc_(std::move(ioc)), core_(std::move(core)) {
    thread_ = std::thread([this] { ioc_->run(); });
  }
  ~ClientSocket() override {
    core_->Close();
    core_->WaitEnded(std::chrono::seconds(2));
    ioc_->stop();
    thread_.join();
  }
  std::optional<std::string> Read() override { return core_->Read(); }
  bool Write(std::string message) override { return core_->Write(std::move(message)); }
  void Close() override { core_->Close(); }
  std::string subprotocol() const override { return core_->subprotocol(); }

 private:
  std::unique_ptr<net::io_context> ioc_;
  std::shared_ptr<WsCore> core_;
  std::thread thread_;
};

// Runs `ioc` until `done` or the deadline; Timeout past it.
Status RunUntil(net::io_context& ioc, const bool& done, std::chrono::milliseconds timeout,
                const std::string& what) {
  ioc.restart();
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done) {
    if (ioc.run_one_until(deadline) == 0 && !done) {
      return Status(Code::kTimeout, what + ": timed out");
    }
  }
  return Status::Ok();
}

template <typename NextLayer>
Result<WebSocketDial> Handshake(std::unique_ptr<net::io_context> ioc,
                                std::shared_ptr<WsDriver<NextLayer>> driver,
                                std::shared_ptr<WsCore> core,
                                const client::HttpClientOptions& options,
                                const client::BaseUrl& url, const std::string& target,
                                const std::vector<std::string>& subprotocols) {
  std::string offered;
  for (const auto& p : subprotocols) offered += (offered.empty() ? "" : ", ") + p;
  std::string token = options.bearer_token, agent = options.user_agent;
  driver->ws().set_option(
      bws::stream_base::decorator([offered, token, agent](bws::request_type& r) {
        if (!offered.empty()) r.set(beast::http::field::sec_websocket_protocol, offered);
        if (!token.empty()) r.set(beast::http::field::authorization, "Bearer " + token);
        r.set(beast::http::field::user_agent, agent);
      }));
  bws::response_type res;
  error_code ec;
  bool done = false;
  driver->ws().async_handshake(res, url.HostHeader(), url.path_prefix + target,
                               [&](const error_code& e) {
                                 ec = e;
                                 done = true;
                               });
  Status s = RunUntil(*ioc, done,
                      options.request_timeout.count() > 0 ? options.request_timeout
                                                          : std::chrono::milliseconds(60'000),
                      "WebSocket handshake with " + url.ToString());
  if (!s.ok() || ec) driver.reset();  // before the io_context it uses
  if (!s.ok()) return s;
  if (ec) {
    if (res.result_int() != 0 && res.result_int() != 101) {
      WebSocketDial d;
      d.status = static_cast<int>(res.result_int());
      d.body = res.body();
      return d;
    }
    return Unavailable("WebSocket handshake with " + url.ToString() + ": " + ec.message());
  }
  core->SetSubprotocol(std::string(res[beast::http::field::sec_websocket_protocol]));
  net::post(driver->ws().get_executor(), [driver] { driver->Run(); });
  WebSocketDial d;
  driver.reset();
  d.socket = std::make_shared<ClientSocket>(std::move(ioc), std::move(core));
  return d;
}

}  // namespace

Result<WebSocketDial> DialWebSocket(const client::HttpClientOptions& options,
                                    const std::string& target,
                                    const std::vector<std::string>& subprotocols) {
  LINTEL_ASSIGN_OR_RETURN(client::BaseUrl url, client::ParseBaseUrl(options.base_url));
  auto ioc = std::make_unique<net::io_context>(1);
  // Resolve and connect.
  tcp::resolver resolver(*ioc);
  error_code ec;
  auto endpoints = resolver.resolve(url.host, std::to_string(url.port), ec);
  if (ec) return Unavailable("resolve " + url.host + ": " + ec.message());
  beast::tcp_stream tcp_stream(ioc->get_executor());
  bool done = false;
  tcp_stream.expires_after(options.connect_timeout);
  tcp_stream.async_connect(endpoints, [&](const error_code& e, const tcp::endpoint&) {
    ec = e;
    done = true;
  });
  LINTEL_RETURN_IF_ERROR(RunUntil(*ioc, done, options.connect_timeout + std::chrono::seconds(1),
                                  "connect to " + url.ToString()));
  if (ec) return Unavailable("connect to " + url.ToString() + ": " + ec.message());
  tcp_stream.expires_never();
  tcp_stream.socket().set_option(tcp::no_delay(true), ec);
  auto core = std::make_shared<WsCore>();
  if (!url.tls) {
    auto driver = std::make_shared<WsDriver<beast::tcp_stream>>(core, std::move(tcp_stream));
    return Handshake(std::move(ioc), std::move(driver), core, options, url, target, subprotocols);
  }
  // TLS, as client::HttpClient does it.
  net::ssl::context tls(net::ssl::context::tls_client);
  SSL_CTX_set_min_proto_version(tls.native_handle(), TLS1_2_VERSION);
  if (options.insecure_skip_tls_verify) {
    tls.set_verify_mode(net::ssl::verify_none, ec);
  } else {
    tls.set_verify_mode(net::ssl::verify_peer, ec);
    if (!options.ca_pem.empty()) {
      tls.add_certificate_authority(net::buffer(options.ca_pem), ec);
      if (ec) return BadRequest("TLS: certificate authority: " + ec.message());
    } else {
      tls.set_default_verify_paths(ec);
    }
  }
  if (!options.client_cert_pem.empty() || !options.client_key_pem.empty()) {
    tls.use_certificate_chain(net::buffer(options.client_cert_pem), ec);
    if (ec) return BadRequest("TLS: client certificate: " + ec.message());
    tls.use_private_key(net::buffer(options.client_key_pem), net::ssl::context::pem, ec);
    if (ec) return BadRequest("TLS: client key: " + ec.message());
  }
  using TlsStream = beast::ssl_stream<beast::tcp_stream>;
  // The SSL_CTX is reference-counted by each SSL, so `tls` may go after this.
  auto driver = std::make_shared<WsDriver<TlsStream>>(core, std::move(tcp_stream), tls);
  SSL* ssl = driver->ws().next_layer().native_handle();
  const std::string& name = options.tls_server_name.empty() ? url.host : options.tls_server_name;
  error_code addr_ec;
  net::ip::make_address(name, addr_ec);
  if (addr_ec) SSL_set_tlsext_host_name(ssl, name.c_str());
  if (!options.insecure_skip_tls_verify) {
    X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
    if (!addr_ec) {
      X509_VERIFY_PARAM_set1_ip_asc(param, name.c_str());
    } else {
      X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
      X509_VERIFY_PARAM_set1_host(param, name.c_str(), name.size());
    }
  }
  done = false;
  driver->ws().next_layer().async_handshake(net::ssl::stream_base::client,
                                            [&](const error_code& e) {
                                              ec = e;
                                              done = true;
                                            });
  Status tls_status =
      RunUntil(*ioc, done, options.connect_timeout, "TLS handshake with " + url.ToString());
  if (!tls_status.ok()) {
    driver.reset();
    return tls_status;
  }
  if (ec) {
    driver.reset();
    std::string msg = "TLS handshake with " + url.ToString() + ": " + ec.message();
    long verify = SSL_get_verify_result(ssl);
    if (verify != X509_V_OK) msg += " (" + std::string(X509_verify_cert_error_string(verify)) + ")";
    return Unavailable(msg);
  }
  return Handshake(std::move(ioc), std::move(driver), core, options, url, target, subprotocols);
}

}  // namespace lintel::http
