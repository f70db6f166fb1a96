#include "server/http/http_server.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <vector>

#include "server/http/session.h"
#include "server/http/worker_pool.h"

namespace lintel::http {

namespace {

namespace net = boost::asio;
using tcp = net::ip::tcp;
using error_code = boost::system::error_code;

// How long Stop waits for connections and I/O threads to wind down on their
// own before it stops the io_context outright.
constexpr auto kStopGrace = std::chrono::seconds(5);

// "127.0.0.1:0", "[::1]:6443", "localhost:8080", ":6443" (all IPv4 interfaces).
Result<tcp::endpoint> ParseListen(std::string_view listen) {
  auto invalid = [&](std::string_view why) {
    return Status(Code::kUnavailable,
                  "listen \"" + std::string(listen) + "\": " + std::string(why));
  };
  size_t colon = listen.rfind(':');
  if (colon == std::string_view::npos) {
    return invalid("want host:port");
  }
  std::string host(listen.substr(0, colon));
  std::string_view port_str = listen.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  if (host.empty()) {
    host = "0.0.0.0";
  } else if (host == "localhost") {
    host = "127.0.0.1";
  }
  unsigned port = 0;
  if (port_str.empty() || port_str.size() > 5) {
    return invalid("bad port");
  }
  for (char c : port_str) {
    if (c < '0' || c > '9') {
      return invalid("bad port");
    }
    port = port * 10 + static_cast<unsigned>(c - '0');
  }
  if (port > 65535) {
    return invalid("bad port");
  }
  error_code ec;
  net::ip::address addr = net::ip::make_address(host, ec);
  if (ec) {
    return invalid("host must be an IP address or localhost");
  }
  return tcp::endpoint(addr, static_cast<uint16_t>(port));
}

}  // namespace

class HttpServer::Impl final : public SessionHost {
 public:
  Impl(ServerOptions options, Handler* handler)
      : options_(std::move(options)),
        handler_(handler),
        acceptor_(net::make_strand(ioc_)),
        accept_retry_(acceptor_.get_executor()) {}

  ~Impl() override { Stop(); }

  Status Start();
  uint16_t port() const { return port_; }
  void Stop();

  // SessionHost
  const ServerOptions& options() const override { return options_; }
  const std::shared_ptr<Gate>& gate() const override { return gate_; }
  bool stopping() const override { return stopping_.load(std::memory_order_acquire); }
  bool Dispatch(Request&& request, std::shared_ptr<ResponseState> state) override;
  void Unregister(SessionBase* session) override;

 private:
  Status SetUpTls(const TlsConfig& config);
  void Accept();
  void OnAccept(const error_code& ec, tcp::socket socket);
  bool Register(const std::shared_ptr<SessionBase>& session);
  void RunHandler(Request&& request, const std::shared_ptr<ResponseState>& state);
  void RunIo();

  const ServerOptions options_;
  Handler* const handler_;
  // Declared before everything that holds its executor, so destroyed last.
  net::io_context ioc_;
  const std::shared_ptr<Gate> gate_ = std::make_shared<Gate>(ioc_.get_executor());
  std::optional<net::executor_work_guard<net::io_context::executor_type>> work_;
  std::optional<net::ssl::context> tls_;
  tcp::acceptor acceptor_;
  net::steady_timer accept_retry_;
  std::vector<std::thread> io_threads_;
  WorkerPool workers_;
  std::atomic<bool> stopping_{false};
  bool started_ = false;
  bool stopped_ = false;
  uint16_t port_ = 0;

  std::mutex sessions_mu_;
  std::condition_variable sessions_cv_;
  std::unordered_map<SessionBase*, std::shared_ptr<SessionBase>> sessions_
      LINTEL_GUARDED_BY(sessions_mu_);

