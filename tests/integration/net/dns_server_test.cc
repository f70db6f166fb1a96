// DnsServer on loopback (no root needed): real UDP and TCP sockets, queries
// built with dns_message.h, a second DnsServer as the upstream for forwarding.
#include "net/dns_server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "net/dns_message.h"

namespace lintel::net {
namespace {

using Bytes = std::vector<uint8_t>;
using std::chrono::milliseconds;
using std::chrono::steady_clock;

Ipv4 Ip(const char* text) { return *Ipv4::Parse(text); }

sockaddr_in Loopback(uint16_t port) {
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return sa;
}

// Sends `query` over UDP and waits for one answer; nullopt on timeout.
std::optional<Bytes> ExchangeUdp(uint16_t port, const Bytes& query,
                                 milliseconds timeout = milliseconds(3000)) {
  int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return std::nullopt;
  sockaddr_in sa = Loopback(port);
  std::optional<Bytes> out;
  if (::sendto(fd, query.data(), query.size(), 0, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) ==
      static_cast<ssize_t>(query.size())) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(timeout.count())) == 1) {
      Bytes buf(65535);
      ssize_t n = ::recv(fd, buf.data(), buf.size(), 0);
      if (n >= 0) {
        buf.resize(static_cast<size_t>(n));
        out = std::move(buf);
      }
    }
  }
  ::close(fd);
  return out;
}

// One query over TCP (2-byte length framing).
std::optional<Bytes> ExchangeTcp(uint16_t port, const Bytes& query) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return std::nullopt;
  sockaddr_in sa = Loopback(port);
  std::optional<Bytes> out;
  Bytes framed = {static_cast<uint8_t>(query.size() >> 8), static_cast<uint8_t>(query.size())};
  framed.insert(framed.end(), query.begin(), query.end());
  timeval tv{3, 0};
  (void)::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  if (::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) == 0 &&
      ::send(fd, framed.data(), framed.size(), MSG_NOSIGNAL) ==
          static_cast<ssize_t>(framed.size())) {
    Bytes buf;
    uint8_t chunk[4096];
    while (buf.size() < 2 || buf.size() < 2u + ((size_t{buf[0]} << 8) | buf[1])) {
      ssize_t n = ::recv(fd, chunk, sizeof(chunk), 0);
      if (n <= 0) break;
      buf.insert(buf.end(), chunk, chunk + n);
    }
    if (buf.size() >= 2 && buf.size() == 2u + ((size_t{buf[0]} << 8) | buf[1])) {
      out = Bytes(buf.begin() + 2, buf.end());
    }
  }
  ::close(fd);
  return out;
}

// Asks `name` over UDP; the parsed answer (fails the test if there is none).
DnsResponse Ask(uint16_t port, const std::string& name, uint16_t type = kDnsTypeA,
                uint16_t id = 0x5150) {
  std::optional<Bytes> reply = ExchangeUdp(port, *BuildDnsQuery(id, name, type));
  EXPECT_TRUE(reply.has_value()) << "no answer for " << name;
  if (!reply) return {};
  auto parsed = ParseDnsResponse(*reply);
  EXPECT_TRUE(parsed.ok()) << parsed.status().ToString();
  return parsed.ok() ? *parsed : DnsResponse{};
}

std::vector<Ipv4> Addresses(const DnsResponse& r) {
  std::vector<Ipv4> out;
  for (const DnsRecord& rec : r.answers) {
    if (rec.a()) out.push_back(*rec.a());
  }
  return out;
}

DnsServer::Options Opts(std::vector<std::string> upstreams = {},
                        milliseconds upstream_timeout = milliseconds(2000), uint32_t ttl = 5) {
  DnsServer::Options o;
  o.port = 0;
  o.upstreams = std::move(upstreams);
  o.upstream_timeout = upstream_timeout;
  o.ttl = ttl;
  return o;
}

std::unique_ptr<DnsServer> StartServer(DnsServer::Options options = Opts()) {
  options.port = 0;
  auto server = DnsServer::Start(std::move(options));
  EXPECT_TRUE(server.ok()) << server.status().ToString();
  return server.ok() ? std::move(*server) : nullptr;
}

