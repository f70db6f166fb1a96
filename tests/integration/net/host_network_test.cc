// HostNetwork as root, inside network namespaces the test makes: each "host"
// is a netns of its own (HostNetwork runs on a thread that joined it), each
// Pod another. Checks use `ip`/`bridge` and an ICMP echo sent from the Pod's
// netns (a raw socket; no ping binary needed). Everything is removed in
// TearDown, even when a test fails: deleting a netns takes its interfaces.
#include "net/host_network.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <netinet/ip.h>
#include <netinet/ip_icmp.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/fs.h"
#include "net/netns.h"
#include "support/require_root.h"

namespace lintel::net {
namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

int Sh(const std::string& cmd) { return std::system(cmd.c_str()); }

std::string Out(const std::string& cmd) {
  std::string out;
  FILE* f = ::popen((cmd + " 2>&1").c_str(), "r");
  if (f == nullptr) return out;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), f)) > 0) out.append(buf, n);
  ::pclose(f);
  return out;
}

bool Has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

Ipv4 Ip(const std::string& text) { return *Ipv4::Parse(text); }
Cidr Range(const std::string& text) { return *Cidr::Parse(text); }

// A named netns (ip netns add), removed with everything in it.
class Netns {
 public:
  explicit Netns(std::string name) : name_(std::move(name)) {
    ok_ = Sh("ip netns add " + name_) == 0;
  }
  ~Netns() {
    if (ok_) Sh("ip netns del " + name_);
  }
  Netns(const Netns&) = delete;
  Netns& operator=(const Netns&) = delete;
  bool ok() const { return ok_; }
  const std::string& name() const { return name_; }
  std::string path() const { return "/run/netns/" + name_; }

 private:
  std::string name_;
  bool ok_ = false;
};

// Runs fn on a thread inside `ns` and returns what it returns (a Status or a Result).
template <typename F>
auto In(const Netns& ns, F fn) -> decltype(fn()) {
  std::optional<decltype(fn())> out;
  Status s = RunInNetns(ns.path(), [&] {
    out.emplace(fn());
    return Status();
  });
  if (!s.ok()) return s;
  return std::move(*out);
}

uint16_t Checksum(const uint8_t* data, size_t len) {
  uint32_t sum = 0;
  for (size_t i = 0; i + 1 < len; i += 2) sum += static_cast<uint32_t>(data[i] << 8 | data[i + 1]);
  if (len % 2 != 0) sum += static_cast<uint32_t>(data[len - 1] << 8);
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(~sum);
}

// ICMP echo from the netns `from` to `dst`: true once a reply arrives (a
// request every 300 ms until `timeout`).
bool Ping(const Netns& from, Ipv4 dst, milliseconds timeout = milliseconds(3000)) {
  static std::atomic<uint16_t> next_id{static_cast<uint16_t>(::getpid())};
  int fd = -1;
  Status s = RunInNetns(from.path(), [&] {
    fd = ::socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_ICMP);
    return fd < 0 ? Internal(std::string("raw socket: ") + std::strerror(errno)) : Status();
  });
  if (!s.ok()) {
    ADD_FAILURE() << s.ToString();
    return false;
  }
  const uint16_t id = next_id++;
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_addr.s_addr = htonl(dst.value);
  auto deadline = steady_clock::now() + timeout;
  auto next_send = steady_clock::now();
  uint16_t seq = 0;
  bool replied = false;
  while (!replied && steady_clock::now() < deadline) {
    if (steady_clock::now() >= next_send) {
      uint8_t pkt[16] = {ICMP_ECHO, 0, 0, 0, 0, 0, 0, 0, 'l', 'i', 'n', 't', 'e', 'l', 0, 0};
      uint16_t fields[2] = {htons(id), htons(seq)};
      std::memcpy(pkt + 4, fields, sizeof(fields));
      ++seq;
      uint16_t sum = Checksum(pkt, sizeof(pkt));
      pkt[2] = static_cast<uint8_t>(sum >> 8);
      pkt[3] = static_cast<uint8_t>(sum);
      (void)::sendto(fd, pkt, sizeof(pkt), 0, reinterpret_cast<sockaddr*>(&to), sizeof(to));
      next_send = steady_clock::now() + milliseconds(300);
    }
    auto wait = std::min(next_send, deadline) - steady_clock::now();
    pollfd p{fd, POLLIN, 0};
    int ms = static_cast<int>(std::chrono::duration_cast<milliseconds>(wait).count());
    if (::poll(&p, 1, std::max(ms, 1)) <= 0) continue;
    uint8_t buf[1500];
    ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
    if (n < static_cast<ssize_t>(sizeof(iphdr))) continue;
    const auto* ip = reinterpret_cast<const iphdr*>(buf);
    size_t ihl = static_cast<size_t>(ip->ihl) * 4;
    if (static_cast<size_t>(n) < ihl + 8) continue;
    const uint8_t* icmp = buf + ihl;
    replied = icmp[0] == ICMP_ECHOREPLY && (icmp[4] << 8 | icmp[5]) == id &&
              ntohl(ip->saddr) == dst.value;
  }
  ::close(fd);
  return replied;
}