  std::mutex io_mu_;
  std::condition_variable io_cv_;
  int io_running_ LINTEL_GUARDED_BY(io_mu_) = 0;
};

Status HttpServer::Impl::SetUpTls(const TlsConfig& config) {
  tls_.emplace(net::ssl::context::tls_server);
  error_code ec;
  tls_->set_options(net::ssl::context::default_workarounds | net::ssl::context::no_sslv2 |
                        net::ssl::context::no_sslv3 | net::ssl::context::no_tlsv1 |
                        net::ssl::context::no_tlsv1_1,
                    ec);
  // Idle connections (watches between events, keep-alive) give their 34 KiB
  // of TLS record buffers back: 10,000 watchers cost a third of the memory.
  SSL_CTX_set_mode(tls_->native_handle(), SSL_MODE_RELEASE_BUFFERS);
  tls_->use_certificate_chain(net::buffer(config.cert_pem), ec);
  if (ec) {
    return BadRequest("tls: server certificate: " + ec.message());
  }
  tls_->use_private_key(net::buffer(config.key_pem), net::ssl::context::pem, ec);
  if (ec) {
    return BadRequest("tls: server key: " + ec.message());
  }
  SSL_CTX* ctx = tls_->native_handle();
  if (SSL_CTX_check_private_key(ctx) != 1) {
    return Invalid("tls: the server key does not match its certificate");
  }
  // Idle connections (watches) then hold no TLS read/write buffers.
  SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
  if (!config.client_ca_pem.empty()) {
    tls_->add_certificate_authority(net::buffer(config.client_ca_pem), ec);
    if (ec) {
      return BadRequest("tls: client CA: " + ec.message());
    }
    // Verify a certificate if the client sends one; clients with tokens send none.
    tls_->set_verify_mode(net::ssl::verify_peer, ec);
    // Advertise the CA so clients pick a matching certificate.
    BIO* bio =
        BIO_new_mem_buf(config.client_ca_pem.data(), static_cast<int>(config.client_ca_pem.size()));
    while (X509* ca = bio ? PEM_read_bio_X509(bio, nullptr, nullptr, nullptr) : nullptr) {
      SSL_CTX_add_client_CA(ctx, ca);
      X509_free(ca);
    }
    BIO_free(bio);
    ERR_clear_error();
    static constexpr unsigned char kSessionContext[] = "lintel";
    SSL_CTX_set_session_id_context(ctx, kSessionContext, sizeof(kSessionContext) - 1);
  }
  return Status::Ok();
}

Status HttpServer::Impl::Start() {
  if (started_) {
    return Internal("http server: already started");
  }
  LINTEL_ASSIGN_OR_RETURN(tcp::endpoint endpoint, ParseListen(options_.listen));
  if (options_.tls) {
    LINTEL_RETURN_IF_ERROR(SetUpTls(*options_.tls));
  }
  error_code ec;
  auto fail = [&](std::string_view what) {
    error_code ignored;
    acceptor_.close(ignored);
    return Status(Code::kUnavailable,
                  "listen " + options_.listen + ": " + std::string(what) + ": " + ec.message());
  };
  if (acceptor_.open(endpoint.protocol(), ec); ec) {
    return fail("open");
  }
  if (acceptor_.set_option(tcp::acceptor::reuse_address(true), ec); ec) {
    return fail("SO_REUSEADDR");
  }
  if (acceptor_.bind(endpoint, ec); ec) {
    return fail("bind");
  }
  if (acceptor_.listen(net::socket_base::max_listen_connections, ec); ec) {
    return fail("listen");
  }
  port_ = acceptor_.local_endpoint(ec).port();
  started_ = true;
  work_.emplace(ioc_.get_executor());
  workers_.Start(options_.worker_threads);
  {
    std::lock_guard lock(io_mu_);
    io_running_ = std::max(options_.io_threads, 1);
  }
  for (int i = 0; i < std::max(options_.io_threads, 1); ++i) {
    io_threads_.emplace_back([this] { RunIo(); });
  }
  net::post(acceptor_.get_executor(), [this] { Accept(); });
  spdlog::info("http: serving {} on {}", options_.tls ? "https" : "http",
               endpoint.address().to_string() + ":" + std::to_string(port_));
  return Status::Ok();
}

void HttpServer::Impl::RunIo() {
  for (;;) {
    try {
      ioc_.run();
      break;
    } catch (const std::exception& e) {
      spdlog::error("http: I/O thread: uncaught exception: {}", e.what());
    } catch (...) {
      spdlog::error("http: I/O thread: uncaught non-exception");
    }
  }
  {
    std::lock_guard lock(io_mu_);
    --io_running_;
  }
  io_cv_.notify_all();
}

void HttpServer::Impl::Accept() {
  acceptor_.async_accept(net::make_strand(ioc_), [this](const error_code& ec, tcp::socket socket) {
    OnAccept(ec, std::move(socket));
  });
}

void HttpServer::Impl::OnAccept(const error_code& ec, tcp::socket socket) {
  if (ec == net::error::operation_aborted || !acceptor_.is_open()) {
    return;
  }
  if (ec) {
    // Out of file descriptors and the like: back off rather than spin.
    spdlog::warn("http: accept: {}", ec.message());
    accept_retry_.expires_after(std::chrono::milliseconds(100));
    accept_retry_.async_wait([this](const error_code& wait_ec) {
      if (!wait_ec && acceptor_.is_open()) {
        Accept();
      }
    });
    return;
  }
  error_code ignored;
  socket.set_option(tcp::no_delay(true), ignored);  // watch events go out at once
  // A watch may be silent for many minutes; TCP keep-alive finds peers that
  // vanished without a FIN or RST within about two minutes.
  socket.set_option(net::socket_base::keep_alive(true), ignored);
  int idle = 60;
  int interval = 15;
  int count = 4;
  int fd = socket.native_handle();
  ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle));
  ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &interval, sizeof(interval));
  ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &count, sizeof(count));
  std::shared_ptr<SessionBase> session = tls_ ? NewTlsSession(this, std::move(socket), *tls_)
                                              : NewPlainSession(this, std::move(socket));
  if (Register(session)) {
    net::post(session->strand(), [session] { session->Start(); });
  }
  Accept();
}

