#include "net/dns_server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <exception>
#include <optional>
#include <random>
#include <utility>

namespace lintel::net {
namespace {

using SteadyClock = std::chrono::steady_clock;

constexpr size_t kMaxTcpConnections = 128;
constexpr size_t kMaxPendingForwards = 512;
constexpr size_t kMaxTcpOutput = size_t{256} * 1024;
constexpr auto kTcpIdleTimeout = std::chrono::seconds(10);
constexpr int kMaxDatagramsPerWakeup = 64;

std::string Errno(int err) { return std::strerror(err); }  // NOLINT(concurrency-mt-unsafe)

sockaddr_in SocketAddress(Ipv4 ip, uint16_t port) {
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(ip.value);
  sa.sin_port = htons(port);
  return sa;
}

// "10.0.0.2" or "10.0.0.2:5353".
Result<sockaddr_in> ParseUpstream(std::string_view text) {
  size_t colon = text.find(':');
  Result<Ipv4> ip = Ipv4::Parse(text.substr(0, colon));
  if (!ip.ok()) return Invalid("dns upstream \"" + std::string(text) + "\": bad address");
  uint16_t port = 53;
  if (colon != std::string_view::npos) {
    std::string_view digits = text.substr(colon + 1);
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), port);
    if (ec != std::errc() || end != digits.data() + digits.size() || port == 0) {
      return Invalid("dns upstream \"" + std::string(text) + "\": bad port");
    }
  }
  return SocketAddress(*ip, port);
}

struct TcpConn {
  int fd = -1;
  std::vector<uint8_t> in, out;
  SteadyClock::time_point idle_deadline;
};

struct Pending {
  uint16_t upstream_id = 0;
  DnsQuery query;  // the client's (its id is the client's)
  bool tcp = false;
  sockaddr_in udp_client{};
  uint64_t conn_id = 0;
  SteadyClock::time_point deadline;
};

}  // namespace

struct DnsServer::Loop {
  int udp_fd = -1, tcp_fd = -1, wake_fd = -1;
  std::optional<sockaddr_in> upstream;
  std::map<uint64_t, TcpConn> conns;
  uint64_t next_conn = 1;
  std::map<int, Pending> pending;  // by the upstream socket
  std::mt19937 rng{std::random_device{}()};

  ~Loop() {
    for (auto& [id, c] : conns) ::close(c.fd);
    for (auto& [fd, p] : pending) ::close(fd);
    for (int fd : {udp_fd, tcp_fd, wake_fd}) {
      if (fd >= 0) ::close(fd);
    }
  }

  void SendUdp(const std::vector<uint8_t>& msg, const sockaddr_in& to) const {
    // A full socket buffer drops the answer, as the network would; the client retries.
    (void)::sendto(udp_fd, msg.data(), msg.size(), MSG_DONTWAIT,
                   reinterpret_cast<const sockaddr*>(&to), sizeof(to));
  }