HostNetworkConfig Config(const std::string& host_range, const std::string& vtep = "") {
  HostNetworkConfig c;
  c.cluster_range = Range("10.244.0.0/16");
  c.host_range = Range(host_range);
  c.service_range = Range("10.96.0.0/16");
  c.vtep_ip = vtep;
  return c;
}

class HostNetworkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    LINTEL_REQUIRE_ROOT();
    LINTEL_REQUIRE_TOOL("ip");
    LINTEL_REQUIRE_TOOL("bridge");
  }
  void TearDown() override {
    while (!namespaces_.empty()) namespaces_.pop_back();  // pods first, then hosts
  }

  // A fresh netns "lintel-t-<pid>-<n>-<role>".
  const Netns& NewNetns(const std::string& role) {
    static int counter = 0;
    namespaces_.push_back(std::make_unique<Netns>("lintel-t-" + std::to_string(::getpid()) + "-" +
                                                  std::to_string(++counter) + "-" + role));
    EXPECT_TRUE(namespaces_.back()->ok()) << "ip netns add " << namespaces_.back()->name();
    return *namespaces_.back();
  }

  static std::string Ipn(const Netns& ns, const std::string& args) {
    return Out("ip -n " + ns.name() + " " + args);
  }

  std::vector<std::unique_ptr<Netns>> namespaces_;
};

TEST(HostNetworkNames, HostInterfaceNamesAndMacs) {
  EXPECT_EQ(HostNetwork::HostInterfaceName("lv", ""), "lv811c9dc5");  // FNV-1a-32 offset basis
  EXPECT_EQ(HostNetwork::HostInterfaceName("lt", "a"), "lte40c292c");
  EXPECT_TRUE(HostNetwork::IsHostInterfaceName("lv811c9dc5"));
  EXPECT_TRUE(HostNetwork::IsHostInterfaceName("lte40c292c"));
  EXPECT_FALSE(HostNetwork::IsHostInterfaceName("lvm0"));
  EXPECT_FALSE(HostNetwork::IsHostInterfaceName("lx811c9dc5"));
  EXPECT_FALSE(HostNetwork::IsHostInterfaceName("lv811C9DC5"));
  EXPECT_EQ(HostNetwork::MacFor(Ip("10.244.3.5")), "52:54:0a:f4:03:05");
}

