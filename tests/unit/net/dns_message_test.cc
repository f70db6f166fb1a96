#include "net/dns_message.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "net/dns_records.h"

namespace lintel::net {
namespace {

using Bytes = std::vector<uint8_t>;

Ipv4 Ip(const char* text) { return *Ipv4::Parse(text); }

// A header with one question, then the given raw bytes.
Bytes Message(uint16_t flags, uint16_t qd, uint16_t an, uint16_t ns, uint16_t ar,
              const Bytes& body) {
  Bytes m;
  m.reserve(kDnsHeaderSize + body.size());
  for (uint16_t v : {uint16_t{0x1234}, flags, qd, an, ns, ar}) {
    m.push_back(static_cast<uint8_t>(v >> 8));
    m.push_back(static_cast<uint8_t>(v & 0xff));
  }
  for (uint8_t b : body) m.push_back(b);
  return m;
}

DnsQuery Query(const std::string& name, uint16_t type = kDnsTypeA) {
  auto bytes = BuildDnsQuery(0xbeef, name, type);
  EXPECT_TRUE(bytes.ok()) << bytes.status().ToString();
  auto q = ParseDnsQuery(*bytes);
  EXPECT_TRUE(q.ok()) << q.status().ToString();
  return *q;
}

TEST(DnsMessageTest, QueryRoundTrip) {
  auto bytes = BuildDnsQuery(0xbeef, "Web.Default.SVC.", kDnsTypeAaaa);
  ASSERT_TRUE(bytes.ok());
  EXPECT_EQ(bytes->size(), 12u + 17u + 4u);
  auto q = ParseDnsQuery(*bytes);
  ASSERT_TRUE(q.ok()) << q.status().ToString();
  EXPECT_EQ(q->header.id, 0xbeef);
  EXPECT_TRUE(q->header.rd());
  EXPECT_FALSE(q->header.qr());
  EXPECT_EQ(q->header.opcode(), 0);
  EXPECT_EQ(q->question.Name(), "Web.Default.SVC");
  EXPECT_EQ(DnsLower(q->question.Name()), "web.default.svc");
  EXPECT_EQ(q->question.type, kDnsTypeAaaa);
  EXPECT_EQ(q->question.klass, kDnsClassIn);
  EXPECT_FALSE(q->edns_udp_size.has_value());
  EXPECT_EQ(DnsUdpLimit(*q), 512u);
}

TEST(DnsMessageTest, BuildQueryRejectsBadNames) {
  EXPECT_FALSE(BuildDnsQuery(1, "a..b", kDnsTypeA).ok());
  EXPECT_FALSE(BuildDnsQuery(1, ".a", kDnsTypeA).ok());
  EXPECT_FALSE(BuildDnsQuery(1, std::string(64, 'a') + ".svc", kDnsTypeA).ok());
  std::string long_name;
  for (int i = 0; i < 5; ++i) long_name += std::string(60, 'a') + ".";
  EXPECT_FALSE(BuildDnsQuery(1, long_name, kDnsTypeA).ok());
  EXPECT_TRUE(BuildDnsQuery(1, std::string(63, 'a') + ".svc", kDnsTypeA).ok());
  EXPECT_TRUE(BuildDnsQuery(1, "", kDnsTypeA).ok());  // the root
}

TEST(DnsMessageTest, ResponseWithAnswersRoundTrip) {
  DnsQuery q = Query("Web.default.svc");
  DnsAnswer a{DnsRcode::kNoError, true, false, 30, {Ip("10.96.0.10"), Ip("10.96.0.11")}};
  Bytes bytes = BuildDnsResponse(q, a, 512);
  EXPECT_EQ(bytes.size(), 12u + 21u + 2 * 16u);
  auto r = ParseDnsResponse(bytes);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->header.id, 0xbeef);
  EXPECT_TRUE(r->header.qr());
  EXPECT_TRUE(r->header.aa());
  EXPECT_TRUE(r->header.rd());
  EXPECT_FALSE(r->header.ra());
  EXPECT_FALSE(r->header.tc());
  EXPECT_EQ(r->header.rcode(), DnsRcode::kNoError);
  ASSERT_EQ(r->questions.size(), 1u);
  EXPECT_EQ(r->questions[0].Name(), "Web.default.svc");  // echoed as asked
  ASSERT_EQ(r->answers.size(), 2u);
  for (const DnsRecord& rec : r->answers) {
    EXPECT_EQ(rec.name, "Web.default.svc");  // via the compression pointer
    EXPECT_EQ(rec.ttl, 30u);
  }
  EXPECT_EQ(r->answers[0].a(), Ip("10.96.0.10"));
  EXPECT_EQ(r->answers[1].a(), Ip("10.96.0.11"));
}

TEST(DnsMessageTest, ErrorResponses) {
  DnsQuery q = Query("nope.default.svc");
  for (DnsRcode rcode : {DnsRcode::kNxDomain, DnsRcode::kServFail, DnsRcode::kRefused,
                         DnsRcode::kNotImp, DnsRcode::kNoError}) {
    auto r = ParseDnsResponse(BuildDnsResponse(q, DnsAnswer{rcode, false, true, 5, {}}, 512));
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->header.rcode(), rcode);
    EXPECT_TRUE(r->header.ra());
    EXPECT_EQ(r->questions.size(), 1u);
    EXPECT_TRUE(r->answers.empty());  // NoError without answers is NODATA
  }
  DnsHeader h = *ParseDnsHeader(Message(0x0100, 3, 0, 0, 0, {}));
  auto r = ParseDnsResponse(BuildDnsHeaderResponse(h, DnsRcode::kFormErr));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->header.id, 0x1234);
  EXPECT_TRUE(r->header.qr());
  EXPECT_TRUE(r->header.rd());
  EXPECT_EQ(r->header.rcode(), DnsRcode::kFormErr);
  EXPECT_EQ(r->header.qdcount, 0);
}

