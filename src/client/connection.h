// Internal to the client: one pooled connection, and the state of a response
// body streamed from it on a thread of its own.
//
// A Connection is used by one thread at a time: the one that took it from the
// pool, or its stream's thread. Its private io_context is run only by that
// thread, one blocking call at a time.
#pragma once

#include <poll.h>

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "client/http_client.h"
#include "common/status.h"

namespace lintel::client {

using BodyParser = boost::beast::http::response_parser<boost::beast::http::buffer_body>;

struct Connection {
  boost::asio::io_context ioc{1};
  std::optional<boost::beast::tcp_stream> tcp;
  std::optional<boost::beast::ssl_stream<boost::beast::tcp_stream>> tls;
  boost::beast::flat_buffer buffer;

  ~Connection() { Abort(); }

  boost::beast::tcp_stream& Lowest() { return tls ? boost::beast::get_lowest_layer(*tls) : *tcp; }
  bool IsOpen() { return (tls || tcp) && Lowest().socket().is_open(); }

  template <typename Fn>
  decltype(auto) With(Fn&& fn) {
    if (tls) {
      return fn(*tls);
    }
    return fn(*tcp);
  }

  void SetDeadline(std::chrono::steady_clock::time_point t) {
    if (t == std::chrono::steady_clock::time_point::max()) {
      Lowest().expires_never();
    } else {
      Lowest().expires_at(t);
    }
  }

  // Starts one asynchronous operation and runs the io_context until it ends.
  template <typename Start>
  boost::system::error_code Run(Start&& start) {
    boost::system::error_code result = boost::asio::error::operation_aborted;
    start([&result](const boost::system::error_code& ec, auto&&...) { result = ec; });
    ioc.restart();
    ioc.run();
    return result;
  }

  void Abort() {
    if (tls || tcp) {
      boost::system::error_code ignored;
      Lowest().socket().shutdown(boost::asio::ip::tcp::socket::shutdown_both, ignored);
      Lowest().close();
    }
  }

  // A pooled connection should have nothing to read; if it has, the server
  // closed it (EOF) or sent something unasked, and it is not reusable.
  bool LooksDead() {
    if (!IsOpen() || buffer.size() > 0) {
      return true;
    }
    pollfd p{};
    p.fd = Lowest().socket().native_handle();
    p.events = POLLIN;
    return ::poll(&p, 1, 0) != 0;
  }
};

// Reads the next piece of a response body into `buf` (at most `size` bytes),
// under the connection's current deadline; sets *n to the bytes read. A full
// buffer is not an error.
boost::system::error_code ReadBodySome(Connection& conn, BodyParser& parser, char* buf,
                                       size_t size, size_t* n);

// Copies response header fields.
void CopyHeaders(const boost::beast::http::fields& fields, HttpHeaders* out);

// A 2xx body being read, line by line, on the stream's own thread.
struct HttpStream::State {
  std::unique_ptr<Connection> conn;
  std::unique_ptr<BodyParser> parser;
  std::function<bool(std::string_view)> on_line;
  size_t max_line = 0;
  std::string partial;     // the current line so far (stream thread only)
  std::mutex callback_mu;  // held while on_line runs, so Cancel can wait it out
  std::atomic<bool> cancelled{false};
  mutable std::mutex mu;
  std::condition_variable cv;
  bool done = false;  // guarded by mu
  Status result;      // guarded by mu

  // The stream thread's body: reads until the body ends, the callback says
  // stop, the read fails or Cancel; then records the result.
  void Run();

 private:
  // Hands one line to the callback; false to stop reading.
  bool Deliver(std::string_view line);
  // Splits `data` into lines; false to stop reading (sets `error` if it broke).
  bool Feed(std::string_view data, Status* error);
};

}  // namespace lintel::client
