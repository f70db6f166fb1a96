// DNS wire format (RFC 1035) for the estate's small responder: parsing a query
// (header, one question, compressed names, an EDNS OPT record), building the
// responses it sends (A answers, NXDOMAIN, NODATA, errors) and, for clients and
// tests, building a query and parsing a response.
//
// Every read is bounds-checked: any byte string, truncated or hostile, yields
// an error and never a crash. Compression pointers must point strictly before
// the previous jump (so they cannot loop), at most 64 jumps, names at most 255
// bytes on the wire.
//
// Thread-safety: pure functions and plain values; any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/cidr.h"
#include "common/status.h"

namespace lintel::net {

enum class DnsRcode : uint8_t {
  kNoError = 0,
  kFormErr = 1,
  kServFail = 2,
  kNxDomain = 3,
  kNotImp = 4,
  kRefused = 5,
};

inline constexpr uint16_t kDnsTypeA = 1;
inline constexpr uint16_t kDnsTypeAaaa = 28;
inline constexpr uint16_t kDnsTypeOpt = 41;
inline constexpr uint16_t kDnsTypeAny = 255;
inline constexpr uint16_t kDnsClassIn = 1;
inline constexpr uint16_t kDnsClassAny = 255;
inline constexpr size_t kDnsHeaderSize = 12;
inline constexpr size_t kDnsUdpMinSize = 512;   // without EDNS
inline constexpr size_t kDnsUdpMaxSize = 1232;  // the most we send over UDP with EDNS
inline constexpr size_t kDnsTcpMaxSize = 65535;

struct DnsHeader {
  uint16_t id = 0;
  uint16_t flags = 0;  // QR, opcode, AA, TC, RD, RA, Z, rcode
  uint16_t qdcount = 0, ancount = 0, nscount = 0, arcount = 0;

  bool qr() const { return (flags & 0x8000) != 0; }
  uint8_t opcode() const { return static_cast<uint8_t>((flags >> 11) & 0xf); }
  bool aa() const { return (flags & 0x0400) != 0; }
  bool tc() const { return (flags & 0x0200) != 0; }
  bool rd() const { return (flags & 0x0100) != 0; }
  bool ra() const { return (flags & 0x0080) != 0; }
  DnsRcode rcode() const { return static_cast<DnsRcode>(flags & 0xf); }
};

struct DnsQuestion {
  std::vector<std::string> labels;  // raw bytes, case as sent
  uint16_t type = 0;
  uint16_t klass = 0;

  // Presentation form without the trailing dot ("web.default.svc"; "" for the
  // root); '.', '\' and unprintable bytes inside a label are escaped (\., \\,
  // \DDD), so a label can never pose as two.
  std::string Name() const;
};

struct DnsQuery {
  DnsHeader header;
  DnsQuestion question;
  std::optional<uint16_t> edns_udp_size;  // set when the query carries an OPT record
};

// One resource record of a parsed response.
struct DnsRecord {
  std::string name;  // presentation form, as DnsQuestion::Name()
  uint16_t type = 0;
  uint16_t klass = 0;
  uint32_t ttl = 0;
  std::vector<uint8_t> rdata;
  std::optional<Ipv4> a() const;  // the address of an IN A record
};

struct DnsResponse {
  DnsHeader header;
  std::vector<DnsQuestion> questions;
  std::vector<DnsRecord> answers;
  std::vector<DnsRecord> authority;
  std::vector<DnsRecord> additional;
};

// The 12-byte header; nullopt when the message is shorter.
std::optional<DnsHeader> ParseDnsHeader(std::span<const uint8_t> message);

// A query: a header, exactly one question and well-formed records after it
// (only an OPT record among them is used). BadRequest saying what is wrong
// otherwise. Does not judge flags or opcode; the caller does.
Result<DnsQuery> ParseDnsQuery(std::span<const uint8_t> message);

// Any message, all sections; BadRequest when malformed.
Result<DnsResponse> ParseDnsResponse(std::span<const uint8_t> message);

// A standard query for `name` (trailing dot optional) with one question, RD
// set. BadRequest for an empty label, a label over 63 or a name over 255 bytes.
Result<std::vector<uint8_t>> BuildDnsQuery(uint16_t id, std::string_view name, uint16_t type,
                                           uint16_t klass = kDnsClassIn);

// What to answer a query with.
struct DnsAnswer {
  DnsRcode rcode = DnsRcode::kNoError;
  bool authoritative = false;
  bool recursion_available = false;
  uint32_t ttl = 0;
  std::vector<Ipv4> addresses;  // A records for the question's name
};

// The response to `query`: its id, opcode and RD, the question as asked, then
// A records (the owner name compressed to the question's). When the answers do
// not fit in `max_size` bytes, the ones that fit are sent and TC is set. An OPT
// record (payload size kDnsUdpMaxSize) is added when the query had one.
std::vector<uint8_t> BuildDnsResponse(const DnsQuery& query, const DnsAnswer& answer,
                                      size_t max_size);

// A header-only response (no question) with `rcode`, for queries too broken to
// echo: the id, opcode and RD of `query_header`, QR set, all counts zero.
std::vector<uint8_t> BuildDnsHeaderResponse(const DnsHeader& query_header, DnsRcode rcode);

// The largest UDP response `query` allows: 512, or its EDNS payload size
// clamped to [512, kDnsUdpMaxSize].
size_t DnsUdpLimit(const DnsQuery& query);

// ASCII lower case (DNS names compare case-insensitively).
std::string DnsLower(std::string_view name);

}  // namespace lintel::net
