// Internal to the transport: what the per-connection Session shares with the
// objects that handler threads hold (Responder, Stream) and with the server.
//
// Handler threads never touch a session directly. They post work to its strand
// through the Gate, holding only a weak reference, so a Responder or Stream may
// outlive its connection and even the server: once the Gate is closed (Stop)
// or the session is gone, posting is a no-op.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <cstdint>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <utility>
#include <vector>

#include "common/thread_annotations.h"
#include "server/http/http.h"

namespace lintel::http {

class StreamImpl;
class WsCore;

// One connection. All virtual methods except strand() run on the strand.
class SessionBase : public std::enable_shared_from_this<SessionBase> {
 public:
  explicit SessionBase(boost::asio::any_io_executor strand) : strand_(std::move(strand)) {}
  virtual ~SessionBase() = default;

  const boost::asio::any_io_executor& strand() const { return strand_; }

  // Begins the TLS handshake or the first read. Once, right after creation.
  virtual void Start() = 0;

  // Answers request number `seq` (ignored if that request is no longer current).
  virtual void DoRespond(uint64_t seq, Response&& response) = 0;
  virtual void DoStartStream(uint64_t seq, int status, Headers&& headers,
                             std::shared_ptr<StreamImpl> stream) = 0;
  // Hands the connection to a WebSocket (101 with `subprotocol`); the session
  // ends, the socket lives on in `core`'s driver. Ends `core` if it cannot.
  virtual void DoUpgrade(uint64_t seq, std::string subprotocol, std::shared_ptr<WsCore> core) = 0;
  // Writes whatever the current stream has queued.
  virtual void FlushStream() = 0;
  // Closes the connection now (server Stop).
  virtual void Shutdown() = 0;

 private:
  const boost::asio::any_io_executor strand_;
};

// Admits posts to sessions until the server stops. Shared by the server and by
// every Responder and Stream, so it outlives both.
class Gate : public std::enable_shared_from_this<Gate> {
 public:
  explicit Gate(boost::asio::io_context::executor_type io) : io_(std::move(io)) {}

  // Runs fn(session) on the session's strand. False if the server stopped or the
  // session is gone. Cheap: a shared lock, a weak_ptr lock and one post.
  template <typename Fn>
  bool Post(const std::weak_ptr<SessionBase>& weak, Fn&& fn) {
    std::shared_lock lock(mu_);
    if (!open_) {
      return false;
    }
    std::shared_ptr<SessionBase> session = weak.lock();
    if (!session) {
      return false;
    }
    SessionBase* raw = session.get();
    boost::asio::post(raw->strand(),
                      [s = std::move(session), f = std::forward<Fn>(fn)]() mutable { f(*s); });
    return true;
  }

  // Runs session->FlushStream() on its strand. Batched for fan-out: requests
  // from handler threads collect in a list that one I/O thread drains, so that
  // writing an event to 10,000 streams wakes an I/O thread a few times, not
  // 10,000 times (posts made on an I/O thread stay in its private queue).
  bool PostFlush(const std::weak_ptr<SessionBase>& weak);

  // After Close returns, no post is in progress and none will start.
  void Close() {
    std::unique_lock lock(mu_);
    open_ = false;
  }

 private:
  void DrainFlushes();

  const boost::asio::io_context::executor_type io_;
  std::shared_mutex mu_;
  bool open_ LINTEL_GUARDED_BY(mu_) = true;
  std::mutex flush_mu_;
  std::vector<std::weak_ptr<SessionBase>> flushes_ LINTEL_GUARDED_BY(flush_mu_);
  bool drain_posted_ LINTEL_GUARDED_BY(flush_mu_) = false;
};

}  // namespace lintel::http
