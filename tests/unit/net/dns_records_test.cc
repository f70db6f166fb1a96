#include "net/dns_records.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace lintel::net {
namespace {

using Bytes = std::vector<uint8_t>;

Ipv4 Ip(const char* text) { return *Ipv4::Parse(text); }

DnsRecordSet Records() {
  return DnsRecordSet({{"web.default.svc", {Ip("10.96.0.11"), Ip("10.96.0.10")}},
                       {"DB-0.Default.VM.", {Ip("10.244.1.7")}},
                       {"empty.default.svc", {}}},
                      {"svc", "pod", "VM.", ""});
}

struct Reply {
  DnsDecision::Action action;
  DnsResponse response;
};

Reply Decide(const Bytes& message, DnsPolicy policy = {}) {
  DnsDecision d = DecideDnsReply(Records(), message, policy);
  Reply r{d.action, {}};
  if (d.action == DnsDecision::Action::kReply) {
    auto parsed = ParseDnsResponse(d.reply);
    EXPECT_TRUE(parsed.ok()) << parsed.status().ToString();
    if (parsed.ok()) r.response = *parsed;
  }
  return r;
}

Reply Ask(const std::string& name, uint16_t type = kDnsTypeA, DnsPolicy policy = {}) {
  return Decide(*BuildDnsQuery(0x4242, name, type), policy);
}

std::vector<Ipv4> Addresses(const DnsResponse& r) {
  std::vector<Ipv4> out;
  for (const DnsRecord& rec : r.answers) out.push_back(rec.a().value_or(Ipv4{}));
  return out;
}

TEST(DnsRecordsTest, Lookup) {
  DnsRecordSet set = Records();
  EXPECT_EQ(set.zones(), (std::vector<std::string>{"pod", "svc", "vm"}));
  EXPECT_EQ(set.Find("db-0.default.vm").match, DnsRecordSet::Match::kFound);
  EXPECT_EQ(set.Find("default.svc").match, DnsRecordSet::Match::kNoData);
  EXPECT_EQ(set.Find("svc").match, DnsRecordSet::Match::kNoData);
  EXPECT_EQ(set.Find("api.default.svc").match, DnsRecordSet::Match::kNxDomain);
  EXPECT_EQ(set.Find("xsvc").match, DnsRecordSet::Match::kOutside);
  EXPECT_EQ(set.Find("example.com").match, DnsRecordSet::Match::kOutside);
}

TEST(DnsRecordsTest, AnswersKnownNamesWithAllAddresses) {
  Reply r = Ask("WEB.default.Svc");
  ASSERT_EQ(r.action, DnsDecision::Action::kReply);
  EXPECT_EQ(r.response.header.id, 0x4242);
  EXPECT_EQ(r.response.header.rcode(), DnsRcode::kNoError);
  EXPECT_TRUE(r.response.header.aa());
  EXPECT_EQ(Addresses(r.response), (std::vector<Ipv4>{Ip("10.96.0.10"), Ip("10.96.0.11")}));
  EXPECT_EQ(r.response.answers[0].ttl, 5u);
  EXPECT_EQ(r.response.questions[0].Name(), "WEB.default.Svc");
  r = Ask("db-0.default.vm", kDnsTypeAny, DnsPolicy{30, false, false});
  EXPECT_EQ(Addresses(r.response), std::vector<Ipv4>{Ip("10.244.1.7")});
  EXPECT_EQ(r.response.answers[0].ttl, 30u);
}

TEST(DnsRecordsTest, NoDataAndNxDomain) {
  for (const auto& [name, type] :
       std::vector<std::pair<std::string, uint16_t>>{{"web.default.svc", kDnsTypeAaaa},
                                                     {"web.default.svc", 16},
                                                     {"empty.default.svc", kDnsTypeA},
                                                     {"default.svc", kDnsTypeA},
                                                     {"pod", kDnsTypeA}}) {
    SCOPED_TRACE(name + " type " + std::to_string(type));
    Reply r = Ask(name, type);
    EXPECT_EQ(r.response.header.rcode(), DnsRcode::kNoError);
    EXPECT_TRUE(r.response.header.aa());
    EXPECT_TRUE(r.response.answers.empty());
  }
  for (const char* name : {"api.default.svc", "web.other.svc", "x.web.default.svc", "a.b.pod"}) {
    SCOPED_TRACE(name);
    Reply r = Ask(name);
    EXPECT_EQ(r.response.header.rcode(), DnsRcode::kNxDomain);
    EXPECT_TRUE(r.response.header.aa());
  }
}

TEST(DnsRecordsTest, OutsideTheZonesForwardsOrRefuses) {
  Reply r = Ask("example.com");
  ASSERT_EQ(r.action, DnsDecision::Action::kReply);
  EXPECT_EQ(r.response.header.rcode(), DnsRcode::kRefused);
  EXPECT_FALSE(r.response.header.aa());
  EXPECT_FALSE(r.response.header.ra());
  DnsDecision d =
      DecideDnsReply(Records(), *BuildDnsQuery(9, "example.com", kDnsTypeA), {5, true, false});
  ASSERT_EQ(d.action, DnsDecision::Action::kForward);
  ASSERT_TRUE(d.query.has_value());
  EXPECT_EQ(d.query->header.id, 9);
  EXPECT_EQ(d.query->question.Name(), "example.com");
  // With upstreams, our own answers say recursion is available.
  EXPECT_TRUE(Ask("web.default.svc", kDnsTypeA, {5, true, false}).response.header.ra());
}

TEST(DnsRecordsTest, MalformedAndOddMessages) {
  // Too short for a header: dropped.
  EXPECT_EQ(Decide(Bytes(11, 0)).action, DnsDecision::Action::kDrop);
  // A response (QR set) is never answered.
  Bytes q = *BuildDnsQuery(1, "web.default.svc", kDnsTypeA);
  q[2] |= 0x80;
  EXPECT_EQ(Decide(q).action, DnsDecision::Action::kDrop);
  // Readable header, broken body: FORMERR with the id.
  Bytes broken = *BuildDnsQuery(0x0707, "web.default.svc", kDnsTypeA);
  broken.resize(20);
  Reply r = Decide(broken);
  ASSERT_EQ(r.action, DnsDecision::Action::kReply);
  EXPECT_EQ(r.response.header.id, 0x0707);
  EXPECT_EQ(r.response.header.rcode(), DnsRcode::kFormErr);
  // Opcode other than QUERY: NOTIMP.
  Bytes notify = *BuildDnsQuery(2, "web.default.svc", kDnsTypeA);
  notify[2] |= 4 << 3;
  EXPECT_EQ(Decide(notify).response.header.rcode(), DnsRcode::kNotImp);
  // Class CHAOS in our zones: REFUSED.
  EXPECT_EQ(Decide(*BuildDnsQuery(3, "web.default.svc", kDnsTypeA, 3)).response.header.rcode(),
            DnsRcode::kRefused);
}

TEST(DnsRecordsTest, UdpAnswersAreTruncatedTcpAnswersAreNot) {
  std::vector<Ipv4> many;
  for (uint32_t i = 0; i < 200; ++i) many.push_back(Ipv4{Ip("10.244.0.0").value + i});
  DnsRecordSet set({{"big.default.svc", many}}, {"svc"});
  Bytes q = *BuildDnsQuery(1, "big.default.svc", kDnsTypeA);
  DnsDecision udp = DecideDnsReply(set, q, {5, false, false});
  EXPECT_LE(udp.reply.size(), 512u);
  EXPECT_TRUE(ParseDnsResponse(udp.reply)->header.tc());
  DnsDecision tcp = DecideDnsReply(set, q, {5, false, true});
  auto r = ParseDnsResponse(tcp.reply);
  EXPECT_FALSE(r->header.tc());
  EXPECT_EQ(r->answers.size(), 200u);
}

}  // namespace
}  // namespace lintel::net
