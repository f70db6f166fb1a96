// One connection: reads requests, hands them to workers, writes answers and
// streams. Everything here runs on the connection's strand.
//
//             accept
//               │
//        [TLS] handshake ─────────────────────────────┐
//               ▼                                     │ error / timeout
//   ┌────▶ kReading ── 400/413/431 ──▶ kLingering ────┤
//   │           │ request                             ▼
//   │           ▼                                 kClosed
//   │      kHandling (no read; the handler runs)      ▲
//   │       │ Respond            │ StartStream        │ disconnect, Stop,
//   │       ▼                    ▼                    │ write error, close
//   │   kWriting            kStreaming ───────────────┤
//   │       │ keep-alive     │ (a read stays pending  │
//   │       │                │  to see the client go) │
//   │       │                ▼ last chunk written     │
//   │       │           kAwaitNext (that read still   │
//   │       │                │  pending) ─────────────┘
//   └───────┴────────────────┘
//
// From kHandling, AcceptWebSocket (DoUpgrade) hands the socket to a WsDriver
// (websocket_conn.h), which answers 101; the session is then kClosed without
// touching the socket again.
#include "server/http/session.h"

#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <spdlog/spdlog.h>

#include <array>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <chrono>
#include <optional>
#include <vector>

#include "server/http/stream_impl.h"
#include "server/http/url.h"
#include "server/http/websocket_conn.h"
#include "server/http/wire.h"

namespace lintel::http {

namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = net::ip::tcp;
using error_code = boost::system::error_code;
using SteadyClock = std::chrono::steady_clock;

// How long a refused request's remaining body is read and dropped before the
// socket closes, so that the client sees the error instead of a reset.
constexpr auto kLingerTime = std::chrono::seconds(2);
constexpr auto kMaxHandshakeTime = std::chrono::seconds(10);
// Read size while a stream is open (only pipelined bytes or EOF arrive then).
constexpr size_t kStreamReadSize = 512;

std::string FormatEndpoint(const tcp::socket& socket) {
  error_code ec;
  tcp::endpoint ep = socket.remote_endpoint(ec);
  if (ec) {
    return "unknown";
  }
  std::string addr = ep.address().to_string();
  if (ep.address().is_v6()) {
    addr = "[" + addr + "]";
  }
  return addr + ":" + std::to_string(ep.port());
}

// Subject CN and O entries of the verified client certificate (empty if none).
struct PeerIdentity {
  std::string cn;
  std::vector<std::string> groups;
};

std::vector<std::string> NameEntries(X509_NAME* name, int nid) {
  std::vector<std::string> out;
  for (int i = X509_NAME_get_index_by_NID(name, nid, -1); i >= 0;
       i = X509_NAME_get_index_by_NID(name, nid, i)) {
    unsigned char* utf8 = nullptr;
    int n = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, i)));
    if (n >= 0) {
      out.emplace_back(reinterpret_cast<char*>(utf8), static_cast<size_t>(n));
      OPENSSL_free(utf8);
    }
  }
  return out;
}

PeerIdentity VerifiedPeer(SSL* ssl) {
  PeerIdentity id;
  X509* peer = SSL_get1_peer_certificate(ssl);
  if (peer == nullptr) {
    return id;
  }
  if (SSL_get_verify_result(ssl) == X509_V_OK) {
    X509_NAME* name = X509_get_subject_name(peer);
    std::vector<std::string> cns = NameEntries(name, NID_commonName);
    if (!cns.empty()) {
      id.cn = std::move(cns.front());
    }
    id.groups = NameEntries(name, NID_organizationName);
  }
  X509_free(peer);
  return id;
}

bool IsHttpParseError(const error_code& ec) {
  return &ec.category() == &bhttp::make_error_code(bhttp::error::bad_method).category();
}

// Memory that must live until an async write completes.
struct Outgoing {
  std::string head;
  std::string body;
  std::vector<std::shared_ptr<const std::string>> chunks;
  std::vector<std::string> frames;  // reserved up front, so the buffers stay put
  std::vector<net::const_buffer> buffers;
  size_t payload_bytes = 0;
  bool last = false;
};

