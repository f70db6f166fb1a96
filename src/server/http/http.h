// The HTTP transport the API server stands on: plain data types for one
// request and its response, and the Handler interface the transport calls.
//
// The transport (HttpServer, http_server.h) owns sockets, TLS, keep-alive,
// body limits and chunked streaming; it knows nothing of Kubernetes. A Handler
// turns a request into a response, either whole (Responder::Respond) or as a
// stream of chunks (Responder::StartStream) for watches and log follows.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace lintel::http {

// Header names are stored lower-cased; lookups are case-insensitive.
class Headers {
 public:
  void Add(std::string_view name, std::string_view value);
  void Set(std::string_view name, std::string_view value);
  // The first value of `name`, or nullopt.
  std::optional<std::string_view> Get(std::string_view name) const;
  const std::vector<std::pair<std::string, std::string>>& all() const { return items_; }

 private:
  std::vector<std::pair<std::string, std::string>> items_;
};

// Decoded query parameters in order; repeated keys are kept ("command=a&command=b").
// '+' decodes to a space, %XX to its byte.
class Query {
 public:
  static Query Parse(std::string_view raw);
  std::optional<std::string_view> Get(std::string_view key) const;  // first value
  std::vector<std::string_view> GetAll(std::string_view key) const;
  bool Has(std::string_view key) const;
  // True for "true", "True", "TRUE" and "1" (what real clients send).
  bool GetBool(std::string_view key) const;
  const std::vector<std::pair<std::string, std::string>>& all() const { return items_; }

 private:
  std::vector<std::pair<std::string, std::string>> items_;
};

struct Request {
  std::string method;  // "GET", "POST", ...
  std::string target;  // as received: path and query
  std::string path;    // percent-decoded path, no query
  Query query;
  Headers headers;
  std::string body;
  std::string remote_address;  // "127.0.0.1:53422"
  bool tls = false;
  // Subject CN of a verified TLS client certificate, if one was presented.
  std::string client_cert_cn;
  // Its subject O entries, which Kubernetes reads as the user's groups.
  std::vector<std::string> client_cert_groups;
};

struct Response {
  int status = 200;
  Headers headers;      // Content-Type goes here; Content-Length is set by the transport
  std::string body;
};

// A chunked response body in progress. Thread-safe: any thread may write.
// Writes are queued and sent in order; each Write is flushed as soon as the
// socket allows (watch events must not wait behind a buffer).
class Stream {
 public:
  virtual ~Stream() = default;
  // Queues one chunk. Returns false if the client has gone (the chunk is dropped).
  virtual bool Write(std::shared_ptr<const std::string> chunk) = 0;
  bool Write(std::string chunk) {
    return Write(std::make_shared<const std::string>(std::move(chunk)));
  }
  // Ends the body (the terminating zero chunk); the connection may then serve
  // the next request. Idempotent.
  virtual void Close() = 0;
  // Bytes queued but not yet written to the socket (for slow-client policies).
  virtual size_t QueuedBytes() const = 0;
  // True once the client disconnected or Close() was called.
  virtual bool Closed() const = 0;
  // Runs `fn` once when the client disconnects or the stream closes, on a
  // transport thread (immediately, on the caller's thread, if already closed).
  // Must not block.
  virtual void OnClose(std::function<void()> fn) = 0;
};

// A WebSocket connection (RFC 6455) after the upgrade, message by message.
// Thread-safe: one thread may block in Read while others Write and Close.
// Messages are kept whole; both binary and text frames are read, binary ones
// are written.
class WebSocket {
 public:
  virtual ~WebSocket() = default;
  // Blocks until the next message; nullopt once the peer closed, the
  // connection broke or the close handshake ended.
  virtual std::optional<std::string> Read() = 0;
  // Queues one binary message; sent in order. False if the connection is gone
  // or Close was called.
  virtual bool Write(std::string message) = 0;
  // Sends a close frame after the queued messages. Idempotent.
  virtual void Close() = 0;
  // The subprotocol agreed in the handshake ("" for none).
  virtual std::string subprotocol() const = 0;
};

// Answers one request. Exactly one of Respond or StartStream must be called,
// once, from any thread, at any time (the connection waits).
class Responder {
 public:
  virtual ~Responder() = default;
  virtual void Respond(Response&& response) = 0;
  // Sends the status line and headers with chunked encoding and returns the
  // stream for the body.
  virtual std::shared_ptr<Stream> StartStream(int status, Headers&& headers) = 0;
  // Answers a WebSocket upgrade request (see IsWebSocketUpgrade) with 101,
  // agreeing on `subprotocol` ("" for none), and returns the connection at
  // once; its handshake completes on a transport thread (Read returns nullopt
  // if it fails). Null if this responder cannot upgrade. Counts as the answer.
  virtual std::shared_ptr<WebSocket> AcceptWebSocket(std::string subprotocol) { return nullptr; }
};

// True if `req` asks to become a WebSocket (GET, Upgrade: websocket).
bool IsWebSocketUpgrade(const Request& req);
// The subprotocols a WebSocket upgrade offers (Sec-WebSocket-Protocol), in order.
std::vector<std::string> OfferedSubprotocols(const Request& req);

class Handler {
 public:
  virtual ~Handler() = default;
  // Called on one of the transport's worker threads (never an I/O thread), so it
  // may block briefly (store writes). Must not throw: exceptions that escape are
  // logged and answered with 500 by the transport.
  virtual void Handle(Request&& request, std::unique_ptr<Responder> responder) = 0;
};

}  // namespace lintel::http
