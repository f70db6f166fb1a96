// WatchFleet: thousands of TLS watch connections on one Asio thread.
//
// Per connection: connect -> TLS handshake -> write the GET -> read the head
// (must be 200) -> read the chunked body forever, counting "}\n" (each watch
// event is one JSON line; chunk framing never contains '}'). At most
// `connect_concurrency` connections are being opened at once, so the server's
// listen backlog never overflows. All state is owned by the I/O thread except
// what `mu_` guards, which the harness thread reads.
#include <openssl/ssl.h>

#include <array>
#include <utility>
#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "api_bench.h"
#include "common/thread_annotations.h"

namespace lintel::bench {

namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
using tcp = net::ip::tcp;
using error_code = boost::system::error_code;

class WatchFleet::Impl {
 public:
  explicit Impl(WatchFleetOptions options) : o_(std::move(options)) {}

  ~Impl() {
    if (thread_.joinable()) {
      net::post(ioc_, [this] {
        stopping_ = true;
        for (auto& c : conns_) {
          if (c) {
            error_code ignored;
            c->stream.lowest_layer().close(ignored);
          }
        }
        ioc_.stop();
      });
      thread_.join();
    }
  }

  Status Open(std::chrono::seconds timeout) {
    error_code ec;
    ep_ = tcp::endpoint(net::ip::make_address(o_.host, ec), o_.port);
    if (ec) {
      return BadRequest("bad host " + o_.host);
    }
    ctx_.add_certificate_authority(net::buffer(o_.ca_pem), ec);
    if (ec) {
      return BadRequest("bad CA: " + ec.message());
    }
    ctx_.set_verify_mode(ssl::verify_peer);
    // 10,000 idle connections: let OpenSSL free its 16 KiB read buffers
    // between records.
    SSL_CTX_set_mode(ctx_.native_handle(), SSL_MODE_RELEASE_BUFFERS);
    request_ = "GET " + o_.target + " HTTP/1.1\r\nHost: " + o_.host + ":" +
               std::to_string(o_.port) + "\r\nAuthorization: Bearer " + o_.token +
               "\r\nAccept: application/json\r\nUser-Agent: api-bench\r\n\r\n";
    conns_.resize(o_.watchers);
    open_start_ = SteadyClock::now();
    net::post(ioc_, [this] {
      for (size_t i = 0; i < std::min(o_.watchers, o_.connect_concurrency); ++i) {
        ConnectNext();
      }
    });
    thread_ = std::thread([this] { ioc_.run(); });
    std::unique_lock l(mu_);
    bool done = cv_.wait_for(l, timeout, [&] {
      return heads_ == o_.watchers || !first_error_.empty();
    });
    if (!first_error_.empty()) {
      return Unavailable("watch " + std::to_string(heads_ + 1) + " of " +
                         std::to_string(o_.watchers) + ": " + first_error_);
    }
    if (!done) {
      return Timeout(std::to_string(heads_) + " of " + std::to_string(o_.watchers) +
                     " watches open after " + std::to_string(timeout.count()) + " s");
    }
    return Status();
  }

  Result<Arrival> WaitForEvents(uint64_t n, std::chrono::milliseconds timeout) {
    std::unique_lock l(mu_);
    bool done = cv_.wait_for(l, timeout, [&] {
      return (n < reached_.size() && reached_[n] == o_.watchers) || broken_ > 0;
    });
    if (broken_ > 0) {
      return Unavailable(std::to_string(broken_) + " watch connections broke: " + first_error_);
    }
    if (!done) {
      size_t have = n < reached_.size() ? reached_[n] : 0;
      return Timeout(std::to_string(have) + " of " + std::to_string(o_.watchers) +
                     " watchers had event " + std::to_string(n) + " after " +
                     std::to_string(timeout.count()) + " ms");
    }
    return arrivals_[n];
  }

  double open_seconds() const {
    std::lock_guard l(mu_);
    return Seconds(open_done_ - open_start_);
  }

  size_t broken() const {
    std::lock_guard l(mu_);
    return broken_;
  }

 private:
  struct Conn {
    Conn(net::io_context& ioc, ssl::context& ctx) : stream(ioc, ctx) {}
    ssl::stream<tcp::socket> stream;
    std::array<char, 4096> buf{};
    std::string head;
    bool head_done = false;
    bool brace = false;  // the last body byte was '}'
    uint64_t events = 0;
  };