template <typename AsyncStream>
class Session final : public SessionBase {
 public:
  static constexpr bool kTls = !std::is_same_v<AsyncStream, beast::tcp_stream>;

  template <typename... Args>
  Session(SessionHost* host, tcp::socket&& socket, Args&&... args)
      : SessionBase(socket.get_executor()),
        host_(host),
        remote_(FormatEndpoint(socket)),
        stream_(std::move(socket), std::forward<Args>(args)...),
        timer_(strand(), SteadyClock::time_point::max()) {}

  ~Session() override {
    if (stream_body_) {
      stream_body_->Finish();
    }
  }

  void Start() override {
    ArmTimer();
    if constexpr (kTls) {
      state_ = State::kHandshake;
      SetDeadline(SteadyClock::now() + std::min<SteadyClock::duration>(
                                           host_->options().idle_timeout, kMaxHandshakeTime));
      stream_.async_handshake(net::ssl::stream_base::server,
                              [self = Self()](const error_code& ec) { self->OnHandshake(ec); });
    } else {
      ReadRequest();
    }
  }

  void DoRespond(uint64_t seq, Response&& response) override {
    if (state_ != State::kHandling || seq != seq_) {
      return;
    }
    SendResponse(std::move(response), keep_alive_ && !host_->stopping(), /*linger=*/false);
  }

  void DoStartStream(uint64_t seq, int status, Headers&& headers,
                     std::shared_ptr<StreamImpl> stream) override {
    if (state_ != State::kHandling || seq != seq_) {
      stream->Finish();
      return;
    }
    state_ = State::kStreaming;
    stream_body_ = std::move(stream);
    chunked_ = version_ >= 11;
    keep_alive_ = keep_alive_ && chunked_ && !host_->stopping();
    pending_head_ = FormatHead(status, headers, {version_, keep_alive_, chunked_, std::nullopt});
    StartStreamRead();
    FlushStream();
  }

  void DoUpgrade(uint64_t seq, std::string subprotocol, std::shared_ptr<WsCore> core) override {
    if (state_ != State::kHandling || seq != seq_ || !upgrade_request_) {
      core->Ended();
      if (state_ == State::kHandling && seq == seq_) {
        SendError(400, "BadRequest", "not a WebSocket upgrade request");
      }
      return;
    }
    // The socket moves to the WebSocket driver; this session ends without
    // touching it again.
    auto self = Self();
    state_ = State::kClosed;
    timer_.cancel();
    auto driver = std::make_shared<WsDriver<AsyncStream>>(core, std::move(stream_));
    driver->Accept(std::move(*upgrade_request_), subprotocol);
    upgrade_request_.reset();
    host_->Unregister(this);
  }

  void FlushStream() override {
    if (state_ != State::kStreaming || stream_writing_) {
      return;
    }
    StreamImpl::Batch batch = stream_body_->Take();
    if (pending_head_.empty() && batch.chunks.empty() && !batch.close) {
      return;
    }
    // One write in flight per connection, so its buffers are reused: no
    // allocation per event once a stream has warmed up.
    Outgoing& out = stream_out_;
    out.head.swap(pending_head_);
    pending_head_.clear();
    out.chunks.swap(batch.chunks);
    out.payload_bytes = batch.bytes;
    out.last = batch.close;
    out.frames.clear();
    out.buffers.clear();
    out.frames.reserve(out.chunks.size());
    out.buffers.reserve(out.chunks.size() * 3 + 2);
    if (!out.head.empty()) {
      out.buffers.emplace_back(net::buffer(out.head));
    }
    static constexpr std::string_view kCrlf = "\r\n";
    static constexpr std::string_view kLastChunk = "0\r\n\r\n";
    for (const auto& chunk : out.chunks) {
      if (chunked_) {
        char hex[24];
        int n = std::snprintf(hex, sizeof(hex), "%zx\r\n", chunk->size());
        out.frames.emplace_back(hex, static_cast<size_t>(n));
        out.buffers.emplace_back(net::buffer(out.frames.back()));
      }
      out.buffers.emplace_back(net::buffer(*chunk));
      if (chunked_) {
        out.buffers.emplace_back(net::buffer(kCrlf.data(), kCrlf.size()));
      }
    }
    if (out.last && chunked_) {
      out.buffers.emplace_back(net::buffer(kLastChunk.data(), kLastChunk.size()));
    }
    stream_writing_ = true;
    SetDeadline(SteadyClock::now() + host_->options().idle_timeout);
    net::async_write(stream_, out.buffers,
                     [self = Self()](const error_code& ec, size_t) { self->OnStreamWritten(ec); });
  }

