// NftTable and RenderRules as root against the real kernel.
//
// TableLifecycle works on a uniquely named table (lintel_t<pid>) in the host's
// own namespace, with test-only ranges (198.18.0.0/15), and deletes it even on
// failure. ServiceVip builds a small estate inside network namespaces it
// creates: a "host" netns with the bridge lintel0 and the rules, two backend
// netns-es serving their name over TCP, and a client netns:
//
//   client 10.244.0.20 --+
//   b1     10.244.0.11 --+-- lintel0 10.244.0.1 (host netns; VIP 10.96.0.10 routed here)
//   b2     10.244.0.12 --+
//
// Servers and clients are sockets made on threads that setns() into those
// namespaces (a socket keeps its namespace), so no processes are spawned
// besides `ip`/`nft`. Deleting the namespaces removes everything else.
#include "net/nft_table.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "net/dns_message.h"
#include "net/dns_server.h"
#include "net/nft_rules.h"
#include "support/require_root.h"

namespace lintel::net {
namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

// Runs `cmd` with sh; its exit code and combined output.
struct ShellResult {
  int code;
  std::string out;
};
ShellResult Sh(const std::string& cmd) {
  std::string out;
  FILE* f = ::popen((cmd + " 2>&1").c_str(), "r");
  if (f == nullptr) return {-1, "popen failed"};
  char buf[4096];
  size_t n = 0;
  while ((n = std::fread(buf, 1, sizeof(buf), f)) > 0) out.append(buf, n);
  int status = ::pclose(f);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

bool Has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

Ipv4 Ip(const char* text) { return *Ipv4::Parse(text); }

// Runs fn on a thread that joined the named netns ("" = the caller's own).
Status InNetns(const std::string& netns, const std::function<Status()>& fn) {
  Status result;
  std::thread t([&] {
    if (!netns.empty()) {
      int fd = ::open(("/run/netns/" + netns).c_str(), O_RDONLY | O_CLOEXEC);
      if (fd < 0 || ::setns(fd, CLONE_NEWNET) != 0) {
        result = Internal("setns " + netns + ": " + std::strerror(errno));
        if (fd >= 0) ::close(fd);
        return;
      }
      ::close(fd);
    }
    result = fn();
  });
  t.join();
  return result;
}

// A socket created inside `netns`.
int SocketIn(const std::string& netns, int type) {
  int fd = -1;
  Status s = InNetns(netns, [&] {
    fd = ::socket(AF_INET, type | SOCK_CLOEXEC, 0);
    return fd >= 0 ? Status::Ok() : Internal(std::strerror(errno));
  });
  return s.ok() ? fd : -1;
}

// Serves its name to every TCP connection on `port` inside `netns`.
class NameServer {
 public:
  NameServer(const std::string& netns, uint16_t port, std::string name) : name_(std::move(name)) {
    fd_ = SocketIn(netns, SOCK_STREAM | SOCK_NONBLOCK);
    int one = 1;
    (void)::setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(port);
    ok_ = fd_ >= 0 && ::bind(fd_, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) == 0 &&
          ::listen(fd_, 16) == 0;
    if (ok_) thread_ = std::thread([this] { Serve(); });
  }
  ~NameServer() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
    if (fd_ >= 0) ::close(fd_);
  }
  bool ok() const { return ok_; }

 private:
  void Serve() {
    while (!stop_) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (c < 0) continue;
      std::string line = name_ + "\n";
      (void)::send(c, line.data(), line.size(), MSG_NOSIGNAL);
      ::close(c);
    }
  }

