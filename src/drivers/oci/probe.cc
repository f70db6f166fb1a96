#include "drivers/oci/probe.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <sys/socket.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <thread>

#include "drivers/oci/sys_util.h"

namespace lintel::drivers::oci {

namespace {

using std::chrono::milliseconds;
using SteadyTime = std::chrono::steady_clock::time_point;

struct Address {
  sockaddr_storage ss = {};
  socklen_t len = 0;
  int family = AF_INET;
};

Result<Address> ParseAddress(const std::string& host_in, int port) {
  std::string host = host_in.empty() || host_in == "localhost" ? "127.0.0.1" : host_in;
  Address a;
  auto* in4 = reinterpret_cast<sockaddr_in*>(&a.ss);
  auto* in6 = reinterpret_cast<sockaddr_in6*>(&a.ss);
  if (::inet_pton(AF_INET, host.c_str(), &in4->sin_addr) == 1) {
    in4->sin_family = AF_INET;
    in4->sin_port = htons(static_cast<uint16_t>(port));
    a.len = sizeof(sockaddr_in);
    a.family = AF_INET;
  } else if (::inet_pton(AF_INET6, host.c_str(), &in6->sin6_addr) == 1) {
    in6->sin6_family = AF_INET6;
    in6->sin6_port = htons(static_cast<uint16_t>(port));
    a.len = sizeof(sockaddr_in6);
    a.family = AF_INET6;
  } else {
    return Invalid("probe host " + host + ": only IP addresses are supported");
  }
  return a;
}

// A non-blocking TCP socket in the network namespace at `netns`.
Result<UniqueFd> SocketInNetns(const std::string& netns, int family) {
  Result<UniqueFd> out = Internal("probe: no socket");
  std::thread t([&] {
    UniqueFd ns(::open(netns.c_str(), O_RDONLY | O_CLOEXEC));
    if (!ns.valid()) {
      out = SysError("open", netns, errno);
      return;
    }
    if (::setns(ns.get(), CLONE_NEWNET) != 0) {
      out = SysError("setns", netns, errno);
      return;
    }
    int fd = ::socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
      out = SysError("socket", "", errno);
      return;
    }
    out = UniqueFd(fd);
  });
  t.join();
  return out;
}

int MillisLeft(SteadyTime deadline) {
  auto left = std::chrono::duration_cast<milliseconds>(deadline - std::chrono::steady_clock::now());
  return static_cast<int>(std::max<int64_t>(left.count(), 0));
}

Result<UniqueFd> Connect(const ProbeSpec& spec, const ProbeTarget& t, SteadyTime deadline) {
  LINTEL_ASSIGN_OR_RETURN(Address a, ParseAddress(spec.host, spec.port));
  LINTEL_ASSIGN_OR_RETURN(UniqueFd fd, SocketInNetns(t.netns, a.family));
  std::string where =
      (spec.host.empty() ? "127.0.0.1" : spec.host) + ":" + std::to_string(spec.port);
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&a.ss), a.len) != 0) {
    if (errno != EINPROGRESS) return Unavailable("dial tcp " + where + ": " + ErrnoText(errno));
    struct pollfd p = {fd.get(), POLLOUT, 0};
    int r = ::poll(&p, 1, MillisLeft(deadline));
    if (r <= 0) return Timeout("dial tcp " + where + ": i/o timeout");
    int err = 0;
    socklen_t len = sizeof(err);
    ::getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &err, &len);
    if (err != 0) return Unavailable("dial tcp " + where + ": " + ErrnoText(err));
  }
  return fd;
}

ProbeResult ExecProbe(const ProbeSpec& spec, const ProbeTarget& t) {
  auto r = t.runtime->Exec(t.container_id, spec.command,
                           milliseconds(int64_t{spec.timeout_seconds} * 1000));
  if (!r.ok()) {
    return {false, r.error().code() == Code::kTimeout
                       ? "command timed out after " + std::to_string(spec.timeout_seconds) + "s"
                       : r.error().message()};
  }
  std::string out = r->output;
  while (!out.empty() && out.back() == '\n') out.pop_back();
  if (r->exit.code == 0) return {true, out};
  std::string msg = "command exited " + std::to_string(r->exit.code);
  if (!out.empty()) msg += ": " + OciRuntime::ErrorText(out);
  return {false, msg};
}