  void Shutdown() override { Close(); }

 private:
  enum class State {
    kHandshake,
    kReading,
    kHandling,
    kWriting,
    kStreaming,
    kAwaitNext,
    kLingering,
    kClosed
  };

  std::shared_ptr<Session> Self() { return std::static_pointer_cast<Session>(shared_from_this()); }

  // --- deadline: one timer per connection, re-armed lazily ---
  //
  // The timer waits for the earliest deadline set since it last fired; moving
  // the deadline later costs nothing (the wake-up re-arms), moving it earlier
  // cancels the wait once. A stream thus pays no timer cost per chunk.
  void ArmTimer() {
    timer_.async_wait([self = Self()](const error_code&) { self->OnTimer(); });
  }

  void OnTimer() {
    if (state_ == State::kClosed) {
      return;
    }
    if (deadline_ <= SteadyClock::now()) {
      spdlog::debug("http: {} timed out", remote_);
      Close();
      return;
    }
    timer_.expires_at(deadline_);
    ArmTimer();
  }

  void SetDeadline(SteadyClock::time_point t) {
    deadline_ = t;
    if (t < timer_.expiry()) {
      timer_.expires_at(t);
    }
  }

  void ClearDeadline() { deadline_ = SteadyClock::time_point::max(); }

  // --- reading a request ---

  void OnHandshake(const error_code& ec) {
    if (state_ == State::kClosed) {
      return;
    }
    if (ec) {
      spdlog::debug("http: TLS handshake with {} failed: {}", remote_, ec.message());
      Close();
      return;
    }
    if constexpr (kTls) {
      peer_ = VerifiedPeer(stream_.native_handle());
    }
    ReadRequest();
  }

  void ReadRequest() {
    if (host_->stopping()) {
      Close();
      return;
    }
    const ServerOptions& opts = host_->options();
    state_ = State::kReading;
    parser_.emplace();
    parser_->header_limit(
        static_cast<uint32_t>(std::min<size_t>(opts.max_header_bytes, UINT32_MAX)));
    parser_->body_limit(opts.max_body_bytes);
    SetDeadline(SteadyClock::now() + opts.idle_timeout);
    bhttp::async_read_header(stream_, buffer_, *parser_,
                             [self = Self()](const error_code& ec, size_t) { self->OnHeader(ec); });
  }

  void OnHeader(const error_code& ec) {
    if (state_ == State::kClosed) {
      return;
    }
    if (ec) {
      OnReadError(ec);
      return;
    }
    auto& msg = parser_->get();
    auto expect = msg[bhttp::field::expect];
    if (!parser_->is_done() && beast::iequals(expect, "100-continue")) {
      static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
      net::async_write(stream_, net::buffer(kContinue.data(), kContinue.size()),
                       [self = Self()](const error_code& ec, size_t) {
                         if (self->state_ == State::kClosed) {
                           return;
                         }
                         if (ec) {
                           self->Close();
                           return;
                         }
                         self->ReadBody();
                       });
      return;
    }
    ReadBody();
  }

  void ReadBody() {
    if (parser_->is_done()) {
      Dispatch();
      return;
    }
    bhttp::async_read(stream_, buffer_, *parser_, [self = Self()](const error_code& ec, size_t) {
      if (self->state_ == State::kClosed) {
        return;
      }
      if (ec) {
        self->OnReadError(ec);
        return;
      }
      self->Dispatch();
    });
  }

