// IPv4 addresses and prefixes (CIDR ranges): parsing, membership, the Nth
// address of a range and splitting a range into subnets. Plain values; any
// thread. Shared by the server (cluster and Service ranges, per-host ranges)
// and the agent's network (src/net), which is why it lives in common/.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"

namespace lintel {

// An IPv4 address in host byte order.
struct Ipv4 {
  uint32_t value = 0;
  auto operator<=>(const Ipv4&) const = default;
  std::string ToString() const;
  // "10.0.0.1"; BadRequest for anything else (no leading zeros, no spaces).
  static Result<Ipv4> Parse(std::string_view text);
};

// A range "10.244.0.0/16". The address is kept as given ("10.244.1.7/24"
// parses; network() masks it), so an interface address and its prefix fit.
struct Cidr {
  Ipv4 address;
  int prefix = 32;
  auto operator<=>(const Cidr&) const = default;

  static Result<Cidr> Parse(std::string_view text);
  std::string ToString() const;  // address/prefix, as kept

  uint32_t Mask() const { return prefix == 0 ? 0 : ~uint32_t{0} << (32 - prefix); }
  Ipv4 Network() const { return {address.value & Mask()}; }
  Ipv4 Broadcast() const { return {Network().value | ~Mask()}; }
  uint64_t Size() const { return uint64_t{1} << (32 - prefix); }
  bool Contains(Ipv4 ip) const { return (ip.value & Mask()) == Network().value; }
  // Whether every address of `other` is in this range.
  bool Contains(const Cidr& other) const {
    return other.prefix >= prefix && Contains(other.Network());
  }
  bool Overlaps(const Cidr& other) const {
    return Contains(other.Network()) || other.Contains(Network());
  }
  // The n-th address from the network address; nullopt past the range.
  std::optional<Ipv4> Nth(uint64_t n) const;
  // The i-th subnet of length `sub_prefix` (>= prefix); nullopt past the end.
  std::optional<Cidr> Subnet(int sub_prefix, uint64_t i) const;
};

}  // namespace lintel