TEST(DnsMessageTest, TruncatesToTheLimitAndSetsTc) {
  DnsQuery q = Query("many.default.svc");  // question: 18 + 4 bytes
  DnsAnswer a{DnsRcode::kNoError, true, false, 5, {}};
  for (uint32_t i = 0; i < 100; ++i) a.addresses.push_back(Ipv4{Ip("10.244.0.0").value + i});
  auto r = ParseDnsResponse(BuildDnsResponse(q, a, 512));
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->header.tc());
  EXPECT_EQ(r->answers.size(), (512u - 12u - 22u) / 16u);
  auto full = ParseDnsResponse(BuildDnsResponse(q, a, kDnsTcpMaxSize));
  ASSERT_TRUE(full.ok());
  EXPECT_FALSE(full->header.tc());
  EXPECT_EQ(full->answers.size(), 100u);
}

TEST(DnsMessageTest, EdnsQueryGetsOptAndItsSize) {
  Bytes bytes = *BuildDnsQuery(7, "web.default.svc", kDnsTypeA);
  bytes[11] = 1;                                         // arcount
  Bytes opt = {0, 0, 41, 0x10, 0x00, 0, 0, 0, 0, 0, 0};  // root, OPT, size 4096
  bytes.insert(bytes.end(), opt.begin(), opt.end());
  auto q = ParseDnsQuery(bytes);
  ASSERT_TRUE(q.ok()) << q.status().ToString();
  EXPECT_EQ(q->edns_udp_size, 4096);
  EXPECT_EQ(DnsUdpLimit(*q), kDnsUdpMaxSize);
  DnsAnswer a{DnsRcode::kNoError, true, false, 5, {}};
  for (uint32_t i = 0; i < 100; ++i) a.addresses.push_back(Ipv4{i + 1});
  Bytes out = BuildDnsResponse(*q, a, DnsUdpLimit(*q));
  EXPECT_LE(out.size(), kDnsUdpMaxSize);
  auto r = ParseDnsResponse(out);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->header.tc());
  ASSERT_EQ(r->additional.size(), 1u);
  EXPECT_EQ(r->additional[0].type, kDnsTypeOpt);
  EXPECT_EQ(r->additional[0].klass, kDnsUdpMaxSize);
  EXPECT_EQ(r->answers.size(), (kDnsUdpMaxSize - 12u - 21u - 11u) / 16u);
  // A small EDNS size is raised to 512.
  q->edns_udp_size = 100;
  EXPECT_EQ(DnsUdpLimit(*q), 512u);
}

