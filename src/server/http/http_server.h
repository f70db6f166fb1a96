// HttpServer: HTTP/1.1 over TCP, optionally TLS, on Boost.Beast/Asio.
//
// Owns the listener, a small pool of I/O threads running one io_context, and a
// pool of worker threads on which Handler::Handle runs. Keep-alive is honoured;
// requests on one connection are answered in order (no pipelining beyond
// that). Oversized headers (431) and bodies (413, before the handler runs) are
// refused here with a Kubernetes Status body. Idle connections close after
// `idle_timeout`; streams (watches) are not idle while the handler writes.
//
// Threading: Start/Stop from one owner thread. Stop closes the listener and
// every connection (streams see OnClose) and joins all threads.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "common/status.h"
#include "server/http/http.h"

namespace lintel::http {

struct TlsConfig {
  std::string cert_pem;       // server certificate chain
  std::string key_pem;        // its private key
  std::string client_ca_pem;  // if set, client certificates signed by it are verified (optional)
};

struct ServerOptions {
  std::string listen = "127.0.0.1:0";  // host:port; port 0 picks a free one
  std::optional<TlsConfig> tls;
  int io_threads = 1;
  int worker_threads = 32;
  size_t max_body_bytes = 3 * 1024 * 1024;
  size_t max_header_bytes = 64 * 1024;
  std::chrono::seconds idle_timeout{120};
  // Requests for which this returns true are handled before the others
  // (WorkerPool's urgent lane). Called on an I/O thread, before authentication:
  // a priority, never a permission.
  std::function<bool(const Request&)> urgent;
};

class HttpServer {
 public:
  // `handler` must outlive the server.
  HttpServer(ServerOptions options, Handler* handler);
  ~HttpServer();  // Stop()s
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds and starts serving. Unavailable if the address is in use or invalid.
  Status Start();
  // The bound port (after Start).
  uint16_t port() const;
  void Stop();

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace lintel::http