  std::string name_;
  int fd_ = -1;
  bool ok_ = false;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

// Connects from `netns` to ip:port and reads one line: the backend's name, or
// "refused" / "timeout" / "error: ...".
std::string Fetch(const std::string& netns, Ipv4 ip, uint16_t port,
                  milliseconds timeout = milliseconds(2000)) {
  int fd = SocketIn(netns, SOCK_STREAM | SOCK_NONBLOCK);
  if (fd < 0) return "error: socket";
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
  sa.sin_addr.s_addr = htonl(ip.value);
  std::string result;
  auto deadline = steady_clock::now() + timeout;
  auto left = [&] {
    auto ms = std::chrono::duration_cast<milliseconds>(deadline - steady_clock::now()).count();
    return static_cast<int>(ms > 0 ? ms : 0);
  };
  if (::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) != 0 && errno != EINPROGRESS) {
    result = errno == ECONNREFUSED ? "refused" : std::string("error: ") + std::strerror(errno);
  } else {
    pollfd p{fd, POLLOUT, 0};
    int err = 0;
    socklen_t len = sizeof(err);
    if (::poll(&p, 1, left()) != 1) {
      result = "timeout";
    } else if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0) {
      result = err == ECONNREFUSED ? "refused" : std::string("error: ") + std::strerror(err);
    } else {
      char buf[256];
      while (result.find('\n') == std::string::npos) {
        p = {fd, POLLIN, 0};
        if (::poll(&p, 1, left()) != 1) {
          result = "timeout";
          break;
        }
        ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
        if (n <= 0) break;
        result.append(buf, static_cast<size_t>(n));
      }
      if (!result.empty() && result.back() == '\n') result.pop_back();
    }
  }
  ::close(fd);
  return result;
}

NetRulesConfig TestConfig(const std::string& table, const char* cluster, const char* services) {
  NetRulesConfig c;
  c.cluster_range = *Cidr::Parse(cluster);
  c.service_range = *Cidr::Parse(services);
  c.table = table;
  return c;
}

// --- The table in the host's namespace -------------------------------------

class NftTableTest : public ::testing::Test {
 protected:
  void SetUp() override {
    LINTEL_REQUIRE_ROOT();
    LINTEL_REQUIRE_TOOL("nft");
    table_ = "lintel_t" + std::to_string(::getpid());
  }
  void TearDown() override {
    if (!table_.empty()) (void)Sh("nft delete table ip " + table_);
  }
  std::string table_;
};

TEST_F(NftTableTest, AppliesReplacesRejectsBadScriptsAndDeletes) {
  auto table = NftTable::Open(table_);
  ASSERT_TRUE(table.ok()) << table.status().ToString();
  ASSERT_TRUE((*table)->Delete().ok());  // absent: OK
  NetRulesConfig config = TestConfig(table_, "198.19.0.0/24", "198.18.0.0/24");
  config.bridge = "lt-nobridge";
  ServiceRule web{
      "default",
      "web",
      Ip("198.18.0.10"),
      false,
      {{"tcp", 80, {{Ip("198.19.0.11"), 8080}, {Ip("198.19.0.12"), 8081}}}, {"udp", 53, {}}}};
  std::string script = RenderRules(config, {web});
  Status applied = (*table)->Apply(script);
  ASSERT_TRUE(applied.ok()) << applied.ToString();

  ShellResult listed = Sh("nft list table ip " + table_);
  ASSERT_EQ(listed.code, 0) << listed.out;
  EXPECT_TRUE(Has(listed.out,
                  "ip daddr 198.18.0.10 tcp dport 80 dnat ip to numgen inc mod 2 map "
                  "{ 0 : 198.19.0.11 . 8080, 1 : 198.19.0.12 . 8081 }"))
      << listed.out;
  EXPECT_TRUE(Has(listed.out, "ip daddr 198.18.0.10 udp dport 53 reject")) << listed.out;
  EXPECT_TRUE(Has(listed.out, "type nat hook prerouting priority dstnat; policy accept;"));

  // The same script again is skipped: a rule added behind its back survives,
  // until the table is told to forget what it applied.
  ASSERT_EQ(Sh("nft add rule ip " + table_ + " services counter comment \\\"extra\\\"").code, 0);
  ASSERT_TRUE((*table)->Apply(script).ok());
  EXPECT_TRUE(Has(Sh("nft list table ip " + table_).out, "extra"));
  (*table)->ForgetApplied();
  ASSERT_TRUE((*table)->Apply(script).ok());
  listed = Sh("nft list table ip " + table_);
  EXPECT_FALSE(Has(listed.out, "extra")) << listed.out;

  // Scripts nft rejects, in the parser and in the kernel: nothing changes and
  // the error says why.
  std::string syntax = script;
  syntax.replace(syntax.find("numgen inc"), 10, "numgen inq");
  Status bad = (*table)->Apply(syntax);
  EXPECT_EQ(bad.code(), Code::kInternal);
  EXPECT_TRUE(Has(bad.message(), "Error: syntax error")) << bad.message();
  // With the failing line, and where in the script it is.
  EXPECT_TRUE(Has(bad.message(), "script:6:")) << bad.message();
  EXPECT_TRUE(Has(bad.message(), "numgen inq")) << bad.message();
  std::string kernel = script;
  kernel.replace(kernel.find("jump services"), 13, "jump nosuchchain");
  bad = (*table)->Apply(kernel);
  EXPECT_FALSE(bad.ok());
  EXPECT_TRUE(Has(bad.message(), "Error: Could not process rule: No such file or directory"))
      << bad.message();
  EXPECT_TRUE(Has(bad.message(), "jump nosuchchain")) << bad.message();
  EXPECT_EQ(Sh("nft list table ip " + table_).out, listed.out);
  EXPECT_EQ((*table)->Apply("table ip other {}\n").code(), Code::kInvalid);

  // A changed script replaces the table whole.
  web.ports.resize(1);
  web.ports[0].backends.resize(1);
  ASSERT_TRUE((*table)->Apply(RenderRules(config, {web})).ok());
  listed = Sh("nft list table ip " + table_);
  EXPECT_TRUE(Has(listed.out, "tcp dport 80 dnat to 198.19.0.11:8080")) << listed.out;
  EXPECT_FALSE(Has(listed.out, "udp dport 53")) << listed.out;

  ASSERT_TRUE((*table)->Delete().ok());
  EXPECT_NE(Sh("nft list table ip " + table_).code, 0);
  EXPECT_TRUE((*table)->Delete().ok());
}