TEST(DnsMessageTest, FollowsCompressionPointers) {
  // Question "web.default.svc", then an answer whose name is "x" + pointer to
  // "default.svc" inside the question.
  Bytes body = {3,   'w', 'e', 'b', 7, 'd', 'e', 'f', 'a', 'u', 'l',  't', 3,
                's', 'v', 'c', 0,   0, 1,   0,   1,   1,   'x', 0xc0, 16,  0,
                1,   0,   1,   0,   0, 0,   9,   0,   4,   10,  0,    0,   1};
  auto r = ParseDnsResponse(Message(0x8400, 1, 1, 0, 0, body));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->answers.size(), 1u);
  EXPECT_EQ(r->answers[0].name, "x.default.svc");
  EXPECT_EQ(r->answers[0].ttl, 9u);
  EXPECT_EQ(r->answers[0].a(), Ip("10.0.0.1"));
}

TEST(DnsMessageTest, RejectsPointerLoopsAndBadLabels) {
  const std::vector<std::pair<const char*, Bytes>> cases = {
      {"pointer to itself", {0xc0, 12, 0, 1, 0, 1}},
      {"forward pointer", {0xc0, 14, 0, 0, 0, 1, 0, 1}},
      {"label then pointer back to it", {1, 'a', 0xc0, 12, 0, 1, 0, 1}},
      {"pointer into the header", {0xc0, 2, 0, 1, 0, 1}},
      {"pointer cut short", {0xc0}},
      {"extended label type", {0x41, 'a', 0, 0, 1, 0, 1}},
      {"label past the end", {5, 'a', 'b'}},
      {"no terminating zero", {1, 'a'}},
      {"question without type", {1, 'a', 0, 0}},
  };
  for (const auto& [what, body] : cases) {
    SCOPED_TRACE(what);
    EXPECT_FALSE(ParseDnsQuery(Message(0x0100, 1, 0, 0, 0, body)).ok());
    EXPECT_FALSE(ParseDnsResponse(Message(0x8100, 1, 0, 0, 0, body)).ok());
  }
  // An answer name at 19 pointing at 21, which points back at 19.
  Bytes mutual = {1,    'a', 0,    0,  1, 0, 1,  // question "a" at 12..18, type, class
                  0xc0, 21,  0xc0, 19, 0, 1, 0, 1, 0, 0, 0, 0, 0, 0};
  EXPECT_FALSE(ParseDnsResponse(Message(0x8100, 1, 1, 0, 0, mutual)).ok());
  // A name over 255 bytes.
  Bytes chain;
  for (int i = 0; i < 60; ++i) chain.insert(chain.end(), {4, 'a', 'b', 'c', 'd'});
  chain.insert(chain.end(), {0, 0, 1, 0, 1});
  EXPECT_FALSE(ParseDnsQuery(Message(0x0100, 1, 0, 0, 0, chain)).ok());
}

TEST(DnsMessageTest, QueryNeedsExactlyOneQuestion) {
  Bytes q = {1, 'a', 0, 0, 1, 0, 1};
  EXPECT_TRUE(ParseDnsQuery(Message(0x0100, 1, 0, 0, 0, q)).ok());
  EXPECT_FALSE(ParseDnsQuery(Message(0x0100, 0, 0, 0, 0, {})).ok());
  Bytes two = q;
  two.insert(two.end(), q.begin(), q.end());
  EXPECT_FALSE(ParseDnsQuery(Message(0x0100, 2, 0, 0, 0, two)).ok());
  // Records announced but missing.
  EXPECT_FALSE(ParseDnsQuery(Message(0x0100, 1, 0, 0, 1, q)).ok());
}

