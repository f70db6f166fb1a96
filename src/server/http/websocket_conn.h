// Internal to the transport: a WebSocket connection in two halves.
//
// WsCore is the thread-safe half callers hold (http::WebSocket): an inbox that
// Read blocks on and an outbox that Write fills. WsDriver<Stream> is the I/O
// half: it owns the Beast websocket stream and runs only on that stream's
// executor (a strand), keeping one read pending and one write in flight.
//
//   caller threads ── Write/Close ──▶ WsCore outbox ── kick ──▶ WsDriver::Pump (strand)
//   caller thread ◀── Read ── WsCore inbox ◀── Deliver ── WsDriver read loop (strand)
//
// The driver lives as long as one of its operations is pending; the core only
// holds a weak reference to it (through `kick`), so neither keeps the other.
#pragma once

#include <boost/asio/post.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "common/thread_annotations.h"
#include "server/http/http.h"

namespace lintel::http {

class WsCore final : public WebSocket {
 public:
  explicit WsCore(std::string subprotocol = "") : subprotocol_(std::move(subprotocol)) {}

  std::optional<std::string> Read() override;
  bool Write(std::string message) override;
  void Close() override;
  std::string subprotocol() const override;

  // --- the driver's side ---
  void SetSubprotocol(std::string p);
  // `kick` makes the driver look at the outbox (it posts to the strand).
  void Attach(std::function<void()> kick);
  void Deliver(std::string message);
  // The read side ended: nothing more arrives and nothing more can be sent.
  void Ended();
  enum class Next { kNone, kMessage, kClose };
  Next TakeNext(std::string* message);
  // Blocks until Ended or `timeout`; true if ended.
  bool WaitEnded(std::chrono::milliseconds timeout);

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::string subprotocol_ LINTEL_GUARDED_BY(mu_);
  std::deque<std::string> inbox_ LINTEL_GUARDED_BY(mu_);
  std::deque<std::string> outbox_ LINTEL_GUARDED_BY(mu_);
  bool close_queued_ LINTEL_GUARDED_BY(mu_) = false;
  bool close_taken_ LINTEL_GUARDED_BY(mu_) = false;
  bool ended_ LINTEL_GUARDED_BY(mu_) = false;
  std::function<void()> kick_ LINTEL_GUARDED_BY(mu_);
};

template <typename NextLayer>
class WsDriver final : public std::enable_shared_from_this<WsDriver<NextLayer>> {
 public:
  using error_code = boost::system::error_code;
  template <typename... Args>
  WsDriver(std::shared_ptr<WsCore> core, Args&&... args)
      : core_(std::move(core)), ws_(std::forward<Args>(args)...) {
    namespace ws = boost::beast::websocket;
    boost::beast::get_lowest_layer(ws_).expires_never();
    ws::stream_base::timeout t{};
    t.handshake_timeout = std::chrono::seconds(30);
    t.idle_timeout = ws::stream_base::none();
    t.keep_alive_pings = false;
    ws_.set_option(t);
    ws_.binary(true);
    ws_.read_message_max(64u << 20);
  }

  boost::beast::websocket::stream<NextLayer>& ws() { return ws_; }

  // Server side: answers `req` with 101 and `subprotocol`, then runs.
  template <typename Request>
  void Accept(Request req, const std::string& subprotocol) {
    namespace ws = boost::beast::websocket;
    ws_.set_option(ws::stream_base::decorator([subprotocol](ws::response_type& res) {
      if (!subprotocol.empty())
        res.set(boost::beast::http::field::sec_websocket_protocol, subprotocol);
    }));
    auto self = this->shared_from_this();
    ws_.async_accept(req, [self](const error_code& ec) {
      if (ec) {
        self->core_->Ended();
        return;
      }
      self->Run();
    });
  }

  // Starts the read loop and the writer; on the stream's executor, once the
  // handshake is done.
  void Run() {
    std::weak_ptr<WsDriver> weak = this->shared_from_this();
    auto executor = ws_.get_executor();
    core_->Attach([weak, executor] {
      boost::asio::post(executor, [weak] {
        if (auto d = weak.lock()) d->Pump();
      });
    });
    ReadMore();
    Pump();
  }

 private:
  void ReadMore() {
    auto self = this->shared_from_this();
    ws_.async_read(buffer_, [self](const error_code& ec, size_t) {
      if (ec) {
        self->read_ended_ = true;
        self->core_->Ended();
        return;
      }
      self->core_->Deliver(boost::beast::buffers_to_string(self->buffer_.data()));
      self->buffer_.consume(self->buffer_.size());
      self->ReadMore();
    });
  }

  void Pump() {
    if (writing_ || read_ended_) return;
    WsCore::Next next = core_->TakeNext(&out_);
    if (next == WsCore::Next::kNone) return;
    writing_ = true;
    auto self = this->shared_from_this();
    if (next == WsCore::Next::kClose) {
      ws_.async_close(boost::beast::websocket::close_code::normal,
                      [self](const error_code&) { self->writing_ = false; });
      return;
    }
    ws_.async_write(boost::asio::buffer(out_), [self](const error_code& ec, size_t) {
      self->writing_ = false;
      if (ec) {
        self->core_->Ended();
        return;
      }
      self->Pump();
    });
  }

  const std::shared_ptr<WsCore> core_;
  boost::beast::websocket::stream<NextLayer> ws_;
  boost::beast::flat_buffer buffer_;
  std::string out_;
  bool writing_ = false;
  bool read_ended_ = false;
};

}  // namespace lintel::http
