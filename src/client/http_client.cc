#include "client/http_client.h"

#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <cctype>
#include <condition_variable>
#include <limits>
#include <mutex>
#include <thread>

#include "client/connection.h"
#include "client/url.h"

namespace lintel::client {

namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = net::ip::tcp;
using error_code = boost::system::error_code;
using SteadyClock = std::chrono::steady_clock;

constexpr uint32_t kMaxResponseHeaderBytes = 1 << 20;
constexpr size_t kErrorBodyReadSize = 16384;
constexpr size_t kSinkReadSize = 1 << 17;

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

bool Idempotent(std::string_view method) {
  return method == "GET" || method == "HEAD" || method == "PUT" || method == "DELETE" ||
         method == "OPTIONS";
}

SteadyClock::time_point DeadlineAfter(std::chrono::milliseconds d) {
  return d.count() > 0 ? SteadyClock::now() + d : SteadyClock::time_point::max();
}

}  // namespace

// --- HttpHeaders ---

void HttpHeaders::Add(std::string_view name, std::string_view value) {
  items_.emplace_back(std::string(name), std::string(value));
}

void HttpHeaders::Set(std::string_view name, std::string_view value) {
  std::erase_if(items_, [&](const auto& kv) { return EqualsIgnoreCase(kv.first, name); });
  Add(name, value);
}

std::optional<std::string_view> HttpHeaders::Get(std::string_view name) const {
  for (const auto& [k, v] : items_) {
    if (EqualsIgnoreCase(k, name)) {
      return std::string_view(v);
    }
  }
  return std::nullopt;
}

// --- HttpClient ---

class HttpClient::Impl {
 public:
  Impl(HttpClientOptions options, BaseUrl url)
      : options_(std::move(options)), url_(std::move(url)) {}

  Status Init();
  Result<HttpResponse> Do(std::string_view method, std::string_view target,
                          const HttpHeaders& headers, std::string_view body);
  Result<StreamResponse> DoStream(std::string_view method, std::string_view target,
                                  const HttpHeaders& headers, std::string_view body,
                                  std::function<bool(std::string_view)> on_line);
  Result<HttpResponse> DoToSink(std::string_view method, std::string_view target,
                                const HttpHeaders& headers, std::string_view body,
                                const std::function<Status(std::string_view)>& on_data);
  const HttpClientOptions& options() const { return options_; }
  size_t IdleConnections() const {
    std::lock_guard lock(mu_);
    return idle_.size();
  }

 private:
  // A response whose head has been read. A non-2xx body has been read into
  // error_body (and conn is null); a 2xx body is still on conn.
  struct Opened {
    int status = 0;
    HttpHeaders headers;
    std::string error_body;
    std::unique_ptr<Connection> conn;
    std::unique_ptr<BodyParser> parser;
  };
  Result<Opened> OpenResponse(std::string_view method, std::string_view target,
                              const HttpHeaders& headers, std::string_view body);
  Result<std::string> FormatRequest(std::string_view method, std::string_view target,
                                    const HttpHeaders& headers, std::string_view body) const;
  // A pooled live connection (reused = true) or a new one.
  Result<std::unique_ptr<Connection>> Acquire(SteadyClock::time_point deadline, bool* reused);
  void Release(std::unique_ptr<Connection> conn);
  Status Connect(Connection& conn, SteadyClock::time_point deadline);
  Status Write(Connection& conn, std::string_view head, std::string_view body,
               SteadyClock::time_point deadline);
  Status Error(std::string_view what, const error_code& ec, Connection* conn = nullptr) const;
  std::string Describe(std::string_view method, std::string_view target) const {
    return std::string(method) + " " + url_.ToString() + std::string(target);
  }

  const HttpClientOptions options_;
  const BaseUrl url_;
  std::optional<net::ssl::context> tls_;
  mutable std::mutex mu_;
  std::vector<std::unique_ptr<Connection>> idle_;  // guarded by mu_
};

