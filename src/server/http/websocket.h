// WebSocket client: dials a WebSocket endpoint over TCP or TLS with the same
// options as client::HttpClient (base URL, pinned CA or skip-verify, client
// certificate, bearer token). The server side is Responder::AcceptWebSocket.
//
// Threading: DialWebSocket blocks the caller until the handshake ends; the
// returned connection runs on a thread of its own and is thread-safe (see
// http::WebSocket). Destroying it sends a close frame if none was sent, waits
// briefly for the peer's, and joins the thread.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "client/http_client.h"
#include "common/status.h"
#include "server/http/http.h"

namespace lintel::http {

struct WebSocketDial {
  // Upgraded: the connection (its subprotocol() is the one the server chose).
  std::shared_ptr<WebSocket> socket;
  // Refused: the server's status and body (a Kubernetes Status, usually).
  int status = 101;
  std::string body;
};

// Connects to options.base_url + `target` and asks for one of `subprotocols`.
// Errors: Unavailable when the server cannot be reached or TLS fails, Timeout
// past options.connect_timeout, BadRequest for a malformed URL or TLS material.
// A refused upgrade is not an error: it comes back with `socket` null.
Result<WebSocketDial> DialWebSocket(const client::HttpClientOptions& options,
                                    const std::string& target,
                                    const std::vector<std::string>& subprotocols);

}  // namespace lintel::http
