// Relays between a WebSocket from the API server and what a driver gave the
// agent: an exec's descriptors (remotecommand channels, see
// server/http/remote_command.h) or a VM console's byte stream (raw binary
// messages both ways).
//
// Threading: each call blocks its caller (a thread of its own, started by the
// endpoint) until the session ends, and runs one helper thread per output.
#pragma once

#include <memory>

#include "drivers/driver.h"
#include "server/http/http.h"

namespace lintel::agent {

// Sends stdout and stderr (or the terminal) as they come, feeds stdin and
// resizes from the socket, and ends with the exit Status on channel 3 and a
// close. Kills the process if the socket goes first. Closes the descriptors.
void RelayExec(drivers::ExecSession&& session, const std::shared_ptr<http::WebSocket>& ws);

// Copies bytes both ways until either side ends; closes `fd`.
void RelayConsole(int fd, const std::shared_ptr<http::WebSocket>& ws);

}  // namespace lintel::agent