Status HttpClient::Impl::Init() {
  if (!url_.tls) {
    return Status::Ok();
  }
  tls_.emplace(net::ssl::context::tls_client);
  SSL_CTX_set_min_proto_version(tls_->native_handle(), TLS1_2_VERSION);
  error_code ec;
  if (options_.insecure_skip_tls_verify) {
    tls_->set_verify_mode(net::ssl::verify_none, ec);
  } else {
    tls_->set_verify_mode(net::ssl::verify_peer, ec);
    if (!options_.ca_pem.empty()) {
      tls_->add_certificate_authority(net::buffer(options_.ca_pem), ec);
      if (ec) {
        return BadRequest("TLS: certificate authority: " + ec.message());
      }
    } else {
      tls_->set_default_verify_paths(ec);
    }
  }
  if (!options_.client_cert_pem.empty() || !options_.client_key_pem.empty()) {
    tls_->use_certificate_chain(net::buffer(options_.client_cert_pem), ec);
    if (ec) {
      return BadRequest("TLS: client certificate: " + ec.message());
    }
    tls_->use_private_key(net::buffer(options_.client_key_pem), net::ssl::context::pem, ec);
    if (ec) {
      return BadRequest("TLS: client key: " + ec.message());
    }
  }
  return Status::Ok();
}

Status HttpClient::Impl::Error(std::string_view what, const error_code& ec,
                               Connection* conn) const {
  std::string msg = std::string(what) + ": " + ec.message();
  if (ec == beast::error::timeout) {
    return Timeout(std::string(what) + ": timed out");
  }
  if (ec.category() == net::error::get_ssl_category() ||
      ec.category() == net::ssl::error::get_stream_category()) {
    if (conn != nullptr && conn->tls) {
      long verify = SSL_get_verify_result(conn->tls->native_handle());
      if (verify != X509_V_OK) {
        msg += " (" + std::string(X509_verify_cert_error_string(verify)) + ")";
      }
    }
    return Status(Code::kUnavailable, msg);  // not retryable: trying again will not help
  }
  return Unavailable(msg);
}

Result<std::string> HttpClient::Impl::FormatRequest(std::string_view method,
                                                    std::string_view target,
                                                    const HttpHeaders& headers,
                                                    std::string_view body) const {
  auto unsafe = [](std::string_view s) {
    return s.find_first_of("\r\n") != std::string_view::npos;
  };
  if (method.empty() || unsafe(method) || method.find(' ') != std::string_view::npos ||
      unsafe(target) || target.find(' ') != std::string_view::npos) {
    return BadRequest("bad request line: " + std::string(method) + " " + std::string(target));
  }
  std::string out;
  out.reserve(256 + target.size());
  out.append(method).append(" ").append(url_.path_prefix);
  out.append(target.empty() || target.front() != '/' ? "/" : "").append(target);
  out.append(" HTTP/1.1\r\n");
  auto add = [&](std::string_view name, std::string_view value) {
    out.append(name).append(": ").append(value).append("\r\n");
  };
  if (!headers.Get("Host")) {
    add("Host", url_.HostHeader());
  }
  if (!headers.Get("User-Agent")) {
    add("User-Agent", options_.user_agent);
  }
  if (!headers.Get("Authorization") && !options_.bearer_token.empty()) {
    add("Authorization", "Bearer " + options_.bearer_token);
  }
  for (const auto& [name, value] : headers.all()) {
    if (unsafe(name) || unsafe(value)) {
      return BadRequest("header " + name + ": contains a line break");
    }
    if (!EqualsIgnoreCase(name, "Content-Length")) {
      add(name, value);
    }
  }
  if (!body.empty() || method == "POST" || method == "PUT" || method == "PATCH") {
    add("Content-Length", std::to_string(body.size()));
  }
  out.append("\r\n");
  return out;
}