TEST_F(NftTableTest, EveryRenderingIsAcceptedByTheKernel) {
  auto table = NftTable::Open(table_);
  ASSERT_TRUE(table.ok());
  NetRulesConfig config = TestConfig(table_, "198.19.0.0/24", "198.18.0.0/24");
  ServiceBackend b1{Ip("198.19.0.11"), 8080}, b2{Ip("198.19.0.12"), 9090};
  std::map<std::string, std::vector<ServiceRule>> cases = {
      {"empty", {}},
      {"affinity", {{"a", "s", Ip("198.18.0.1"), true, {{"tcp", 80, {b1, b2}}}}}},
      {"one backend", {{"a", "s", Ip("198.18.0.1"), false, {{"udp", 53, {b1}}}}}},
      {"no backends", {{"a", "s", Ip("198.18.0.1"), false, {{"tcp", 80, {}}, {"udp", 53, {}}}}}},
      {"sctp", {{"a", "s", Ip("198.18.0.1"), false, {{"sctp", 7, {b1, b2}}, {"sctp", 8, {}}}}}},
      {"vip outside the range", {{"a", "s", Ip("192.0.2.1"), false, {{"tcp", 80, {b1}}}}}},
      {"skipped", {{"a", "s", Ipv4{}, false, {{"tcp", 80, {b1}}}}}},
  };
  for (bool outbound : {true, false}) {
    config.masquerade_outbound = outbound;
    for (const auto& [name, services] : cases) {
      SCOPED_TRACE(name + (outbound ? "" : " without outbound NAT"));
      Status checked = (*table)->Check(RenderRules(config, services));
      EXPECT_TRUE(checked.ok()) << checked.ToString();
    }
  }
  // A check commits nothing.
  EXPECT_NE(Sh("nft list table ip " + table_).code, 0);
  EXPECT_EQ(NftTable::Open("bad name").status().code(), Code::kInvalid);
}

// --- A Service VIP carrying traffic ----------------------------------------

class ServiceVipTest : public ::testing::Test {
 protected:
  static constexpr uint16_t kVipPort = 80;

