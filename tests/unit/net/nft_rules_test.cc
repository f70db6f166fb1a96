#include "net/nft_rules.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

namespace lintel::net {
namespace {

Ipv4 Ip(const char* text) { return *Ipv4::Parse(text); }

NetRulesConfig Config() {
  NetRulesConfig c;
  c.cluster_range = *Cidr::Parse("10.244.0.0/16");
  c.service_range = *Cidr::Parse("10.96.0.0/16");
  return c;
}

ServiceRule Web() {
  return ServiceRule{"default",
                     "web",
                     Ip("10.96.0.10"),
                     false,
                     {{"tcp", 80, {{Ip("10.244.2.7"), 8080}, {Ip("10.244.1.5"), 8080}}}}};
}

// The lines of `text` that contain `needle`.
std::vector<std::string> Lines(const std::string& text, const std::string& needle) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(start, end - start);
    if (line.find(needle) != std::string::npos) out.push_back(line);
    start = end + 1;
  }
  return out;
}

TEST(NftRulesTest, OneServiceRendersTheWholeTable) {
  EXPECT_EQ(RenderRules(Config(), {Web()}),
            R"(# Lintel Service rules for this host, generated; replaced as a whole on each change.
table ip lintel {}
delete table ip lintel
table ip lintel {
  chain services {
    ip daddr 10.96.0.10 tcp dport 80 dnat ip addr . port to numgen inc mod 2 map { 0 : 10.244.1.5 . 8080, 1 : 10.244.2.7 . 8080 } comment "default/web tcp/80"
  }
  chain reject_services {
    ip daddr 10.96.0.0/16 meta l4proto tcp reject with tcp reset comment "no such Service port"
    ip daddr 10.96.0.0/16 reject comment "no such Service port"
  }
  chain nat_prerouting {
    type nat hook prerouting priority dstnat; policy accept;
    jump services
  }
  chain nat_output {
    type nat hook output priority -100; policy accept;
    jump services
  }
  chain nat_postrouting {
    type nat hook postrouting priority srcnat; policy accept;
    ct original ip daddr 10.96.0.0/16 ct status dnat masquerade comment "Service traffic: replies come back through us"
    ip saddr 10.244.0.0/16 ip daddr != 10.244.0.0/16 oifname != "lintel0" masquerade comment "outbound"
  }
  chain filter_input {
    type filter hook input priority filter; policy accept;
    jump reject_services
  }
  chain filter_forward {
    type filter hook forward priority filter; policy accept;
    jump reject_services
  }
  chain filter_output {
    type filter hook output priority filter; policy accept;
    jump reject_services
  }
}
)");
}

TEST(NftRulesTest, ClientIpAffinityHashesTheSource) {
  ServiceRule web = Web();
  web.client_ip_affinity = true;
  std::vector<std::string> dnat = Lines(RenderRules(Config(), {web}), " dnat ip addr");
  ASSERT_EQ(dnat.size(), 1u);
  EXPECT_NE(dnat[0].find("dnat ip addr . port to jhash ip saddr mod 2 map { 0 : 10.244.1.5 . 8080, "
                         "1 : 10.244.2.7 . 8080 }"),
            std::string::npos)
      << dnat[0];
}

TEST(NftRulesTest, OneBackendNeedsNoMap) {
  ServiceRule web = Web();
  web.ports[0].backends.resize(1);
  std::vector<std::string> dnat = Lines(RenderRules(Config(), {web}), " dnat ip addr");
  ASSERT_EQ(dnat.size(), 1u);
  EXPECT_NE(dnat[0].find("tcp dport 80 dnat ip addr . port to 10.244.2.7 . 8080 comment"),
            std::string::npos)
      << dnat[0];
}

TEST(NftRulesTest, NoBackendsRejects) {
  ServiceRule web = Web();
  web.ports[0].backends.clear();
  web.ports.push_back({"udp", 53, {}});
  std::string script = RenderRules(Config(), {web});
  EXPECT_TRUE(Lines(script, " dnat ip addr").empty()) << script;
  EXPECT_EQ(Lines(script, "no ready backends"),
            (std::vector<std::string>{
                "    ip daddr 10.96.0.10 udp dport 53 reject comment \"default/web udp/53: no "
                "ready backends\"",
                "    ip daddr 10.96.0.10 tcp dport 80 reject with tcp reset comment \"default/web "
                "tcp/80: no ready backends\""}));
  // Ports no Service defines are rejected after them, in the same chain.
  EXPECT_LT(script.find("no ready backends"), script.find("no such Service port"));
}

TEST(NftRulesTest, SeveralPortsAreSortedAndCanDifferPerBackend) {
  ServiceRule s{"shop",
                "api",
                Ip("10.96.3.4"),
                false,
                {{"udp", 9000, {{Ip("10.244.1.9"), 9001}}},
                 {"tcp", 443, {{Ip("10.244.1.9"), 8443}, {Ip("10.244.3.3"), 9443}}},
                 {"tcp", 9000, {{Ip("10.244.1.9"), 9000}}}}};
  std::vector<std::string> dnat = Lines(RenderRules(Config(), {s}), " dnat ip addr");
  ASSERT_EQ(dnat.size(), 3u);
  EXPECT_NE(dnat[0].find("ip daddr 10.96.3.4 tcp dport 443 dnat ip addr . port to numgen inc mod 2 "
                         "map { 0 : 10.244.1.9 . 8443, 1 : 10.244.3.3 . 9443 }"),
            std::string::npos)
      << dnat[0];
  EXPECT_NE(dnat[1].find("tcp dport 9000 dnat ip addr . port to 10.244.1.9 . 9000"),
            std::string::npos)
      << dnat[1];
  EXPECT_NE(dnat[2].find("udp dport 9000 dnat ip addr . port to 10.244.1.9 . 9001"),
            std::string::npos)
      << dnat[2];
}