TEST_F(HostNetworkTest, TwoPodsOnOneHostReachEachOtherAndTheGateway) {
  const Netns& host = NewNetns("h1");
  const Netns& pod1 = NewNetns("p1");
  const Netns& pod2 = NewNetns("p2");
  HostNetwork net(Config("10.244.3.0/24"));

  auto early = In(host, [&] { return net.AttachNetns("pod-1", pod1.path(), Ip("10.244.3.2")); });
  ASSERT_FALSE(early.ok());
  EXPECT_EQ(early.error().code(), Code::kUnavailable) << early.error().ToString();

  Status setup = In(host, [&] { return net.Setup(); });
  ASSERT_TRUE(setup.ok()) << setup.ToString();
  auto a1 = In(host, [&] { return net.AttachNetns("pod-1", pod1.path(), Ip("10.244.3.2")); });
  ASSERT_TRUE(a1.ok()) << a1.error().ToString();
  auto a2 = In(host, [&] { return net.AttachNetns("pod-2", pod2.path(), Ip("10.244.3.3")); });
  ASSERT_TRUE(a2.ok()) << a2.error().ToString();

  EXPECT_EQ(a1->host_interface, HostNetwork::HostInterfaceName("lv", "pod-1"));
  EXPECT_EQ(a1->mac, "52:54:0a:f4:03:02");
  EXPECT_EQ(a1->ip, Ip("10.244.3.2"));
  EXPECT_EQ(a1->prefix, 16);
  EXPECT_EQ(a1->gateway, Ip("10.244.3.1"));
  EXPECT_EQ(a1->mtu, 1450);

  // The host side.
  std::string bridge = Ipn(host, "-d addr show dev lintel0");
  EXPECT_TRUE(Has(bridge, "inet 10.244.3.1/16")) << bridge;
  EXPECT_TRUE(Has(bridge, "mtu 1450")) << bridge;
  EXPECT_TRUE(Has(bridge, "link/ether 52:54:0a:f4:03:01")) << bridge;
  std::string port = Ipn(host, "-d link show dev " + a1->host_interface);
  EXPECT_TRUE(Has(port, "master lintel0")) << port;
  EXPECT_TRUE(Has(port, "mtu 1450")) << port;
  EXPECT_TRUE(Has(port, ",UP")) << port;
  EXPECT_TRUE(Has(port, "hairpin on")) << port;
  EXPECT_TRUE(Has(Ipn(host, "route show 10.96.0.0/16"), "dev lintel0"));
  EXPECT_EQ(*In(host, [] { return ReadFile("/proc/sys/net/ipv4/ip_forward"); }), "1\n");
  EXPECT_EQ(Out("ip netns exec " + host.name() + " cat /proc/sys/net/ipv4/ip_forward"), "1\n");

  // The Pod side.
  std::string eth0 = Ipn(pod1, "addr show dev eth0");
  EXPECT_TRUE(Has(eth0, "link/ether 52:54:0a:f4:03:02")) << eth0;
  EXPECT_TRUE(Has(eth0, "mtu 1450")) << eth0;
  EXPECT_TRUE(Has(eth0, "inet 10.244.3.2/16")) << eth0;
  EXPECT_TRUE(Has(Ipn(pod1, "route show default"), "default via 10.244.3.1 dev eth0"));
  EXPECT_TRUE(Has(Ipn(pod1, "link show dev lo"), "LOOPBACK,UP"));

  EXPECT_TRUE(Ping(pod1, Ip("10.244.3.3")));
  EXPECT_TRUE(Ping(pod2, Ip("10.244.3.2")));
  EXPECT_TRUE(Ping(pod1, Ip("10.244.3.1")));
  EXPECT_FALSE(Ping(pod1, Ip("10.244.3.99"), milliseconds(500)));  // the check can fail

  // Attaching again replaces the veth; the Pod stays reachable.
  auto again = In(host, [&] { return net.AttachNetns("pod-2", pod2.path(), Ip("10.244.3.3")); });
  ASSERT_TRUE(again.ok()) << again.error().ToString();
  EXPECT_TRUE(Ping(pod1, Ip("10.244.3.3")));

  Status detach = In(host, [&] { return net.Detach("pod-1"); });
  ASSERT_TRUE(detach.ok()) << detach.ToString();
  EXPECT_FALSE(Has(Ipn(host, "-o link show"), a1->host_interface));
  EXPECT_FALSE(Has(Ipn(pod1, "-o link show"), "eth0"));
  EXPECT_FALSE(Ping(pod2, Ip("10.244.3.2"), milliseconds(500)));
  EXPECT_TRUE(In(host, [&] { return net.Detach("pod-1"); }).ok());  // nothing left: still OK

  auto missing =
      In(host, [&] { return net.AttachNetns("pod-3", "/run/netns/nope-x", Ip("10.244.3.4")); });
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code(), Code::kNotFound) << missing.error().ToString();
  EXPECT_FALSE(Has(Ipn(host, "-o link show"), HostNetwork::HostInterfaceName("lv", "pod-3")));
}