  void OnReadError(const error_code& ec) {
    const ServerOptions& opts = host_->options();
    if (ec == bhttp::error::header_limit) {
      SendError(431, "RequestHeaderFieldsTooLarge",
                "request headers exceed " + std::to_string(opts.max_header_bytes) + " bytes");
    } else if (ec == bhttp::error::body_limit) {
      SendError(
          413, "RequestEntityTooLarge",
          "request body exceeds the limit of " + std::to_string(opts.max_body_bytes) + " bytes");
    } else if (ec == bhttp::error::end_of_stream || ec == bhttp::error::partial_message ||
               !IsHttpParseError(ec)) {
      Close();  // the client went away, or the deadline closed the socket
    } else {
      SendError(400, "BadRequest", "malformed HTTP request: " + ec.message());
    }
  }

  void Dispatch() {
    state_ = State::kHandling;
    ClearDeadline();
    auto& msg = parser_->get();
    Request req;
    req.method = std::string(msg.method_string());
    req.target = std::string(msg.target());
    std::string_view target = req.target;
    size_t q = target.find('?');
    req.path = PercentDecode(target.substr(0, q), false);
    if (q != std::string_view::npos) {
      req.query = Query::Parse(target.substr(q + 1));
    }
    for (const auto& field : msg) {
      auto name = field.name_string();
      auto value = field.value();
      req.headers.Add(std::string_view(name.data(), name.size()),
                      std::string_view(value.data(), value.size()));
    }
    if (beast::websocket::is_upgrade(msg)) {
      upgrade_request_.emplace();
      upgrade_request_->base() = msg.base();
    } else {
      upgrade_request_.reset();
    }
    req.body = std::move(msg.body());
    req.remote_address = remote_;
    req.tls = kTls;
    req.client_cert_cn = peer_.cn;
    req.client_cert_groups = peer_.groups;
    keep_alive_ = msg.keep_alive();
    version_ = msg.version() == 10 ? 10 : 11;
    head_request_ = msg.method() == bhttp::verb::head;
    parser_.reset();
    ++seq_;
    auto state = std::make_shared<ResponseState>(weak_from_this(), host_->gate(), seq_);
    if (!host_->Dispatch(std::move(req), std::move(state))) {
      Close();
    }
  }

  // --- writing a whole response ---

  void SendError(int code, std::string_view reason, const std::string& message) {
    SendResponse(StatusResponse(code, reason, message), /*keep_alive=*/false, /*linger=*/true);
  }

  void SendResponse(Response&& r, bool keep_alive, bool linger) {
    state_ = State::kWriting;
    keep_alive_ = keep_alive;
    auto out = std::make_unique<Outgoing>();
    out->head = FormatHead(r.status, r.headers, {version_, keep_alive, false, r.body.size()});
    out->buffers.emplace_back(net::buffer(out->head));
    if (!StatusHasNoBody(r.status) && !head_request_) {
      out->body = std::move(r.body);
      out->buffers.emplace_back(net::buffer(out->body));
    }
    SetDeadline(SteadyClock::now() + host_->options().idle_timeout);
    Outgoing* raw = out.get();
    net::async_write(stream_, raw->buffers,
                     [self = Self(), out = std::move(out), linger](const error_code& ec, size_t) {
                       self->OnResponseWritten(ec, linger);
                     });
  }

  void OnResponseWritten(const error_code& ec, bool linger) {
    if (state_ == State::kClosed) {
      return;
    }
    ClearDeadline();
    if (!ec && linger) {
      Linger();
    } else if (!ec && keep_alive_) {
      ReadRequest();
    } else {
      Close();
    }
  }

  // After refusing a request whose body may still be arriving: stop sending,
  // read and drop input for a while, then close.
  void Linger() {
    state_ = State::kLingering;
    error_code ignored;
    beast::get_lowest_layer(stream_).socket().shutdown(tcp::socket::shutdown_send, ignored);
    SetDeadline(SteadyClock::now() + kLingerTime);
    drain_ = std::make_unique<std::array<char, 16384>>();
    DrainRead();
  }

  void DrainRead() {
    beast::get_lowest_layer(stream_).socket().async_read_some(
        net::buffer(*drain_), [self = Self()](const error_code& ec, size_t) {
          if (self->state_ == State::kClosed) {
            return;
          }
          if (ec) {
            self->Close();
            return;
          }
          self->DrainRead();
        });
  }