  void Flush(uint64_t id) {
    auto it = conns.find(id);
    if (it == conns.end()) return;
    TcpConn& c = it->second;
    while (!c.out.empty()) {
      ssize_t n = ::send(c.fd, c.out.data(), c.out.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
      if (n <= 0) {
        Close(id);
        return;
      }
      c.out.erase(c.out.begin(), c.out.begin() + n);
    }
  }

  void SendTcp(uint64_t id, const std::vector<uint8_t>& msg) {
    auto it = conns.find(id);
    if (it == conns.end()) return;  // the client went away while we waited upstream
    TcpConn& c = it->second;
    if (c.out.size() + msg.size() + 2 > kMaxTcpOutput) {
      Close(id);  // a client that does not read its answers
      return;
    }
    c.out.push_back(static_cast<uint8_t>(msg.size() >> 8));
    c.out.push_back(static_cast<uint8_t>(msg.size() & 0xff));
    c.out.insert(c.out.end(), msg.begin(), msg.end());
    Flush(id);
  }

  void Close(uint64_t id) {
    auto it = conns.find(id);
    if (it == conns.end()) return;
    ::close(it->second.fd);
    conns.erase(it);
  }

  // Sends the client's query upstream with a fresh id from a fresh socket.
  void Forward(DnsQuery query, std::span<const uint8_t> message, bool tcp,
               const sockaddr_in& udp_client, uint64_t conn_id, uint32_t timeout_ms) {
    auto servfail = [&] {
      std::vector<uint8_t> reply =
          BuildDnsResponse(query, DnsAnswer{DnsRcode::kServFail, false, true, 0, {}},
                           tcp ? kDnsTcpMaxSize : DnsUdpLimit(query));
      tcp ? SendTcp(conn_id, reply) : SendUdp(reply, udp_client);
    };
    if (!upstream || pending.size() >= kMaxPendingForwards) return servfail();
    int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return servfail();
    std::vector<uint8_t> out(message.begin(), message.end());
    auto id = static_cast<uint16_t>(rng());
    out[0] = static_cast<uint8_t>(id >> 8);
    out[1] = static_cast<uint8_t>(id & 0xff);
    if (::connect(fd, reinterpret_cast<const sockaddr*>(&*upstream), sizeof(*upstream)) != 0 ||
        ::send(fd, out.data(), out.size(), MSG_DONTWAIT) != static_cast<ssize_t>(out.size())) {
      ::close(fd);
      return servfail();
    }
    Pending& p = pending[fd];
    p.upstream_id = id;
    p.query = std::move(query);
    p.tcp = tcp;
    p.udp_client = udp_client;
    p.conn_id = conn_id;
    p.deadline = SteadyClock::now() + std::chrono::milliseconds(timeout_ms);
  }

  // The upstream answered (or failed): relay its answer or SERVFAIL.
  void FinishForward(int fd, bool timed_out) {
    auto it = pending.find(fd);
    if (it == pending.end()) return;
    Pending& p = it->second;
    std::vector<uint8_t> reply;
    if (!timed_out) {
      reply.resize(kDnsTcpMaxSize);
      ssize_t n = ::recv(fd, reply.data(), reply.size(), MSG_DONTWAIT);
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return;
      if (n < 0) {
        reply.clear();  // refused or unreachable: SERVFAIL below
      } else {
        reply.resize(static_cast<size_t>(n));
        std::optional<DnsHeader> h = ParseDnsHeader(reply);
        if (!h || !h->qr() || h->id != p.upstream_id) return;  // not our answer: keep waiting
        reply[0] = static_cast<uint8_t>(p.query.header.id >> 8);
        reply[1] = static_cast<uint8_t>(p.query.header.id & 0xff);
      }
    }
    if (reply.empty()) {
      reply = BuildDnsResponse(p.query, DnsAnswer{DnsRcode::kServFail, false, true, 0, {}},
                               p.tcp ? kDnsTcpMaxSize : DnsUdpLimit(p.query));
    }
    p.tcp ? SendTcp(p.conn_id, reply) : SendUdp(reply, p.udp_client);
    ::close(fd);
    pending.erase(it);
  }
};

Result<std::unique_ptr<DnsServer>> DnsServer::Start(Options options) {
  Result<Ipv4> listen_ip = Ipv4::Parse(options.listen_ip);
  if (!listen_ip.ok()) return Invalid("dns listen address \"" + options.listen_ip + "\" is bad");
  auto loop = std::make_unique<Loop>();
  if (!options.upstreams.empty()) {
    LINTEL_ASSIGN_OR_RETURN(loop->upstream, ParseUpstream(options.upstreams.front()));
  }
  std::string where = options.listen_ip + ":" + std::to_string(options.port);
  // With port 0 the kernel picks a UDP port that may be taken for TCP: retry.
  for (int attempt = 0;; ++attempt) {
    loop->udp_fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    loop->tcp_fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (loop->udp_fd < 0 || loop->tcp_fd < 0) return Internal("dns socket: " + Errno(errno));
    int one = 1;
    (void)::setsockopt(loop->tcp_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    sockaddr_in sa = SocketAddress(*listen_ip, options.port);
    if (::bind(loop->udp_fd, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) != 0) {
      return Unavailable("dns bind udp " + where + ": " + Errno(errno));
    }
    socklen_t len = sizeof(sa);
    if (::getsockname(loop->udp_fd, reinterpret_cast<sockaddr*>(&sa), &len) != 0) {
      return Internal("dns getsockname: " + Errno(errno));
    }
    if (::bind(loop->tcp_fd, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) == 0 &&
        ::listen(loop->tcp_fd, 64) == 0) {
      options.port = ntohs(sa.sin_port);
      break;
    }
    int err = errno;
    if (options.port != 0 || attempt >= 8) {
      return Unavailable("dns bind tcp " + where + ": " + Errno(err));
    }
    ::close(loop->udp_fd);
    ::close(loop->tcp_fd);
  }
  loop->wake_fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (loop->wake_fd < 0) return Internal("dns eventfd: " + Errno(errno));
  uint16_t port = options.port;
  std::unique_ptr<DnsServer> server(new DnsServer(std::move(options), port, std::move(loop)));
  try {
    server->thread_ = std::thread([s = server.get()] { s->Serve(); });
  } catch (const std::exception& e) {
    return Internal(std::string("dns thread: ") + e.what());
  }
  return server;
}

DnsServer::DnsServer(Options options, uint16_t port, std::unique_ptr<Loop> loop)
    : options_(std::move(options)),
      port_(port),
      loop_(std::move(loop)),
      snapshot_(std::make_shared<const DnsRecordSet>(
          DnsRecordSet::Records{}, std::vector<std::string>{"svc", "pod", "vm"})) {}

DnsServer::~DnsServer() {
  stop_.store(true);
  if (thread_.joinable()) {
    uint64_t one = 1;
    (void)::write(loop_->wake_fd, &one, sizeof(one));
    thread_.join();
  }
}

void DnsServer::SetRecords(std::map<std::string, std::vector<Ipv4>> records) {
  std::lock_guard<std::mutex> update(update_mu_);
  auto next = std::make_shared<const DnsRecordSet>(std::move(records), Snapshot()->zones());
  std::lock_guard<std::mutex> lock(snapshot_mu_);
  snapshot_ = std::move(next);
}

void DnsServer::SetZones(std::vector<std::string> zones) {
  std::lock_guard<std::mutex> update(update_mu_);
  auto next = std::make_shared<const DnsRecordSet>(Snapshot()->records(), std::move(zones));
  std::lock_guard<std::mutex> lock(snapshot_mu_);
  snapshot_ = std::move(next);
}

std::shared_ptr<const DnsRecordSet> DnsServer::Snapshot() const {
  std::lock_guard<std::mutex> lock(snapshot_mu_);
  return snapshot_;
}

void DnsServer::Serve() {
  Loop& l = *loop_;
  const auto timeout_ms = static_cast<uint32_t>(options_.upstream_timeout.count());
  DnsPolicy policy{options_.ttl, l.upstream.has_value(), false};
  std::vector<uint8_t> buf(kDnsTcpMaxSize);

  // One message from a client: answer, forward or drop it.
  auto handle = [&](std::span<const uint8_t> msg, bool tcp, const sockaddr_in& from,
                    uint64_t conn_id) {
    if (ParseDnsHeader(msg)) queries_.fetch_add(1, std::memory_order_relaxed);
    policy.tcp = tcp;
    DnsDecision d = DecideDnsReply(*Snapshot(), msg, policy);
    if (d.action == DnsDecision::Action::kForward) {
      l.Forward(std::move(*d.query), msg, tcp, from, conn_id, timeout_ms);
    } else if (d.action == DnsDecision::Action::kReply) {
      tcp ? l.SendTcp(conn_id, d.reply) : l.SendUdp(d.reply, from);
    }
  };

  std::vector<pollfd> fds;
  std::vector<uint64_t> conn_ids;
  std::vector<int> pending_fds;
  while (!stop_.load()) {
    try {
      auto now = SteadyClock::now();
      auto next_deadline = now + std::chrono::seconds(60);
      fds.assign({{l.wake_fd, POLLIN, 0}, {l.udp_fd, POLLIN, 0}, {l.tcp_fd, POLLIN, 0}});
      conn_ids.clear();
      pending_fds.clear();
      for (auto& [id, c] : l.conns) {
        fds.push_back({c.fd, static_cast<short>(POLLIN | (c.out.empty() ? 0 : POLLOUT)), 0});
        conn_ids.push_back(id);
        next_deadline = std::min(next_deadline, c.idle_deadline);
      }
      for (auto& [fd, p] : l.pending) {
        fds.push_back({fd, POLLIN, 0});
        pending_fds.push_back(fd);
        next_deadline = std::min(next_deadline, p.deadline);
      }
      auto wait = std::chrono::ceil<std::chrono::milliseconds>(next_deadline - now).count();
      int n = ::poll(fds.data(), fds.size(), static_cast<int>(std::max<int64_t>(wait, 0)));
      if (n < 0 && errno != EINTR) {
        std::fprintf(stderr, "dns server: poll: %s\n", Errno(errno).c_str());
        return;
      }
      if (n < 0) continue;
      if (fds[0].revents != 0) {
        uint64_t drained = 0;
        (void)::read(l.wake_fd, &drained, sizeof(drained));
        continue;  // the loop condition sees stop_
      }
      if (fds[1].revents != 0) {
        for (int i = 0; i < kMaxDatagramsPerWakeup; ++i) {
          sockaddr_in from{};
          socklen_t from_len = sizeof(from);
          ssize_t got = ::recvfrom(l.udp_fd, buf.data(), buf.size(), MSG_DONTWAIT,
                                   reinterpret_cast<sockaddr*>(&from), &from_len);
          if (got < 0) break;
          handle(std::span<const uint8_t>(buf.data(), static_cast<size_t>(got)), false, from, 0);
        }
      }
      if (fds[2].revents != 0) {
        while (true) {
          int fd = ::accept4(l.tcp_fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
          if (fd < 0) break;
          if (l.conns.size() >= kMaxTcpConnections) {
            ::close(fd);
            continue;
          }
          l.conns[l.next_conn++] = TcpConn{fd, {}, {}, SteadyClock::now() + kTcpIdleTimeout};
        }
      }
      for (size_t i = 0; i < conn_ids.size(); ++i) {
        const pollfd& p = fds[3 + i];
        uint64_t id = conn_ids[i];
        if ((p.revents & POLLOUT) != 0) l.Flush(id);
        if ((p.revents & (POLLIN | POLLERR | POLLHUP)) == 0) continue;
        auto it = l.conns.find(id);
        if (it == l.conns.end()) continue;
        ssize_t got = ::recv(it->second.fd, buf.data(), buf.size(), MSG_DONTWAIT);
        if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) continue;
        if (got <= 0) {
          l.Close(id);
          continue;
        }
        TcpConn& c = it->second;
        c.idle_deadline = SteadyClock::now() + kTcpIdleTimeout;
        c.in.insert(c.in.end(), buf.begin(), buf.begin() + got);
        // Each frame: a 2-byte length, then the message.
        size_t used = 0;
        std::vector<std::vector<uint8_t>> frames;
        while (c.in.size() - used >= 2) {
          size_t len = (size_t{c.in[used]} << 8) | c.in[used + 1];
          if (c.in.size() - used - 2 < len) break;
          frames.emplace_back(c.in.begin() + static_cast<std::ptrdiff_t>(used + 2),
                              c.in.begin() + static_cast<std::ptrdiff_t>(used + 2 + len));
          used += 2 + len;
        }
        c.in.erase(c.in.begin(), c.in.begin() + static_cast<std::ptrdiff_t>(used));
        for (const auto& frame : frames) handle(frame, true, sockaddr_in{}, id);
      }
      for (size_t i = 0; i < pending_fds.size(); ++i) {
        if (fds[3 + conn_ids.size() + i].revents != 0) l.FinishForward(pending_fds[i], false);
      }
      now = SteadyClock::now();
      for (auto it = l.pending.begin(); it != l.pending.end();) {
        int fd = (it++)->first;
        if (l.pending.at(fd).deadline <= now) l.FinishForward(fd, true);
      }
      for (auto it = l.conns.begin(); it != l.conns.end();) {
        uint64_t id = (it++)->first;
        if (l.conns.at(id).idle_deadline <= now) l.Close(id);
      }
    } catch (const std::exception& e) {
      // Nothing a client sends should get here; keep serving the others.
      std::fprintf(stderr, "dns server: %s\n", e.what());
    }
  }
}

}  // namespace lintel::net