TEST_F(HostNetworkTest, ATapIsPersistentOnTheBridgeAndKeptWhileHeld) {
  const Netns& host = NewNetns("h1");
  HostNetwork net(Config("10.244.3.0/24"));
  ASSERT_TRUE(In(host, [&] { return net.Setup(); }).ok());

  auto a = In(host, [&] { return net.AttachTap("vm-1", Ip("10.244.3.10")); });
  ASSERT_TRUE(a.ok()) << a.error().ToString();
  EXPECT_EQ(a->host_interface, HostNetwork::HostInterfaceName("lt", "vm-1"));
  EXPECT_EQ(a->mac, "52:54:0a:f4:03:0a");
  std::string tap = Ipn(host, "-d link show dev " + a->host_interface);
  EXPECT_TRUE(Has(tap, "master lintel0")) << tap;
  EXPECT_TRUE(Has(tap, "mtu 1450")) << tap;
  EXPECT_TRUE(Has(tap, ",UP")) << tap;
  EXPECT_TRUE(Has(tap, "tun type tap")) << tap;
  EXPECT_TRUE(Has(tap, "persist on")) << tap;
  EXPECT_TRUE(Has(tap, "hairpin on")) << tap;
  std::string index = tap.substr(0, tap.find(':'));

  // QEMU opens it by name (here: this test, in the host netns) ...
  int qemu_fd = -1;
  Status open = RunInNetns(host.path(), [&] {
    qemu_fd = ::open("/dev/net/tun", O_RDWR | O_CLOEXEC);
    ifreq ifr{};
    std::strncpy(ifr.ifr_name, a->host_interface.c_str(), IFNAMSIZ - 1);
    ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
    if (qemu_fd < 0 || ::ioctl(qemu_fd, TUNSETIFF, &ifr) != 0) {
      return Internal(std::string("TUNSETIFF: ") + std::strerror(errno));
    }
    return Status();
  });
  EXPECT_TRUE(open.ok()) << open.ToString();
  // ... and a second attach keeps the device it holds.
  auto again = In(host, [&] { return net.AttachTap("vm-1", Ip("10.244.3.10")); });
  ASSERT_TRUE(again.ok()) << again.error().ToString();
  std::string tap2 = Ipn(host, "-d link show dev " + a->host_interface);
  EXPECT_EQ(tap2.substr(0, tap2.find(':')), index);
  EXPECT_TRUE(Has(tap2, "LOWER_UP")) << tap2;  // carrier: the holder is attached

  Status detach = In(host, [&] { return net.Detach("vm-1"); });
  EXPECT_TRUE(detach.ok()) << detach.ToString();
  if (qemu_fd >= 0) ::close(qemu_fd);
  EXPECT_FALSE(Has(Ipn(host, "-o link show"), a->host_interface));
}