  // --- streaming ---

  // Keeps one read pending while a stream is open so that a client that goes
  // away is noticed even when nothing is being written. Nothing else should
  // arrive then; what does is kept in buffer_ as the start of the next request.
  void StartStreamRead() {
    if (read_pending_) {
      return;
    }
    read_pending_ = true;
    stream_.async_read_some(
        buffer_.prepare(kStreamReadSize),
        [self = Self()](const error_code& ec, size_t n) { self->OnStreamRead(ec, n); });
  }

  void OnStreamRead(const error_code& ec, size_t n) {
    read_pending_ = false;
    if (state_ == State::kClosed) {
      return;
    }
    if (ec) {
      Close();  // EOF, reset or TLS close: the client is gone
      return;
    }
    buffer_.commit(n);
    if (state_ == State::kAwaitNext) {
      ReadRequest();
    }
    // Otherwise the client pipelined its next request behind the stream; it is
    // parsed once the stream ends. Reading stops until then (no client we know
    // does this), so a disconnect now shows only as a failed write.
  }

  void OnStreamWritten(const error_code& ec) {
    stream_writing_ = false;
    size_t bytes = stream_out_.payload_bytes;
    bool last = stream_out_.last;
    stream_out_.chunks.clear();  // drop the references to shared event chunks now
    stream_out_.head.clear();
    if (state_ == State::kClosed) {
      return;
    }
    ClearDeadline();
    stream_body_->Written(bytes);
    if (ec) {
      Close();
      return;
    }
    if (!last) {
      FlushStream();
      return;
    }
    std::shared_ptr<StreamImpl> finished = std::move(stream_body_);
    finished->Finish();
    if (!keep_alive_ || host_->stopping()) {
      Close();
    } else if (read_pending_) {
      state_ = State::kAwaitNext;
      SetDeadline(SteadyClock::now() + host_->options().idle_timeout);
    } else {
      ReadRequest();
    }
  }

  // --- closing ---

  void Close() {
    if (state_ == State::kClosed) {
      return;
    }
    auto self = Self();  // Unregister may drop the last other reference
    state_ = State::kClosed;
    timer_.cancel();
    error_code ignored;
    auto& lowest = beast::get_lowest_layer(stream_);
    lowest.socket().shutdown(tcp::socket::shutdown_both, ignored);
    lowest.close();
    if (stream_body_) {
      std::shared_ptr<StreamImpl> stream = std::move(stream_body_);
      stream->Finish();
    }
    host_->Unregister(this);
  }

  SessionHost* const host_;
  const std::string remote_;
  AsyncStream stream_;
  net::steady_timer timer_;
  SteadyClock::time_point deadline_ = SteadyClock::time_point::max();
  State state_ = State::kReading;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  PeerIdentity peer_;  // from the TLS client certificate
  uint64_t seq_ = 0;   // the request being handled
  bool keep_alive_ = true;
  int version_ = 11;
  bool head_request_ = false;
  bool read_pending_ = false;  // only tracked while streaming
  std::shared_ptr<StreamImpl> stream_body_;
  std::string pending_head_;
  Outgoing stream_out_;  // the stream write in flight
  bool chunked_ = true;
  bool stream_writing_ = false;
  std::unique_ptr<std::array<char, 16384>> drain_;
  // The current request's head, kept while it may become a WebSocket.
  std::optional<bhttp::request<bhttp::empty_body>> upgrade_request_;
};

}  // namespace

std::shared_ptr<SessionBase> NewPlainSession(SessionHost* host, tcp::socket&& socket) {
  return std::make_shared<Session<beast::tcp_stream>>(host, std::move(socket));
}

std::shared_ptr<SessionBase> NewTlsSession(SessionHost* host, tcp::socket&& socket,
                                           net::ssl::context& tls) {
  return std::make_shared<Session<beast::ssl_stream<beast::tcp_stream>>>(host, std::move(socket),
                                                                         tls);
}

}  // namespace lintel::http