TEST(DnsServerTest, AnswersFromItsRecords) {
  auto server = StartServer(Opts({}, milliseconds(2000), 7));
  ASSERT_NE(server, nullptr);
  EXPECT_NE(server->port(), 0);
  server->SetRecords({{"web.default.svc", {Ip("10.96.0.10")}},
                      {"db-0.default.vm", {Ip("10.244.1.7"), Ip("10.244.2.9")}}});

  DnsResponse r = Ask(server->port(), "WEB.default.svc", kDnsTypeA, 0x1234);
  EXPECT_EQ(r.header.id, 0x1234);
  EXPECT_EQ(r.header.rcode(), DnsRcode::kNoError);
  EXPECT_TRUE(r.header.aa());
  EXPECT_EQ(Addresses(r), std::vector<Ipv4>{Ip("10.96.0.10")});
  ASSERT_EQ(r.answers.size(), 1u);
  EXPECT_EQ(r.answers[0].ttl, 7u);
  EXPECT_EQ(Addresses(Ask(server->port(), "db-0.default.vm")),
            (std::vector<Ipv4>{Ip("10.244.1.7"), Ip("10.244.2.9")}));

  r = Ask(server->port(), "web.default.svc", kDnsTypeAaaa);
  EXPECT_EQ(r.header.rcode(), DnsRcode::kNoError);
  EXPECT_TRUE(r.answers.empty());
  EXPECT_EQ(Ask(server->port(), "api.default.svc").header.rcode(), DnsRcode::kNxDomain);
  EXPECT_EQ(Ask(server->port(), "x.y.pod").header.rcode(), DnsRcode::kNxDomain);
  r = Ask(server->port(), "example.com");
  EXPECT_EQ(r.header.rcode(), DnsRcode::kRefused);
  EXPECT_FALSE(r.header.ra());
  EXPECT_EQ(server->queries(), 6u);
}

TEST(DnsServerTest, NewRecordsAndZonesTakeEffectAtOnce) {
  auto server = StartServer();
  ASSERT_NE(server, nullptr);
  EXPECT_EQ(Ask(server->port(), "web.default.svc").header.rcode(), DnsRcode::kNxDomain);
  server->SetRecords({{"web.default.svc", {Ip("10.96.0.10")}}});
  EXPECT_EQ(Addresses(Ask(server->port(), "web.default.svc")), std::vector<Ipv4>{Ip("10.96.0.10")});
  server->SetRecords({{"web.default.svc", {Ip("10.96.0.20")}}});
  EXPECT_EQ(Addresses(Ask(server->port(), "web.default.svc")), std::vector<Ipv4>{Ip("10.96.0.20")});
  server->SetRecords({});
  EXPECT_EQ(Ask(server->port(), "web.default.svc").header.rcode(), DnsRcode::kNxDomain);
  server->SetZones({"estate.internal"});
  EXPECT_EQ(Ask(server->port(), "web.default.svc").header.rcode(), DnsRcode::kRefused);
  EXPECT_EQ(Ask(server->port(), "a.estate.internal").header.rcode(), DnsRcode::kNxDomain);
  // Records survive a zone change and the other way round.
  server->SetRecords({{"a.estate.internal", {Ip("10.0.0.1")}}});
  server->SetZones({"internal"});
  EXPECT_EQ(Addresses(Ask(server->port(), "a.estate.internal")), std::vector<Ipv4>{Ip("10.0.0.1")});
}

TEST(DnsServerTest, SetRecordsWhileServing) {
  auto server = StartServer();
  ASSERT_NE(server, nullptr);
  server->SetRecords({{"web.default.svc", {Ip("10.96.0.1")}}});
  std::atomic<bool> done{false};
  std::thread writer([&] {
    for (uint32_t i = 0; !done; ++i) {
      server->SetRecords({{"web.default.svc", {Ipv4{Ip("10.96.0.1").value + i % 2}}}});
      server->SetZones({"svc", i % 2 == 0 ? "pod" : "vm"});
    }
  });
  for (int i = 0; i < 100; ++i) {
    std::vector<Ipv4> got = Addresses(Ask(server->port(), "web.default.svc"));
    ASSERT_EQ(got.size(), 1u);
    EXPECT_TRUE(got[0] == Ip("10.96.0.1") || got[0] == Ip("10.96.0.2"));
  }
  done = true;
  writer.join();
}

TEST(DnsServerTest, ForwardsOtherNamesUpstream) {
  auto upstream = StartServer();
  ASSERT_NE(upstream, nullptr);
  upstream->SetZones({"example"});
  upstream->SetRecords({{"www.example", {Ip("192.0.2.80")}}});
  auto server = StartServer(Opts({"127.0.0.1:" + std::to_string(upstream->port())}));
  ASSERT_NE(server, nullptr);
  server->SetRecords({{"web.default.svc", {Ip("10.96.0.10")}}});

  DnsResponse r = Ask(server->port(), "www.example", kDnsTypeA, 0x7777);
  EXPECT_EQ(r.header.id, 0x7777);  // the client's id, not the one sent upstream
  EXPECT_EQ(r.header.rcode(), DnsRcode::kNoError);
  EXPECT_EQ(Addresses(r), std::vector<Ipv4>{Ip("192.0.2.80")});
  EXPECT_EQ(Ask(server->port(), "nope.example").header.rcode(), DnsRcode::kNxDomain);
  // Ours are still answered here, with recursion available.
  r = Ask(server->port(), "web.default.svc");
  EXPECT_EQ(Addresses(r), std::vector<Ipv4>{Ip("10.96.0.10")});
  EXPECT_TRUE(r.header.ra());
  EXPECT_EQ(upstream->queries(), 2u);
  // Over TCP too (forwarded over UDP).
  std::optional<Bytes> tcp = ExchangeTcp(server->port(), *BuildDnsQuery(9, "www.example", 1));
  ASSERT_TRUE(tcp.has_value());
  EXPECT_EQ(Addresses(*ParseDnsResponse(*tcp)), std::vector<Ipv4>{Ip("192.0.2.80")});
}