TEST_F(HostNetworkTest, TwoHostsJoinedByVxlan) {
  const Netns& h1 = NewNetns("h1");
  const Netns& h2 = NewNetns("h2");
  const Netns& pod1 = NewNetns("p1");
  const Netns& pod2 = NewNetns("p2");
  // The underlay: one wire between the hosts.
  ASSERT_EQ(Sh("ip -n " + h1.name() + " link add u1 type veth peer name u2 netns " + h2.name()), 0);
  ASSERT_EQ(Sh("ip -n " + h1.name() + " addr add 192.168.77.1/24 dev u1 && ip -n " + h1.name() +
               " link set u1 up && ip -n " + h2.name() + " addr add 192.168.77.2/24 dev u2 && " +
               "ip -n " + h2.name() + " link set u2 up"),
            0);
  HostNetwork net1(Config("10.244.1.0/24", "192.168.77.1"));
  HostNetwork net2(Config("10.244.2.0/24", "192.168.77.2"));
  const std::vector<std::string> both = {"192.168.77.1", "192.168.77.2"};
  for (auto [host, net] : {std::pair{&h1, &net1}, std::pair{&h2, &net2}}) {
    Status s = In(*host, [&] { return net->Setup(); });
    ASSERT_TRUE(s.ok()) << s.ToString();
    s = In(*host, [&] { return net->SetPeers(both); });
    ASSERT_TRUE(s.ok()) << s.ToString();
  }
  auto a1 = In(h1, [&] { return net1.AttachNetns("pod-1", pod1.path(), Ip("10.244.1.2")); });
  ASSERT_TRUE(a1.ok()) << a1.error().ToString();
  auto a2 = In(h2, [&] { return net2.AttachNetns("pod-2", pod2.path(), Ip("10.244.2.2")); });
  ASSERT_TRUE(a2.ok()) << a2.error().ToString();

  std::string vx = Ipn(h1, "-d link show dev lintel.vx");
  EXPECT_TRUE(Has(vx, "vxlan id 4242 local 192.168.77.1")) << vx;
  EXPECT_TRUE(Has(vx, "dstport 4789")) << vx;
  EXPECT_TRUE(Has(vx, "master lintel0")) << vx;
  EXPECT_TRUE(Has(vx, "mtu 1450")) << vx;
  auto fdb = [](const Netns& ns) {
    return Out("bridge -n " + ns.name() + " fdb show dev lintel.vx | grep '^00:00:00:00:00:00'");
  };
  EXPECT_EQ(fdb(h1), "00:00:00:00:00:00 dst 192.168.77.2 self permanent\n");

  EXPECT_TRUE(Ping(pod1, Ip("10.244.2.2")));
  EXPECT_TRUE(Ping(pod2, Ip("10.244.1.2")));
  EXPECT_TRUE(Ping(pod1, Ip("10.244.2.1")));  // the other host's gateway, across the VXLAN

  // Idempotent, then empty.
  ASSERT_TRUE(In(h1, [&] { return net1.SetPeers(both); }).ok());
  EXPECT_EQ(fdb(h1), "00:00:00:00:00:00 dst 192.168.77.2 self permanent\n");
  ASSERT_TRUE(In(h1, [&] { return net1.SetPeers({}); }).ok());
  EXPECT_EQ(fdb(h1), "");

  // A changed VNI recreates the VXLAN; the last peers come back with it.
  ASSERT_TRUE(In(h2, [&] { return net2.SetPeers({"192.168.77.1", "192.168.77.9"}); }).ok());
  HostNetworkConfig changed = Config("10.244.2.0/24", "192.168.77.2");
  changed.vni = 4243;
  HostNetwork net2b(changed);
  ASSERT_TRUE(In(h2, [&] { return net2b.Setup(); }).ok());
  EXPECT_TRUE(Has(Ipn(h2, "-d link show dev lintel.vx"), "vxlan id 4243"));
  // A fresh object knows no peers.
  EXPECT_EQ(fdb(h2), "");
  ASSERT_TRUE(In(h2, [&] { return net2.Setup(); }).ok());  // back to 4242, peers re-applied
  EXPECT_EQ(fdb(h2),
            "00:00:00:00:00:00 dst 192.168.77.1 self permanent\n"
            "00:00:00:00:00:00 dst 192.168.77.9 self permanent\n");
}

