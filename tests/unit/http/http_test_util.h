// Helpers for transport and client tests: a Handler made of a lambda, a raw
// blocking TCP connection for byte-exact requests, and polling with deadlines.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <utility>

#include "server/http/http.h"

namespace lintel::http::testing {

using namespace std::chrono_literals;

class FuncHandler : public Handler {
 public:
  using Fn = std::function<void(Request&&, std::unique_ptr<Responder>)>;
  explicit FuncHandler(Fn fn) : fn_(std::move(fn)) {}
  void Handle(Request&& request, std::unique_ptr<Responder> responder) override {
    fn_(std::move(request), std::move(responder));
  }

 private:
  Fn fn_;
};

inline Response TextResponse(int status, std::string body,
                             std::string content_type = "text/plain") {
  Response r;
  r.status = status;
  r.headers.Set("Content-Type", content_type);
  r.body = std::move(body);
  return r;
}

// Polls `pred` every millisecond until it holds or `timeout` passes.
template <typename Pred>
bool WaitFor(Pred&& pred, std::chrono::milliseconds timeout = 10s) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!pred()) {
    if (std::chrono::steady_clock::now() >= deadline) {
      return false;
    }
    std::this_thread::sleep_for(1ms);
  }
  return true;
}

// A blocking loopback TCP connection whose reads give up at a deadline.
class RawConn {
 public:
  explicit RawConn(uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
    int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  }
  ~RawConn() { Close(); }
  RawConn(const RawConn&) = delete;
  RawConn& operator=(const RawConn&) = delete;

  bool connected() const { return connected_; }

  bool Send(std::string_view data) {
    while (!data.empty()) {
      ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (n <= 0) {
        return false;
      }
      data.remove_prefix(static_cast<size_t>(n));
    }
    return true;
  }

  // Reads until `buffer()` contains `marker` (true) or EOF/deadline (false).
  bool ReadUntil(std::string_view marker, std::chrono::milliseconds timeout = 10s) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (buf_.find(marker) == std::string::npos) {
      if (!ReadSome(deadline)) {
        return false;
      }
    }
    return true;
  }

  // Reads one whole response with a Content-Length body (or none) and returns
  // it, removing it from the buffer. "" on EOF or timeout.
  std::string ReadResponse(std::chrono::milliseconds timeout = 10s) {
    if (!ReadUntil("\r\n\r\n", timeout)) {
      return "";
    }
    size_t head_end = buf_.find("\r\n\r\n") + 4;
    size_t length = 0;
    std::string head = buf_.substr(0, head_end);
    std::string lower = head;
    for (char& c : lower) {
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    size_t cl = lower.find("content-length:");
    if (cl != std::string::npos) {
      length = std::stoul(head.substr(cl + 15));
    }
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (buf_.size() < head_end + length) {
      if (!ReadSome(deadline)) {
        return "";
      }
    }
    std::string out = buf_.substr(0, head_end + length);
    buf_.erase(0, head_end + length);
    return out;
  }

  // True once the peer closed (EOF or reset) before the deadline.
  bool WaitClosed(std::chrono::milliseconds timeout = 10s) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) {
        return false;
      }
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) {
        continue;
      }
      char tmp[4096];
      ssize_t n = ::recv(fd_, tmp, sizeof(tmp), 0);
      if (n <= 0) {
        return true;
      }
      buf_.append(tmp, static_cast<size_t>(n));
    }
  }

  std::string& buffer() { return buf_; }
  uint16_t local_port() const {
    sockaddr_in addr{};
    socklen_t len = sizeof(addr);
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    return ntohs(addr.sin_port);
  }

  void Close() {
    if (fd_ >= 0) {
      ::close(fd_);
      fd_ = -1;
    }
  }

 private:
  bool ReadSome(std::chrono::steady_clock::time_point deadline) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      return false;
    }
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) {
      return false;
    }
    char tmp[16384];
    ssize_t n = ::recv(fd_, tmp, sizeof(tmp), 0);
    if (n <= 0) {
      return false;
    }
    buf_.append(tmp, static_cast<size_t>(n));
    return true;
  }

  int fd_ = -1;
  bool connected_ = false;
  std::string buf_;
};

}  // namespace lintel::http::testing