bool HttpServer::Impl::Register(const std::shared_ptr<SessionBase>& session) {
  std::lock_guard lock(sessions_mu_);
  if (stopping()) {
    return false;
  }
  sessions_.emplace(session.get(), session);
  return true;
}

void HttpServer::Impl::Unregister(SessionBase* session) {
  std::shared_ptr<SessionBase> dropped;
  {
    std::lock_guard lock(sessions_mu_);
    auto it = sessions_.find(session);
    if (it == sessions_.end()) {
      return;
    }
    dropped = std::move(it->second);
    sessions_.erase(it);
  }
  sessions_cv_.notify_all();
}

namespace {

// A request waiting for a worker. If it is dropped unrun (the server is
// stopping), its response slot is claimed quietly: the connection is closing
// and there is nobody to answer.
struct HandlerTask {
  std::function<void(Request&&, const std::shared_ptr<ResponseState>&)> run;
  Request request;
  std::shared_ptr<ResponseState> state;

  HandlerTask(decltype(run) r, Request&& req, std::shared_ptr<ResponseState> st)
      : run(std::move(r)), request(std::move(req)), state(std::move(st)) {}
  HandlerTask(const HandlerTask&) = delete;
  HandlerTask& operator=(const HandlerTask&) = delete;
  ~HandlerTask() {
    if (state) {
      state->Claim();
    }
  }
  void operator()() {
    std::shared_ptr<ResponseState> st = std::move(state);
    run(std::move(request), st);
  }
};

}  // namespace

bool HttpServer::Impl::Dispatch(Request&& request, std::shared_ptr<ResponseState> state) {
  const bool urgent = options_.urgent && options_.urgent(request);
  auto task = std::make_shared<HandlerTask>(
      [this](Request&& req, const std::shared_ptr<ResponseState>& st) {
        RunHandler(std::move(req), st);
      },
      std::move(request), std::move(state));
  return workers_.Submit([task] { (*task)(); }, urgent);
}

void HttpServer::Impl::RunHandler(Request&& request, const std::shared_ptr<ResponseState>& state) {
  std::string what = request.method + " " + request.path;
  try {
    handler_->Handle(std::move(request), std::make_unique<ResponderImpl>(state));
  } catch (const std::exception& e) {
    spdlog::error("http: handler threw on {}: {}", what, e.what());
    state->SendInternalError(std::string("internal error: ") + e.what());
  } catch (...) {
    spdlog::error("http: handler threw a non-exception on {}", what);
    state->SendInternalError("internal error");
  }
}

void HttpServer::Impl::Stop() {
  if (!started_ || stopped_) {
    return;
  }
  stopped_ = true;
  // 1. No new connections; close the live ones (streams see OnClose).
  std::vector<std::shared_ptr<SessionBase>> live;
  {
    std::lock_guard lock(sessions_mu_);
    stopping_.store(true, std::memory_order_release);
    for (auto& [raw, session] : sessions_) {
      live.push_back(session);
    }
  }
  net::post(acceptor_.get_executor(), [this] {
    error_code ignored;
    acceptor_.close(ignored);
    accept_retry_.cancel();
  });
  for (auto& session : live) {
    net::post(session->strand(), [session] { session->Shutdown(); });
  }
  live.clear();
  // 2. Let running handlers finish; after that nobody posts to the sessions.
  workers_.Stop();
  gate_->Close();
  // 3. Wait for the I/O threads to run out of work.
  {
    std::unique_lock lock(sessions_mu_);
    sessions_cv_.wait_for(lock, kStopGrace, [this] { return sessions_.empty(); });
  }
  work_.reset();
  {
    std::unique_lock lock(io_mu_);
    if (!io_cv_.wait_for(lock, kStopGrace, [this] { return io_running_ == 0; })) {
      spdlog::warn("http: I/O threads still busy after {}s; stopping them", kStopGrace.count());
      ioc_.stop();
    }
  }
  for (auto& t : io_threads_) {
    t.join();
  }
  io_threads_.clear();
  // 4. With no I/O thread left, close whatever did not close in time, here.
  std::unordered_map<SessionBase*, std::shared_ptr<SessionBase>> remaining;
  {
    std::lock_guard lock(sessions_mu_);
    remaining.swap(sessions_);
  }
  for (auto& [raw, session] : remaining) {
    session->Shutdown();
  }
}

HttpServer::HttpServer(ServerOptions options, Handler* handler)
    : impl_(std::make_unique<Impl>(std::move(options), handler)) {}

HttpServer::~HttpServer() { Stop(); }

Status HttpServer::Start() { return impl_->Start(); }

uint16_t HttpServer::port() const { return impl_->port(); }

void HttpServer::Stop() { impl_->Stop(); }

}  // namespace lintel::http