TEST_F(HostNetworkTest, RemoveAllExceptTeardownAndRepeatedSetup) {
  const Netns& host = NewNetns("h1");
  const Netns& pod1 = NewNetns("p1");
  const Netns& pod2 = NewNetns("p2");
  HostNetwork net(Config("10.244.3.0/24", "192.168.77.1"));
  ASSERT_EQ(
      Sh("ip -n " + host.name() + " link add u1 type veth peer name u1p && ip -n " + host.name() +
         " addr add 192.168.77.1/24 dev u1 && ip -n " + host.name() + " link set u1 up"),
      0);
  Status s = In(host, [&] { return net.Setup(); });
  ASSERT_TRUE(s.ok()) << s.ToString();
  s = In(host, [&] { return net.Setup(); });
  ASSERT_TRUE(s.ok()) << s.ToString();
  std::string addrs = Ipn(host, "-o -4 addr show dev lintel0");
  EXPECT_EQ(std::count(addrs.begin(), addrs.end(), '\n'), 1) << addrs;

  ASSERT_TRUE(
      In(host, [&] { return net.AttachNetns("keep", pod1.path(), Ip("10.244.3.2")); }).ok());
  ASSERT_TRUE(
      In(host, [&] { return net.AttachNetns("orphan", pod2.path(), Ip("10.244.3.3")); }).ok());
  ASSERT_TRUE(In(host, [&] { return net.AttachTap("vm-keep", Ip("10.244.3.4")); }).ok());
  ASSERT_TRUE(In(host, [&] { return net.AttachTap("vm-orphan", Ip("10.244.3.5")); }).ok());
  // Not ours: a name of our form but another kind, and a name that only starts alike.
  ASSERT_EQ(Sh("ip -n " + host.name() + " link add lv00000000 type bridge && ip -n " + host.name() +
               " link add lvm0 type bridge"),
            0);

  auto removed = In(host, [&] { return net.RemoveAllExcept({"keep", "vm-keep"}); });
  ASSERT_TRUE(removed.ok()) << removed.error().ToString();
  EXPECT_EQ(*removed, 2);
  std::string links = Ipn(host, "-o link show");
  EXPECT_TRUE(Has(links, HostNetwork::HostInterfaceName("lv", "keep"))) << links;
  EXPECT_TRUE(Has(links, HostNetwork::HostInterfaceName("lt", "vm-keep"))) << links;
  EXPECT_FALSE(Has(links, HostNetwork::HostInterfaceName("lv", "orphan"))) << links;
  EXPECT_FALSE(Has(links, HostNetwork::HostInterfaceName("lt", "vm-orphan"))) << links;
  EXPECT_TRUE(Has(links, "lv00000000")) << links;
  EXPECT_TRUE(Has(links, "lvm0")) << links;

  // A new host range replaces the bridge address; no VTEP removes the VXLAN;
  // no Service range removes the route.
  HostNetworkConfig moved = Config("10.244.9.0/24");
  moved.service_range.reset();
  HostNetwork net2(moved);
  s = In(host, [&] { return net2.Setup(); });
  ASSERT_TRUE(s.ok()) << s.ToString();
  addrs = Ipn(host, "-o -4 addr show dev lintel0");
  EXPECT_TRUE(Has(addrs, "inet 10.244.9.1/16")) << addrs;
  EXPECT_FALSE(Has(addrs, "10.244.3.1")) << addrs;
  EXPECT_TRUE(Has(Ipn(host, "link show dev lintel0"), "link/ether 52:54:0a:f4:09:01"));
  EXPECT_FALSE(Has(Ipn(host, "-o link show"), "lintel.vx"));
  EXPECT_EQ(Ipn(host, "route show 10.96.0.0/16"), "");
  EXPECT_TRUE(Ping(pod1, Ip("10.244.9.1")));  // the kept Pod reaches the new gateway (on-link /16)

  s = In(host, [&] { return net.Teardown(); });
  ASSERT_TRUE(s.ok()) << s.ToString();
  links = Ipn(host, "-o link show");
  EXPECT_FALSE(Has(links, "lintel0")) << links;
  EXPECT_FALSE(Has(links, "lintel.vx")) << links;
  EXPECT_FALSE(Has(links, HostNetwork::HostInterfaceName("lv", "keep"))) << links;
  EXPECT_FALSE(Has(links, HostNetwork::HostInterfaceName("lt", "vm-keep"))) << links;
  EXPECT_TRUE(Has(links, "lv00000000")) << links;
  EXPECT_TRUE(In(host, [&] { return net.Teardown(); }).ok());  // again: nothing to do
}

TEST_F(HostNetworkTest, ErrorsSayWhatFailed) {
  const Netns& host = NewNetns("h1");
  // A foreign link has the bridge's name.
  ASSERT_EQ(Sh("ip -n " + host.name() + " link add lintel0 type veth peer name x0"), 0);
  Status s = In(host, [] { return HostNetwork(Config("10.244.3.0/24")).Setup(); });
  EXPECT_EQ(s.code(), Code::kConflict) << s.ToString();
  EXPECT_EQ(s.message(),
            "set up host network: bridge lintel0: a link of kind \"veth\" has that name");
  ASSERT_EQ(Sh("ip -n " + host.name() + " link del lintel0"), 0);

  // Another VXLAN already uses the VNI and port: the kernel's own words come along.
  ASSERT_EQ(Sh("ip -n " + host.name() + " link add other.vx type vxlan id 4242 dstport 4789"), 0);
  s = In(host, [] { return HostNetwork(Config("10.244.3.0/24", "192.168.77.1")).Setup(); });
  EXPECT_EQ(s.code(), Code::kAlreadyExists) << s.ToString();
  EXPECT_EQ(s.message(),
            "set up host network: create vxlan lintel.vx: File exists "
            "(A VXLAN device with the specified VNI already exists)");

  HostNetworkConfig bad = Config("10.244.3.0/24");
  bad.host_range = Range("10.245.3.0/24");
  s = In(host, [&] { return HostNetwork(bad).Setup(); });
  EXPECT_EQ(s.code(), Code::kBadRequest) << s.ToString();
}

}  // namespace
}  // namespace lintel::net
