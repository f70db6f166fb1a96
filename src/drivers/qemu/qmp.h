// QmpClient: a small client of QEMU's machine protocol (QMP) over its unix
// socket: the greeting, qmp_capabilities, commands with their replies, and
// the asynchronous events QEMU sends in between (SHUTDOWN, STOP, RESUME,
// POWERDOWN, ...).
//
//   QEMU ──{"QMP":{...}}──▶ client ──{"execute":"qmp_capabilities"}──▶ QEMU
//   client ──{"execute":"query-status","id":N}──▶ QEMU ──{"return":{...},"id":N}──▶
//   QEMU ──{"event":"SHUTDOWN","data":{"guest":true,"reason":"guest-shutdown"}}──▶
//
// Events that arrive while a command waits for its reply are queued; Poll
// reads those that arrived since without blocking. QEMU serves one QMP client
// at a time and accepts the next once the previous one hangs up, so an agent
// restarted reconnects to the VMs it left running.
//
// Threading: not thread-safe; the owner serialises calls (QemuDriver holds a
// per-VM mutex around each).
#pragma once

#include <chrono>
#include <deque>
#include <string>

#include "common/json.h"
#include "common/status.h"

namespace lintel::drivers::qemu {

struct QmpEvent {
  std::string name;  // SHUTDOWN, STOP, RESUME, POWERDOWN, ...
  Json data = Json::object();
};

class QmpClient {
 public:
  QmpClient() = default;
  ~QmpClient();
  QmpClient(const QmpClient&) = delete;
  QmpClient& operator=(const QmpClient&) = delete;

  // Connects to the socket at `path`, reads the greeting and negotiates
  // capabilities, retrying the connection until `timeout` (QEMU creates the
  // socket a few milliseconds after it starts). Unavailable when nothing
  // listens by then; Internal on a protocol error.
  Status Connect(const std::string& path, std::chrono::milliseconds timeout);
  bool connected() const { return fd_ >= 0; }
  void Close();

  // Runs a command and returns its "return" value. A QMP error reply becomes
  // Internal "CLASS: desc"; a closed connection Unavailable; no reply within
  // `timeout` Timeout (the connection is closed then: replies carry no order
  // we could resynchronise on).
  Result<Json> Execute(const std::string& command, const Json& arguments = Json(),
                       std::chrono::milliseconds timeout = std::chrono::seconds(5));

  // Reads whatever QEMU sent without blocking and returns the events queued
  // so far (oldest first). Unavailable once QEMU closed the connection (the
  // events read before are still returned through `events`).
  Status Poll(std::deque<QmpEvent>* events);

  // The socket, for poll(2) by the owner's monitor loop; -1 when closed.
  int fd() const { return fd_; }

 private:
  // Reads one chunk (waiting at most `timeout`) into the buffer and moves
  // complete lines to replies or events. Timeout / Unavailable as above.
  Status ReadSome(std::chrono::milliseconds timeout);
  Status HandleLine(const std::string& line);

  int fd_ = -1;
  uint64_t next_id_ = 1;
  std::string buffer_;
  std::deque<QmpEvent> events_;
  std::deque<Json> replies_;
};

}  // namespace lintel::drivers::qemu