  void SetUp() override {
    LINTEL_REQUIRE_ROOT();
    LINTEL_REQUIRE_TOOL("ip");
    std::string id = std::to_string(::getpid());
    host_ = "lt" + id + "h";
    for (const char* n : {"h", "b1", "b2", "c"}) namespaces_.push_back("lt" + id + n);
    for (const std::string& ns : namespaces_) ASSERT_EQ(Sh("ip netns add " + ns).code, 0);
    std::vector<std::string> setup = {
        "ip -n " + host_ + " link set lo up",
        "ip -n " + host_ + " link add lintel0 type bridge",
        "ip -n " + host_ + " addr add 10.244.0.1/16 dev lintel0",
        "ip -n " + host_ + " link set lintel0 up",
        "ip -n " + host_ + " route add 10.96.0.0/16 dev lintel0",
        "ip netns exec " + host_ + " sysctl -qw net.ipv4.ip_forward=1",
    };
    const std::map<std::string, std::string> addresses = {
        {"b1", "10.244.0.11"}, {"b2", "10.244.0.12"}, {"c", "10.244.0.20"}};
    for (const auto& [n, ip] : addresses) {
      std::string ns = "lt" + id + n;
      for (const std::string& cmd : {
               "ip -n " + host_ + " link add v" + n + " type veth peer name eth0 netns " + ns,
               "ip -n " + host_ + " link set v" + n + " master lintel0 up",
               "bridge -n " + host_ + " link set dev v" + n + " hairpin on",
               "ip -n " + ns + " addr add " + ip + "/16 dev eth0",
               "ip -n " + ns + " link set eth0 up",
               "ip -n " + ns + " link set lo up",
               "ip -n " + ns + " route add default via 10.244.0.1",
           }) {
        setup.push_back(cmd);
      }
    }
    for (const std::string& cmd : setup) {
      ShellResult r = Sh(cmd);
      ASSERT_EQ(r.code, 0) << cmd << ": " << r.out;
    }
    b1_ = std::make_unique<NameServer>(namespaces_[1], 8080, "b1");
    b2_ = std::make_unique<NameServer>(namespaces_[2], 8081, "b2");
    ASSERT_TRUE(b1_->ok() && b2_->ok());
  }

  void TearDown() override {
    b1_.reset();
    b2_.reset();
    for (const std::string& ns : namespaces_) (void)Sh("ip netns del " + ns);
  }

  // Renders and applies `services` in the host netns.
  void Apply(const std::vector<ServiceRule>& services) {
    NetRulesConfig config = TestConfig("lintel", "10.244.0.0/16", "10.96.0.0/16");
    std::string script = RenderRules(config, services);
    Status s = InNetns(host_, [&] {
      LINTEL_ASSIGN_OR_RETURN(auto table, NftTable::Open("lintel"));
      return table->Apply(script);
    });
    ASSERT_TRUE(s.ok()) << s.ToString();
  }

  // The TCP Service default/web on 10.96.0.10:80.
  void ApplyService(std::vector<ServiceBackend> backends, bool affinity = false) {
    Apply(
        {{"default", "web", Ip("10.96.0.10"), affinity, {{"tcp", kVipPort, std::move(backends)}}}});
  }

  std::map<std::string, int> FetchMany(const std::string& netns, int n) {
    std::map<std::string, int> seen;
    for (int i = 0; i < n; ++i) ++seen[Fetch(netns, Ip("10.96.0.10"), kVipPort)];
    return seen;
  }

  std::string client() const { return namespaces_[3]; }

  std::string host_;
  std::vector<std::string> namespaces_;  // host, b1, b2, client
  std::unique_ptr<NameServer> b1_, b2_;
  const ServiceBackend kB1{Ip("10.244.0.11"), 8080};
  const ServiceBackend kB2{Ip("10.244.0.12"), 8081};
};

TEST_F(ServiceVipTest, BalancesFollowsBackendsAndRefusesWithoutThem) {
  ApplyService({kB1, kB2});
  // Round robin from a client on the bridge: strictly alternating.
  std::vector<std::string> got;
  for (int i = 0; i < 8; ++i) got.push_back(Fetch(client(), Ip("10.96.0.10"), kVipPort));
  for (size_t i = 0; i < got.size(); ++i) {
    ASSERT_TRUE(got[i] == "b1" || got[i] == "b2") << i << ": " << got[i];
    if (i > 0) {
      EXPECT_NE(got[i], got[i - 1]) << i;
    }
  }
  // From the host itself (nat output) and hairpin from a backend to the VIP.
  EXPECT_EQ(FetchMany(host_, 4), (std::map<std::string, int>{{"b1", 2}, {"b2", 2}}));
  EXPECT_EQ(FetchMany(namespaces_[1], 4), (std::map<std::string, int>{{"b1", 2}, {"b2", 2}}));

  // A port no Service defines is refused.
  EXPECT_EQ(Fetch(client(), Ip("10.96.0.10"), 81), "refused");
  EXPECT_EQ(Fetch(client(), Ip("10.96.0.99"), kVipPort), "refused");

  // Removing a backend stops new traffic to it.
  ApplyService({kB2});
  EXPECT_EQ(FetchMany(client(), 6), (std::map<std::string, int>{{"b2", 6}}));

  // No backends: refused at once, from a client and from the host.
  ApplyService({});
  auto start = steady_clock::now();
  EXPECT_EQ(Fetch(client(), Ip("10.96.0.10"), kVipPort), "refused");
  EXPECT_EQ(Fetch(host_, Ip("10.96.0.10"), kVipPort), "refused");
  EXPECT_LT(steady_clock::now() - start, milliseconds(500));

  // A backend on the host itself (an agent-run endpoint), from a client and from the host.
  NameServer on_host(host_, 8082, "host");
  ASSERT_TRUE(on_host.ok());
  ApplyService({{Ip("10.244.0.1"), 8082}});
  EXPECT_EQ(Fetch(client(), Ip("10.96.0.10"), kVipPort), "host");
  EXPECT_EQ(Fetch(host_, Ip("10.96.0.10"), kVipPort), "host");

  // Back again, with client IP affinity: one client sticks to one backend.
  ApplyService({kB1, kB2}, /*affinity=*/true);
  std::map<std::string, int> seen = FetchMany(client(), 6);
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_TRUE(seen.count("b1") == 1 || seen.count("b2") == 1);
}