Status HttpClient::Impl::Connect(Connection& conn, SteadyClock::time_point deadline) {
  auto connect_deadline = std::min(deadline, DeadlineAfter(options_.connect_timeout));
  std::vector<tcp::endpoint> endpoints;
  error_code ec;
  if (url_.host_is_ip) {
    endpoints.emplace_back(net::ip::make_address(url_.host), url_.port);
  } else {
    tcp::resolver resolver(conn.ioc);
    net::steady_timer timer(conn.ioc, connect_deadline);
    bool timed_out = false;
    resolver.async_resolve(url_.host, std::to_string(url_.port),
                           [&](const error_code& rec, const tcp::resolver::results_type& results) {
                             ec = rec;
                             for (const auto& r : results) {
                               endpoints.push_back(r.endpoint());
                             }
                             timer.cancel();
                           });
    timer.async_wait([&](const error_code& tec) {
      if (!tec) {
        timed_out = true;
        resolver.cancel();
      }
    });
    conn.ioc.restart();
    conn.ioc.run();
    if (timed_out) {
      return Timeout("resolve " + url_.host + ": timed out");
    }
    if (ec || endpoints.empty()) {
      return Unavailable("resolve " + url_.host + ": " + (ec ? ec.message() : "no addresses"));
    }
  }
  if (tls_) {
    conn.tls.emplace(conn.ioc, *tls_);
  } else {
    conn.tcp.emplace(conn.ioc);
  }
  conn.SetDeadline(connect_deadline);
  ec = conn.Run([&](auto handler) {
    conn.Lowest().async_connect(
        endpoints,
        [h = std::move(handler)](const error_code& e, const tcp::endpoint&) mutable { h(e); });
  });
  if (ec) {
    return Error("connect", ec);
  }
  conn.Lowest().socket().set_option(tcp::no_delay(true), ec);
  if (!conn.tls) {
    return Status::Ok();
  }
  SSL* ssl = conn.tls->native_handle();
  const std::string& name = options_.tls_server_name.empty() ? url_.host : options_.tls_server_name;
  error_code addr_ec;
  net::ip::make_address(name, addr_ec);
  bool name_is_ip = !addr_ec;
  if (!name_is_ip) {
    SSL_set_tlsext_host_name(ssl, name.c_str());
  }
  if (!options_.insecure_skip_tls_verify) {
    X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
    if (name_is_ip) {
      X509_VERIFY_PARAM_set1_ip_asc(param, name.c_str());
    } else {
      X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
      X509_VERIFY_PARAM_set1_host(param, name.c_str(), name.size());
    }
  }
  ec = conn.Run([&](auto handler) {
    conn.tls->async_handshake(net::ssl::stream_base::client, std::move(handler));
  });
  if (ec) {
    return Error("TLS handshake", ec, &conn);
  }
  return Status::Ok();
}

Result<std::unique_ptr<Connection>> HttpClient::Impl::Acquire(SteadyClock::time_point deadline,
                                                              bool* reused) {
  std::vector<std::unique_ptr<Connection>> dead;
  {
    std::lock_guard lock(mu_);
    while (!idle_.empty()) {
      std::unique_ptr<Connection> conn = std::move(idle_.back());
      idle_.pop_back();
      if (!conn->LooksDead()) {
        *reused = true;
        return conn;
      }
      dead.push_back(std::move(conn));
    }
  }
  dead.clear();
  *reused = false;
  auto conn = std::make_unique<Connection>();
  LINTEL_RETURN_IF_ERROR(Connect(*conn, deadline));
  return conn;
}

void HttpClient::Impl::Release(std::unique_ptr<Connection> conn) {
  std::lock_guard lock(mu_);
  if (idle_.size() < options_.max_idle_connections && conn->buffer.size() == 0) {
    idle_.push_back(std::move(conn));
    return;
  }
  // Too many idle ones: `conn` closes as it goes out of scope (after the lock;
  // it holds no lock of its own).
}

Status HttpClient::Impl::Write(Connection& conn, std::string_view head, std::string_view body,
                               SteadyClock::time_point deadline) {
  std::array<net::const_buffer, 2> buffers{net::buffer(head.data(), head.size()),
                                           net::buffer(body.data(), body.size())};
  conn.SetDeadline(deadline);
  error_code ec = conn.With([&](auto& stream) {
    return conn.Run([&](auto handler) { net::async_write(stream, buffers, std::move(handler)); });
  });
  return ec ? Error("write", ec, &conn) : Status::Ok();
}