TEST(DnsServerTest, UpstreamSilentOrDownGivesServfail) {
  // A bound socket that never answers.
  int silent = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  sockaddr_in sa = Loopback(0);
  ASSERT_EQ(::bind(silent, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)), 0);
  socklen_t len = sizeof(sa);
  ASSERT_EQ(::getsockname(silent, reinterpret_cast<sockaddr*>(&sa), &len), 0);
  auto server =
      StartServer(Opts({"127.0.0.1:" + std::to_string(ntohs(sa.sin_port))}, milliseconds(200)));
  ASSERT_NE(server, nullptr);
  auto start = steady_clock::now();
  EXPECT_EQ(Ask(server->port(), "example.com").header.rcode(), DnsRcode::kServFail);
  auto took = steady_clock::now() - start;
  EXPECT_GE(took, milliseconds(150));
  EXPECT_LT(took, milliseconds(1500));
  ::close(silent);  // now nothing listens there: refused, answered at once
  start = steady_clock::now();
  EXPECT_EQ(Ask(server->port(), "example.com").header.rcode(), DnsRcode::kServFail);
  EXPECT_LT(steady_clock::now() - start, milliseconds(150));
}

TEST(DnsServerTest, LargeAnswersTruncateOverUdpAndFitOverTcp) {
  auto server = StartServer();
  ASSERT_NE(server, nullptr);
  std::vector<Ipv4> many;
  for (uint32_t i = 1; i <= 100; ++i) many.push_back(Ipv4{Ip("10.244.0.0").value + i});
  server->SetRecords({{"big.default.svc", many}});
  DnsResponse udp = Ask(server->port(), "big.default.svc");
  EXPECT_TRUE(udp.header.tc());
  EXPECT_LT(udp.answers.size(), 100u);
  std::optional<Bytes> tcp = ExchangeTcp(server->port(), *BuildDnsQuery(3, "big.default.svc", 1));
  ASSERT_TRUE(tcp.has_value());
  auto parsed = ParseDnsResponse(*tcp);
  ASSERT_TRUE(parsed.ok());
  EXPECT_FALSE(parsed->header.tc());
  EXPECT_EQ(Addresses(*parsed), many);
}

TEST(DnsServerTest, MalformedInputGetsFormerrOrNothing) {
  auto server = StartServer();
  ASSERT_NE(server, nullptr);
  // No header: dropped.
  EXPECT_FALSE(ExchangeUdp(server->port(), Bytes{1, 2, 3}, milliseconds(200)).has_value());
  // A header and garbage: FORMERR with the id.
  Bytes junk = {0xab, 0xcd, 0x01, 0x00, 0x00, 0x01, 0, 0, 0, 0, 0, 0, 0xc0, 0x0c, 0, 1};
  std::optional<Bytes> reply = ExchangeUdp(server->port(), junk);
  ASSERT_TRUE(reply.has_value());
  DnsHeader h = *ParseDnsHeader(*reply);
  EXPECT_EQ(h.id, 0xabcd);
  EXPECT_EQ(h.rcode(), DnsRcode::kFormErr);
  // Still serving.
  server->SetRecords({{"web.default.svc", {Ip("10.96.0.10")}}});
  EXPECT_EQ(Addresses(Ask(server->port(), "web.default.svc")), std::vector<Ipv4>{Ip("10.96.0.10")});
}

TEST(DnsServerTest, StartReportsBindAndOptionErrors) {
  auto first = StartServer();
  ASSERT_NE(first, nullptr);
  DnsServer::Options same = Opts();
  same.port = first->port();
  auto second = DnsServer::Start(same);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), Code::kUnavailable);
  EXPECT_NE(second.status().message().find("Address already in use"), std::string::npos)
      << second.status().message();
  DnsServer::Options bad_ip = Opts();
  bad_ip.listen_ip = "localhost";
  EXPECT_EQ(DnsServer::Start(bad_ip).status().code(), Code::kInvalid);
  for (const char* upstream : {"10.0.0.1:99999", "10.0.0.1:", "10.0.0.1:0", "dns.example"}) {
    EXPECT_EQ(DnsServer::Start(Opts({upstream})).status().code(), Code::kInvalid) << upstream;
  }
}

}  // namespace
}  // namespace lintel::net