TEST(NftRulesTest, OrderOfInputDoesNotMatter) {
  std::vector<ServiceRule> services;
  for (int i = 0; i < 6; ++i) {
    ServiceRule s{i % 2 == 0 ? "a" : "b",
                  "svc" + std::to_string(i),
                  Ipv4{Ip("10.96.1.0").value + static_cast<uint32_t>(i)},
                  i == 3,
                  {}};
    for (uint16_t port : {443, 80, 8080}) {
      ServicePortRule p{"tcp", port, {}};
      for (uint32_t b = 0; b < static_cast<uint32_t>(i); ++b) {
        p.backends.push_back({Ipv4{Ip("10.244.0.10").value + b}, static_cast<uint16_t>(port + 1)});
      }
      s.ports.push_back(p);
    }
    services.push_back(s);
  }
  const std::string want = RenderRules(Config(), services);
  std::mt19937 rng(7);  // fixed seed: the test is deterministic
  for (int round = 0; round < 20; ++round) {
    std::shuffle(services.begin(), services.end(), rng);
    for (ServiceRule& s : services) {
      std::shuffle(s.ports.begin(), s.ports.end(), rng);
      for (ServicePortRule& p : s.ports) {
        std::shuffle(p.backends.begin(), p.backends.end(), rng);
        if (!p.backends.empty() && round % 3 == 0) p.backends.push_back(p.backends.front());
      }
    }
    ASSERT_EQ(RenderRules(Config(), services), want) << "round " << round;
  }
  // Sorted by namespace, then name.
  EXPECT_LT(want.find("a/svc2 tcp/80"), want.find("a/svc4 tcp/80"));
  EXPECT_LT(want.find("a/svc4 tcp/80"), want.find("b/svc1 tcp/80"));
  EXPECT_LT(want.find("a/svc2 tcp/80"), want.find("a/svc2 tcp/443"));
  EXPECT_LT(want.find("a/svc2 tcp/443"), want.find("a/svc2 tcp/8080"));
}

TEST(NftRulesTest, EmptyInputStillHasTheTableAndMasquerade) {
  std::string script = RenderRules(Config(), {});
  EXPECT_NE(script.find("table ip lintel {\n"), std::string::npos);
  EXPECT_NE(script.find("  chain services {\n  }\n"), std::string::npos);
  EXPECT_EQ(Lines(script, "masquerade").size(), 2u) << script;
  EXPECT_EQ(Lines(script, "jump reject_services").size(), 3u) << script;
  EXPECT_EQ(Lines(script, "ip daddr 10.96.0.0/16").size(), 3u) << script;  // 2 rejects, 1 NAT
}

TEST(NftRulesTest, ConfigNamesTheTableBridgeAndOutboundNat) {
  NetRulesConfig c = Config();
  c.table = "lintel_t42";
  c.bridge = "br-test";
  std::string script = RenderRules(c, {Web()});
  EXPECT_EQ(script.find("table ip lintel {"), std::string::npos);
  EXPECT_NE(
      script.find("table ip lintel_t42 {}\ndelete table ip lintel_t42\ntable ip lintel_t42 {\n"),
      std::string::npos);
  EXPECT_NE(script.find("oifname != \"br-test\" masquerade"), std::string::npos);
  c.masquerade_outbound = false;
  script = RenderRules(c, {Web()});
  EXPECT_EQ(Lines(script, "masquerade").size(), 1u) << script;
  EXPECT_EQ(script.find("oifname"), std::string::npos);
}

TEST(NftRulesTest, VipOutsideTheServiceRangeIsStillCovered) {
  ServiceRule web = Web();
  web.cluster_ip = Ip("192.0.2.10");
  std::string script = RenderRules(Config(), {web});
  EXPECT_EQ(Lines(script, "ip daddr { 10.96.0.0/16, 192.0.2.10 }").size(), 3u) << script;
  EXPECT_EQ(
      Lines(script, "ct original ip daddr { 10.96.0.0/16, 192.0.2.10 } ct status dnat").size(), 1u)
      << script;
}

TEST(NftRulesTest, SkipsWhatItCannotRender) {
  ServiceRule headless{"default\nflush ruleset", "headless", Ipv4{}, false, {{"tcp", 80, {}}}};
  ServiceRule odd{"default",
                  "odd\"name",
                  Ip("10.96.0.11"),
                  false,
                  {{"icmp", 80, {}}, {"tcp", 0, {}}, {"TCP", 81, {{Ip("10.244.0.5"), 0}}}}};
  std::string script = RenderRules(Config(), {headless, odd});
  EXPECT_EQ(Lines(script, "# skipped").size(), 3u) << script;
  // A line break in a name stays inside the comment.
  EXPECT_NE(script.find("# skipped default_flush ruleset/headless: no cluster IP\n"),
            std::string::npos)
      << script;
  // The quote in the name cannot end the comment early; a backend without a
  // port is not ready.
  EXPECT_NE(script.find("ip daddr 10.96.0.11 tcp dport 81 reject with tcp reset comment "
                        "\"default/odd_name tcp/81: no ready backends\""),
            std::string::npos)
      << script;
}

}  // namespace
}  // namespace lintel::net