Result<HttpResponse> HttpClient::Impl::Do(std::string_view method, std::string_view target,
                                          const HttpHeaders& headers, std::string_view body) {
  LINTEL_ASSIGN_OR_RETURN(std::string head, FormatRequest(method, target, headers, body));
  auto deadline = DeadlineAfter(options_.request_timeout);
  for (int attempt = 0;; ++attempt) {
    bool reused = false;
    auto acquired = Acquire(deadline, &reused);
    if (!acquired) {
      return acquired.error().Wrap(Describe(method, target));
    }
    std::unique_ptr<Connection> conn = std::move(*acquired);
    // A write error is not final: the server may have answered (413) and
    // closed, and that answer is worth reading.
    Status write_status = Write(*conn, head, body, deadline);
    bhttp::response_parser<bhttp::string_body> parser;
    parser.header_limit(kMaxResponseHeaderBytes);
    parser.body_limit(options_.max_response_bytes);
    if (method == "HEAD") {
      parser.skip(true);
    }
    conn->SetDeadline(deadline);
    error_code ec = conn->With([&](auto& stream) {
      return conn->Run([&](auto handler) {
        bhttp::async_read(stream, conn->buffer, parser, std::move(handler));
      });
    });
    if (ec) {
      bool nothing_back = !parser.got_some();
      if (reused && nothing_back && attempt == 0 && (Idempotent(method) || !write_status.ok())) {
        continue;  // the pooled connection was stale; the server saw nothing
      }
      Status s = !write_status.ok() && nothing_back ? write_status
                                                    : Error("read response", ec, conn.get());
      return s.Wrap(Describe(method, target));
    }
    auto& msg = parser.get();
    HttpResponse out;
    out.status = static_cast<int>(msg.result_int());
    CopyHeaders(msg, &out.headers);
    out.body = std::move(msg.body());
    if (write_status.ok() && msg.keep_alive()) {
      conn->SetDeadline(SteadyClock::time_point::max());
      Release(std::move(conn));
    }
    return out;
  }
}

Result<HttpClient::Impl::Opened> HttpClient::Impl::OpenResponse(std::string_view method,
                                                                std::string_view target,
                                                                const HttpHeaders& headers,
                                                                std::string_view body) {
  LINTEL_ASSIGN_OR_RETURN(std::string head, FormatRequest(method, target, headers, body));
  auto deadline = DeadlineAfter(options_.request_timeout);
  for (int attempt = 0;; ++attempt) {
    bool reused = false;
    auto acquired = Acquire(deadline, &reused);
    if (!acquired) {
      return acquired.error().Wrap(Describe(method, target));
    }
    std::unique_ptr<Connection> conn = std::move(*acquired);
    Status write_status = Write(*conn, head, body, deadline);
    auto parser = std::make_unique<BodyParser>();
    parser->header_limit(kMaxResponseHeaderBytes);
    // A watch has no end; lines are bounded instead. (Not boost::none: Beast
    // 1.74 then refuses any Content-Length body.)
    parser->body_limit(std::numeric_limits<std::uint64_t>::max());
    conn->SetDeadline(deadline);
    error_code ec = conn->With([&](auto& stream) {
      return conn->Run([&](auto handler) {
        bhttp::async_read_header(stream, conn->buffer, *parser, std::move(handler));
      });
    });
    if (ec) {
      bool nothing_back = !parser->got_some();
      if (reused && nothing_back && attempt == 0 && (Idempotent(method) || !write_status.ok())) {
        continue;
      }
      Status s = !write_status.ok() && nothing_back ? write_status
                                                    : Error("read response", ec, conn.get());
      return s.Wrap(Describe(method, target));
    }
    Opened out;
    out.status = static_cast<int>(parser->get().result_int());
    CopyHeaders(parser->get(), &out.headers);
    if (out.status < 200 || out.status > 299) {
      // An error: read the (small) body now, under the same deadline.
      std::vector<char> buf(kErrorBodyReadSize);
      while (!parser->is_done()) {
        size_t n = 0;
        ec = ReadBodySome(*conn, *parser, buf.data(), buf.size(), &n);
        out.error_body.append(buf.data(), n);
        if (ec) {
          return Error("read response", ec, conn.get()).Wrap(Describe(method, target));
        }
        if (out.error_body.size() > options_.max_response_bytes) {
          return BadRequest("response body too large").Wrap(Describe(method, target));
        }
      }
      return out;
    }
    out.conn = std::move(conn);
    out.parser = std::move(parser);
    return out;
  }
}

