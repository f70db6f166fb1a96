// HttpClient: synchronous HTTP/1.1 to one server, over TCP or TLS.
//
// The client of the API server: a base URL ("https://127.0.0.1:6443"), TLS
// verified against a CA (or skipped), the server name checked as a DNS name or
// an IP, optional client certificate and bearer token. Connections are kept
// alive and reused from a small pool; a pooled connection the server has
// closed meanwhile is detected and replaced (and an idempotent request whose
// reused connection turns out dead before any answer is retried once).
//
// Threading: thread-safe. Do blocks the calling thread until the response is
// read or the request timeout passes. DoStream reads the response head on the
// caller's thread and then the body on a thread of its own (see HttpStream).
//
// Errors: Unavailable (retryable) when the server cannot be reached or the
// connection breaks, Timeout when the deadline passes, Unavailable (not
// retryable) for TLS failures such as an unverifiable certificate, BadRequest
// for a bad URL or malformed response. HTTP error statuses are not errors
// here: they come back as responses.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "common/status.h"

namespace lintel::client {

// Header names as given; lookups are case-insensitive.
class HttpHeaders {
 public:
  HttpHeaders() = default;
  HttpHeaders(std::initializer_list<std::pair<std::string, std::string>> items) : items_(items) {}
  void Add(std::string_view name, std::string_view value);
  void Set(std::string_view name, std::string_view value);
  std::optional<std::string_view> Get(std::string_view name) const;
  const std::vector<std::pair<std::string, std::string>>& all() const { return items_; }

 private:
  std::vector<std::pair<std::string, std::string>> items_;
};

struct HttpResponse {
  int status = 0;
  HttpHeaders headers;
  std::string body;
};

struct HttpClientOptions {
  std::string base_url;  // "https://127.0.0.1:6443"; a path prefix is allowed
  // TLS. Without ca_pem the system's trust store is used.
  std::string ca_pem;
  bool insecure_skip_tls_verify = false;
  std::string tls_server_name;  // checked (and sent as SNI) instead of the URL host
  std::string client_cert_pem;
  std::string client_key_pem;
  // Sent as "Authorization: Bearer <token>" unless the request has its own.
  std::string bearer_token;
  std::string user_agent = "lintel";
  std::chrono::milliseconds connect_timeout{10'000};
  // Connect + write + read of one Do(); for DoStream, until the head is read.
  // Zero means none.
  std::chrono::milliseconds request_timeout{60'000};
  size_t max_idle_connections = 4;
  size_t max_response_bytes = 512u << 20;
};

// A response body being read, line by line, on its own thread.
//
// Destroying it cancels it and waits for the thread (unless destroyed from
// inside the line callback, where it only cancels).
class HttpStream {
 public:
  struct State;
  explicit HttpStream(std::shared_ptr<State> state);
  ~HttpStream();
  HttpStream(const HttpStream&) = delete;
  HttpStream& operator=(const HttpStream&) = delete;

  // Stops reading; any thread. Once Cancel returns the callback is not running
  // and will not be called again (except when called from the callback itself).
  void Cancel();
  // Blocks until the body ends. OK when it ended cleanly, was cancelled, or the
  // callback asked to stop; otherwise why it broke.
  Status Wait();
  bool Done() const;

 private:
  std::shared_ptr<State> state_;
  std::thread thread_;
};

struct StreamResponse {
  int status = 0;
  HttpHeaders headers;
  std::string body;                    // status not 2xx: the whole body, read already
  std::unique_ptr<HttpStream> stream;  // status 2xx: the body, being delivered
};

class HttpClient {
 public:
  // BadRequest for a malformed URL or unreadable TLS material.
  static Result<std::unique_ptr<HttpClient>> Create(HttpClientOptions options);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // `target` is the path and query ("/api/v1/pods?limit=5"), appended to the
  // base URL's path. Host, User-Agent, Authorization and Content-Length are
  // added unless present in `headers`.
  Result<HttpResponse> Do(std::string_view method, std::string_view target,
                          const HttpHeaders& headers = {}, std::string_view body = {});

  // Like Do, but a 2xx body is handed to `on_line` one line at a time (without
  // the "\n", and without a trailing "\r"), as it arrives, on the stream's
  // thread. `on_line` returns false to stop reading. A final unterminated line
  // is delivered when the body ends.
  Result<StreamResponse> DoStream(std::string_view method, std::string_view target,
                                  const HttpHeaders& headers, std::string_view body,
                                  std::function<bool(std::string_view line)> on_line);

  // Like Do, but a 2xx body is handed to `on_data` in chunks as it arrives, on
  // the calling thread, instead of being kept (it may be larger than memory:
  // an image layer). `on_data` returning an error stops the read and that error
  // is returned. The deadline covers the response head; after it, each read of
  // the body may take up to `request_timeout`. A non-2xx body comes back whole
  // in the response, as with Do.
  Result<HttpResponse> DoToSink(std::string_view method, std::string_view target,
                                const HttpHeaders& headers, std::string_view body,
                                const std::function<Status(std::string_view data)>& on_data);

  const HttpClientOptions& options() const;
  // Connections idle in the pool (for tests and metrics).
  size_t IdleConnections() const;

 private:
  class Impl;
  explicit HttpClient(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace lintel::client