// Asks `name` from `netns` over a connected UDP socket: the answer's first
// address, "refused" (ICMP port unreachable), "timeout" or "error: ...".
std::string AskUdp(const std::string& netns, Ipv4 ip, uint16_t port, const std::string& name) {
  int fd = SocketIn(netns, SOCK_DGRAM);
  if (fd < 0) return "error: socket";
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
  sa.sin_addr.s_addr = htonl(ip.value);
  std::vector<uint8_t> query = *BuildDnsQuery(0x0101, name, kDnsTypeA);
  std::string result;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) != 0 ||
      ::send(fd, query.data(), query.size(), 0) < 0) {
    result = std::string("error: ") + std::strerror(errno);
  } else {
    pollfd p{fd, POLLIN, 0};
    std::vector<uint8_t> buf(1500);
    if (::poll(&p, 1, 2000) != 1) {
      result = "timeout";
    } else if (ssize_t n = ::recv(fd, buf.data(), buf.size(), 0); n < 0) {
      result = errno == ECONNREFUSED ? "refused" : std::string("error: ") + std::strerror(errno);
    } else {
      buf.resize(static_cast<size_t>(n));
      auto r = ParseDnsResponse(buf);
      result = r.ok() && !r->answers.empty() && r->answers[0].a() ? r->answers[0].a()->ToString()
                                                                  : "error: bad answer";
    }
  }
  ::close(fd);
  return result;
}

// The cluster DNS pattern: a UDP Service VIP in front of the host's DnsServer.
TEST_F(ServiceVipTest, UdpServiceInFrontOfTheHostDns) {
  std::unique_ptr<DnsServer> dns;
  Status started = InNetns(host_, [&]() -> Status {
    DnsServer::Options options;
    options.listen_ip = "10.244.0.1";
    options.port = 5353;
    LINTEL_ASSIGN_OR_RETURN(dns, DnsServer::Start(options));
    return Status::Ok();
  });
  ASSERT_TRUE(started.ok()) << started.ToString();
  dns->SetRecords({{"web.default.svc", {Ip("10.96.0.10")}}});
  const Ipv4 vip = Ip("10.96.0.53");
  Apply({{"kube-system", "dns", vip, false, {{"udp", 53, {{Ip("10.244.0.1"), 5353}}}}}});
  EXPECT_EQ(AskUdp(client(), vip, 53, "web.default.svc"), "10.96.0.10");
  EXPECT_EQ(AskUdp(host_, vip, 53, "web.default.svc"), "10.96.0.10");
  // No backends: the client learns at once (ICMP port unreachable). The
  // kernel's per-destination ICMP rate limit (6.18 here) drops even the first
  // such error (IcmpOutRateLimitHost), so the host exempts "destination
  // unreachable" from it: icmp_ratemask 6168 (the default) minus 1 << 3.
  ShellResult mask = Sh("ip netns exec " + host_ + " sysctl -qw net.ipv4.icmp_ratemask=6160");
  ASSERT_EQ(mask.code, 0) << mask.out;
  Apply({{"kube-system", "dns", vip, false, {{"udp", 53, {}}}}});
  EXPECT_EQ(AskUdp(client(), vip, 53, "web.default.svc"), "refused");
  EXPECT_EQ(dns->queries(), 2u);
}

}  // namespace
}  // namespace lintel::net