ProbeResult HttpProbe(const ProbeSpec& spec, const ProbeTarget& t, SteadyTime deadline) {
  if (spec.https) return {false, "HTTPS probes are not supported yet"};
  auto fd = Connect(spec, t, deadline);
  if (!fd.ok()) return {false, fd.error().message()};
  std::string host = spec.host.empty() ? "127.0.0.1" : spec.host;
  std::string req = "GET " + spec.path + " HTTP/1.1\r\nHost: " + host + ":" +
                    std::to_string(spec.port) +
                    "\r\nUser-Agent: lintel-probe/1.0\r\nAccept: */*\r\nConnection: close\r\n\r\n";
  size_t sent = 0;
  while (sent < req.size()) {
    struct pollfd p = {fd->get(), POLLOUT, 0};
    if (::poll(&p, 1, MillisLeft(deadline)) <= 0) return {false, "HTTP probe: write timed out"};
    ssize_t n = ::send(fd->get(), req.data() + sent, req.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && errno != EAGAIN && errno != EINTR) {
      return {false, std::string("HTTP probe: ") + ErrnoText(errno)};
    }
    if (n > 0) sent += static_cast<size_t>(n);
  }
  std::string resp;
  while (resp.find("\r\n") == std::string::npos && resp.size() < 4096) {
    struct pollfd p = {fd->get(), POLLIN, 0};
    if (::poll(&p, 1, MillisLeft(deadline)) <= 0) return {false, "HTTP probe: read timed out"};
    char buf[1024];
    ssize_t n = ::recv(fd->get(), buf, sizeof(buf), 0);
    if (n == 0) break;
    if (n < 0) {
      if (errno == EAGAIN || errno == EINTR) continue;
      return {false, std::string("HTTP probe: ") + ErrnoText(errno)};
    }
    resp.append(buf, static_cast<size_t>(n));
  }
  int code = ParseHttpStatus(resp);
  if (code < 0) return {false, "HTTP probe: malformed response"};
  if (code >= 200 && code < 400) return {true, "HTTP " + std::to_string(code)};
  return {false, "HTTP probe failed with statuscode: " + std::to_string(code)};
}

}  // namespace

int ParseHttpStatus(const std::string& response) {
  // "HTTP/1.1 200 OK"
  if (response.rfind("HTTP/", 0) != 0) return -1;
  size_t sp = response.find(' ');
  if (sp == std::string::npos || sp + 4 > response.size()) return -1;
  int code = 0;
  for (size_t i = sp + 1; i < sp + 4; ++i) {
    if (response[i] < '0' || response[i] > '9') return -1;
    code = code * 10 + (response[i] - '0');
  }
  return code;
}

ProbeResult RunProbe(const ProbeSpec& spec, const ProbeTarget& target) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(spec.timeout_seconds);
  switch (spec.kind) {
    case ProbeSpec::Kind::kExec:
      return ExecProbe(spec, target);
    case ProbeSpec::Kind::kTcp: {
      auto fd = Connect(spec, target, deadline);
      if (!fd.ok()) return {false, fd.error().message()};
      return {true, ""};
    }
    case ProbeSpec::Kind::kHttp:
      return HttpProbe(spec, target, deadline);
  }
  return {false, "unknown probe"};
}

bool ProbeTracker::Record(bool success) {
  bool before = ok_;
  if (success) {
    failures_ = 0;
    if (++successes_ >= success_threshold_) ok_ = true;
  } else {
    successes_ = 0;
    if (++failures_ >= failure_threshold_) ok_ = false;
  }
  return ok_ != before;
}

}  // namespace lintel::drivers::oci
