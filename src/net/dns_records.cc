#include "net/dns_records.h"

#include <algorithm>
#include <utility>

namespace lintel::net {
namespace {

std::string Normalize(std::string_view name) {
  if (!name.empty() && name.back() == '.') name.remove_suffix(1);
  return DnsLower(name);
}

bool IsSubdomain(std::string_view name, std::string_view zone) {
  if (name.size() == zone.size()) return name == zone;
  return name.size() > zone.size() && name.ends_with(zone) &&
         name[name.size() - zone.size() - 1] == '.';
}

}  // namespace

DnsRecordSet::DnsRecordSet(Records records, std::vector<std::string> zones) {
  for (auto& entry : records) {
    std::string key = Normalize(entry.first);
    if (key.empty()) continue;
    std::vector<Ipv4>& dst = records_[key];
    if (dst.empty()) {
      dst = std::move(entry.second);
    } else {  // "Web.svc" and "web.svc" given apart
      dst.insert(dst.end(), entry.second.begin(), entry.second.end());
    }
  }
  for (auto& [name, addresses] : records_) {
    std::sort(addresses.begin(), addresses.end());
    addresses.erase(std::unique(addresses.begin(), addresses.end()), addresses.end());
    for (size_t dot = name.find('.'); dot != std::string::npos; dot = name.find('.', dot + 1)) {
      ancestors_.insert(name.substr(dot + 1));
    }
  }
  for (std::string& zone : zones) zone = Normalize(zone);
  std::erase(zones, std::string());
  std::sort(zones.begin(), zones.end());
  zones.erase(std::unique(zones.begin(), zones.end()), zones.end());
  zones_ = std::move(zones);
}

bool DnsRecordSet::InZone(std::string_view name) const {
  return std::any_of(zones_.begin(), zones_.end(),
                     [&](const std::string& zone) { return IsSubdomain(name, zone); });
}

DnsRecordSet::Lookup DnsRecordSet::Find(std::string_view name) const {
  if (auto it = records_.find(std::string(name)); it != records_.end()) {
    return {Match::kFound, &it->second};
  }
  if (!InZone(name)) return {Match::kOutside, nullptr};
  if (ancestors_.contains(name) || std::find(zones_.begin(), zones_.end(), name) != zones_.end()) {
    return {Match::kNoData, nullptr};
  }
  return {Match::kNxDomain, nullptr};
}

DnsDecision DecideDnsReply(const DnsRecordSet& records, std::span<const uint8_t> message,
                           const DnsPolicy& policy) {
  DnsDecision d;
  std::optional<DnsHeader> header = ParseDnsHeader(message);
  if (!header || header->qr()) return d;  // nothing to answer to, or not a query
  d.action = DnsDecision::Action::kReply;
  Result<DnsQuery> query = ParseDnsQuery(message);
  if (!query.ok()) {
    d.reply = BuildDnsHeaderResponse(*header, DnsRcode::kFormErr);
    return d;
  }
  size_t max_size = policy.tcp ? kDnsTcpMaxSize : DnsUdpLimit(*query);
  DnsAnswer answer;
  answer.recursion_available = policy.can_forward;
  answer.ttl = policy.ttl;
  const DnsQuestion& q = query->question;
  if (query->header.opcode() != 0) {
    answer.rcode = DnsRcode::kNotImp;
  } else {
    DnsRecordSet::Lookup found = records.Find(DnsLower(q.Name()));
    bool in_class = q.klass == kDnsClassIn || q.klass == kDnsClassAny;
    if (found.match == DnsRecordSet::Match::kOutside) {
      if (policy.can_forward) {
        d.action = DnsDecision::Action::kForward;
        d.query = std::move(*query);
        return d;
      }
      answer.rcode = DnsRcode::kRefused;
    } else if (!in_class) {
      answer.rcode = DnsRcode::kRefused;
    } else {
      answer.authoritative = true;
      if (found.match == DnsRecordSet::Match::kNxDomain) {
        answer.rcode = DnsRcode::kNxDomain;
      } else if (found.match == DnsRecordSet::Match::kFound &&
                 (q.type == kDnsTypeA || q.type == kDnsTypeAny)) {
        answer.addresses = *found.addresses;
      }
    }
  }
  d.reply = BuildDnsResponse(*query, answer, max_size);
  d.query = std::move(*query);
  return d;
}

}  // namespace lintel::net
