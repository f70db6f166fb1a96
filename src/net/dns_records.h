// The DNS responder's data and decisions, without sockets: DnsRecordSet is an
// immutable snapshot of the names the estate serves (Services, Pods, VMs) and
// the zones answered authoritatively; DecideDnsReply turns one received message
// into what DnsServer does with it (drop, reply, or forward upstream).
//
//   name in records          A/ANY: NOERROR + all addresses, AA; other types: NODATA, AA
//   ancestor of a record,    NODATA, AA (the name exists, it just has no A record)
//     or a zone apex
//   other name in a zone     NXDOMAIN, AA
//   outside every zone       forward if upstreams are set, else REFUSED
//   unparsable after header  FORMERR (header only); no readable header or a response: drop
//   opcode other than QUERY  NOTIMP
//
// Thread-safety: a DnsRecordSet is immutable once built and may be read from
// any thread; DnsServer swaps shared_ptrs to it. DecideDnsReply is pure.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/cidr.h"
#include "net/dns_message.h"

namespace lintel::net {

class DnsRecordSet {
 public:
  using Records = std::map<std::string, std::vector<Ipv4>>;

  // Names are lower-cased and lose a trailing dot; empty zone names are dropped.
  DnsRecordSet(Records records, std::vector<std::string> zones);

  enum class Match {
    kFound,     // in the records (addresses may be empty)
    kNoData,    // exists without records of its own (ancestor of a record, zone apex)
    kNxDomain,  // in a zone, does not exist
    kOutside,   // in no zone: not ours to answer
  };
  struct Lookup {
    Match match = Match::kOutside;
    const std::vector<Ipv4>* addresses = nullptr;  // kFound only
  };
  // `name` in lower case, presentation form, no trailing dot.
  Lookup Find(std::string_view name) const;

  const Records& records() const { return records_; }
  const std::vector<std::string>& zones() const { return zones_; }

 private:
  bool InZone(std::string_view name) const;

  Records records_;
  std::vector<std::string> zones_;
  std::set<std::string, std::less<>> ancestors_;  // proper suffixes of record names
};

struct DnsPolicy {
  uint32_t ttl = 5;
  bool can_forward = false;  // upstreams are configured (also sets RA)
  bool tcp = false;          // replies may use kDnsTcpMaxSize instead of the UDP limit
};

struct DnsDecision {
  enum class Action { kDrop, kReply, kForward };
  Action action = Action::kDrop;
  std::vector<uint8_t> reply;     // kReply
  std::optional<DnsQuery> query;  // kForward (and kReply when the query parsed)
};

DnsDecision DecideDnsReply(const DnsRecordSet& records, std::span<const uint8_t> message,
                           const DnsPolicy& policy);

}  // namespace lintel::net
