// Internal to the transport: one accepted connection and what it needs from
// the server that owns it (SessionHost). See README.md for the state machine.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <memory>

#include "server/http/http_server.h"
#include "server/http/responder_impl.h"
#include "server/http/session_base.h"

namespace lintel::http {

// The server as a session sees it. Every method is thread-safe.
class SessionHost {
 public:
  virtual ~SessionHost() = default;
  virtual const ServerOptions& options() const = 0;
  virtual const std::shared_ptr<Gate>& gate() const = 0;
  virtual bool stopping() const = 0;
  // Runs the handler for `request` on a worker thread. False if stopping.
  virtual bool Dispatch(Request&& request, std::shared_ptr<ResponseState> state) = 0;
  // Drops the server's reference to a closed session.
  virtual void Unregister(SessionBase* session) = 0;
};

// A session over plain TCP or TLS; `socket` must use a strand as its executor.
// Call Start() on the returned session once it is registered.
std::shared_ptr<SessionBase> NewPlainSession(SessionHost* host,
                                             boost::asio::ip::tcp::socket&& socket);
std::shared_ptr<SessionBase> NewTlsSession(SessionHost* host, boost::asio::ip::tcp::socket&& socket,
                                           boost::asio::ssl::context& tls);

}  // namespace lintel::http