TEST(DnsMessageTest, NamesEscapeDotsAndOddBytes) {
  DnsQuestion q{{std::string("a.b"), std::string("c\\d"), std::string("e\x01 f", 4)}, 1, 1};
  EXPECT_EQ(q.Name(), "a\\.b.c\\\\d.e\\001\\032f");
}

TEST(DnsMessageTest, EveryPrefixOfAValidMessageIsHandled) {
  DnsQuery q = Query("web.default.svc");
  Bytes full = BuildDnsResponse(
      q, DnsAnswer{DnsRcode::kNoError, true, false, 5, {Ip("10.0.0.1"), Ip("10.0.0.2")}}, 512);
  ASSERT_TRUE(ParseDnsResponse(full).ok());
  for (size_t n = 0; n < full.size(); ++n) {
    std::span<const uint8_t> prefix(full.data(), n);
    EXPECT_EQ(ParseDnsHeader(prefix).has_value(), n >= 12) << n;
    EXPECT_FALSE(ParseDnsResponse(prefix).ok()) << n;
    EXPECT_FALSE(ParseDnsQuery(prefix).ok()) << n;
  }
}

// Random and mutated messages through every parser and the responder's
// decision: nothing may crash, read out of bounds (ASan build) or hang.
TEST(DnsMessageTest, SurvivesRandomInput) {
  const uint32_t seed = std::random_device{}();
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937 rng(seed);
  DnsRecordSet records({{"web.default.svc", {Ip("10.96.0.10")}}}, {"svc"});
  std::vector<Bytes> seeds = {
      *BuildDnsQuery(1, "web.default.svc", kDnsTypeA),
      BuildDnsResponse(Query("web.default.svc"),
                       DnsAnswer{DnsRcode::kNoError, true, false, 5, {Ip("10.0.0.1")}}, 512),
      Message(0x8400, 1, 1, 0, 0, {3,   'w', 'e', 'b', 7, 'd', 'e', 'f', 'a', 'u', 'l',  't', 3,
                                   's', 'v', 'c', 0,   0, 1,   0,   1,   1,   'x', 0xc0, 16,  0,
                                   1,   0,   1,   0,   0, 0,   9,   0,   4,   10,  0,    0,   1})};
  for (int i = 0; i < 20000; ++i) {
    Bytes m;
    if (i % 2 == 0) {
      m.resize(rng() % 80);
      for (uint8_t& b : m) b = static_cast<uint8_t>(rng());
      // Plausible headers reach the name parser more often.
      if (m.size() >= 12 && i % 4 == 0) {
        m[4] = 0;
        m[5] = 1;
        for (int k = 6; k < 12; ++k) m[k] = 0;
      }
    } else {
      m = seeds[rng() % seeds.size()];
      for (int flips = 1 + static_cast<int>(rng() % 4); flips > 0; --flips) {
        m[rng() % m.size()] = static_cast<uint8_t>(rng());
      }
      if (rng() % 3 == 0) m.resize(rng() % (m.size() + 1));
    }
    (void)ParseDnsHeader(m);
    (void)ParseDnsQuery(m);
    (void)ParseDnsResponse(m);
    for (bool tcp : {false, true}) {
      DnsDecision d = DecideDnsReply(records, m, DnsPolicy{5, i % 3 == 0, tcp});
      if (d.action == DnsDecision::Action::kReply) {
        ASSERT_TRUE(ParseDnsResponse(d.reply).ok());
        ASSERT_LE(d.reply.size(), tcp ? kDnsTcpMaxSize : kDnsUdpMaxSize);
      }
    }
  }
}

}  // namespace
}  // namespace lintel::net