  void ConnectNext() {
    if (stopping_ || next_ >= o_.watchers) {
      return;
    }
    conns_[next_] = std::make_unique<Conn>(ioc_, ctx_);
    Conn* c = conns_[next_++].get();
    c->stream.lowest_layer().async_connect(ep_, [this, c](const error_code& ec) {
      if (ec) {
        return Fail(c, "connect: " + ec.message());
      }
      error_code ignored;
      c->stream.lowest_layer().set_option(tcp::no_delay(true), ignored);
      c->stream.async_handshake(ssl::stream_base::client, [this, c](const error_code& hec) {
        if (hec) {
          return Fail(c, "TLS handshake: " + hec.message());
        }
        net::async_write(c->stream, net::buffer(request_), [this, c](const error_code& wec,
                                                                     size_t) {
          if (wec) {
            return Fail(c, "write: " + wec.message());
          }
          Read(c);
        });
      });
    });
  }

  void Read(Conn* c) {
    c->stream.async_read_some(net::buffer(c->buf), [this, c](const error_code& ec, size_t n) {
      if (ec) {
        return Fail(c, c->head_done ? "watch ended: " + ec.message() : "read: " + ec.message());
      }
      const char* p = c->buf.data();
      const char* end = p + n;
      if (!c->head_done) {
        size_t old = c->head.size();
        c->head.append(p, n);
        size_t pos = c->head.find("\r\n\r\n");
        if (pos == std::string::npos) {
          return Read(c);
        }
        if (c->head.compare(0, 12, "HTTP/1.1 200") != 0) {
          return Fail(c, c->head.substr(0, 400));
        }
        c->head_done = true;
        p += pos + 4 - old;
        c->head.clear();
        c->head.shrink_to_fit();
        {
          std::lock_guard l(mu_);
          if (++heads_ == o_.watchers) {
            open_done_ = SteadyClock::now();
            cv_.notify_all();
          }
        }
        ConnectNext();
      }
      for (; p < end; ++p) {
        if (c->brace && *p == '\n') {
          OnEvent(c);
        }
        c->brace = *p == '}';
      }
      Read(c);
    });
  }

  void OnEvent(Conn* c) {
    uint64_t k = ++c->events;
    auto now = SteadyClock::now();
    std::lock_guard l(mu_);
    if (reached_.size() <= k) {
      reached_.resize(k + 1, 0);
      arrivals_.resize(k + 1);
    }
    if (++reached_[k] == 1) {
      arrivals_[k].first = now;
    }
    if (reached_[k] == o_.watchers) {
      arrivals_[k].last = now;
      cv_.notify_all();
    }
  }

  void Fail(Conn* c, const std::string& what) {
    if (stopping_) {
      return;
    }
    std::lock_guard l(mu_);
    ++broken_;
    if (first_error_.empty()) {
      first_error_ = what;
    }
    cv_.notify_all();
  }

  const WatchFleetOptions o_;
  std::string request_;
  net::io_context ioc_{1};
  ssl::context ctx_{ssl::context::tls_client};
  tcp::endpoint ep_;
  // I/O thread only (after Open starts it).
  std::vector<std::unique_ptr<Conn>> conns_;
  size_t next_ = 0;
  bool stopping_ = false;
  std::thread thread_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  size_t heads_ LINTEL_GUARDED_BY(mu_) = 0;
  size_t broken_ LINTEL_GUARDED_BY(mu_) = 0;
  std::string first_error_ LINTEL_GUARDED_BY(mu_);
  std::vector<size_t> reached_ LINTEL_GUARDED_BY(mu_);  // [n]: watchers with >= n events
  std::vector<Arrival> arrivals_ LINTEL_GUARDED_BY(mu_);
  SteadyClock::time_point open_start_;
  SteadyClock::time_point open_done_ LINTEL_GUARDED_BY(mu_);
};

WatchFleet::WatchFleet(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
WatchFleet::~WatchFleet() = default;

Result<std::unique_ptr<WatchFleet>> WatchFleet::Open(WatchFleetOptions options,
                                                     std::chrono::seconds timeout) {
  auto impl = std::make_unique<Impl>(std::move(options));
  LINTEL_RETURN_IF_ERROR(impl->Open(timeout));
  return std::unique_ptr<WatchFleet>(new WatchFleet(std::move(impl)));
}

Result<WatchFleet::Arrival> WatchFleet::WaitForEvents(uint64_t n,
                                                      std::chrono::milliseconds timeout) {
  return impl_->WaitForEvents(n, timeout);
}

double WatchFleet::open_seconds() const { return impl_->open_seconds(); }
size_t WatchFleet::broken() const { return impl_->broken(); }

}  // namespace lintel::bench