Result<StreamResponse> HttpClient::Impl::DoStream(std::string_view method, std::string_view target,
                                                  const HttpHeaders& headers, std::string_view body,
                                                  std::function<bool(std::string_view)> on_line) {
  LINTEL_ASSIGN_OR_RETURN(Opened opened, OpenResponse(method, target, headers, body));
  StreamResponse out;
  out.status = opened.status;
  out.headers = std::move(opened.headers);
  out.body = std::move(opened.error_body);
  if (!opened.conn) {
    return out;
  }
  opened.conn->SetDeadline(SteadyClock::time_point::max());
  auto state = std::make_shared<HttpStream::State>();
  state->conn = std::move(opened.conn);
  state->parser = std::move(opened.parser);
  state->on_line = std::move(on_line);
  state->max_line = options_.max_response_bytes;
  out.stream = std::make_unique<HttpStream>(std::move(state));
  return out;
}

Result<HttpResponse> HttpClient::Impl::DoToSink(
    std::string_view method, std::string_view target, const HttpHeaders& headers,
    std::string_view body, const std::function<Status(std::string_view)>& on_data) {
  LINTEL_ASSIGN_OR_RETURN(Opened opened, OpenResponse(method, target, headers, body));
  HttpResponse out;
  out.status = opened.status;
  out.headers = std::move(opened.headers);
  out.body = std::move(opened.error_body);
  if (!opened.conn) {
    return out;
  }
  Connection& conn = *opened.conn;
  BodyParser& parser = *opened.parser;
  std::vector<char> buf(kSinkReadSize);
  while (!parser.is_done()) {
    conn.SetDeadline(DeadlineAfter(options_.request_timeout));
    size_t n = 0;
    error_code ec = ReadBodySome(conn, parser, buf.data(), buf.size(), &n);
    if (n > 0) {
      if (Status s = on_data(std::string_view(buf.data(), n)); !s.ok()) {
        return s;
      }
    }
    if (ec) {
      return Error("read body", ec, &conn).Wrap(Describe(method, target));
    }
  }
  if (parser.get().keep_alive()) {
    conn.SetDeadline(SteadyClock::time_point::max());
    Release(std::move(opened.conn));
  }
  return out;
}

Result<std::unique_ptr<HttpClient>> HttpClient::Create(HttpClientOptions options) {
  LINTEL_ASSIGN_OR_RETURN(BaseUrl url, ParseBaseUrl(options.base_url));
  auto impl = std::make_unique<Impl>(std::move(options), std::move(url));
  LINTEL_RETURN_IF_ERROR(impl->Init());
  return std::unique_ptr<HttpClient>(new HttpClient(std::move(impl)));
}

HttpClient::HttpClient(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
HttpClient::~HttpClient() = default;

Result<HttpResponse> HttpClient::Do(std::string_view method, std::string_view target,
                                    const HttpHeaders& headers, std::string_view body) {
  return impl_->Do(method, target, headers, body);
}

Result<StreamResponse> HttpClient::DoStream(std::string_view method, std::string_view target,
                                            const HttpHeaders& headers, std::string_view body,
                                            std::function<bool(std::string_view)> on_line) {
  return impl_->DoStream(method, target, headers, body, std::move(on_line));
}

Result<HttpResponse> HttpClient::DoToSink(
    std::string_view method, std::string_view target, const HttpHeaders& headers,
    std::string_view body, const std::function<Status(std::string_view)>& on_data) {
  return impl_->DoToSink(method, target, headers, body, on_data);
}

const HttpClientOptions& HttpClient::options() const { return impl_->options(); }

size_t HttpClient::IdleConnections() const { return impl_->IdleConnections(); }

}  // namespace lintel::client
