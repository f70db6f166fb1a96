#include "common/cidr.h"

#include <charconv>

namespace lintel {

std::string Ipv4::ToString() const {
  return std::to_string(value >> 24) + "." + std::to_string((value >> 16) & 0xff) + "." +
         std::to_string((value >> 8) & 0xff) + "." + std::to_string(value & 0xff);
}

Result<Ipv4> Ipv4::Parse(std::string_view text) {
  auto bad = [&] { return BadRequest("not an IPv4 address: \"" + std::string(text) + "\""); };
  uint32_t out = 0;
  std::string_view rest = text;
  for (int i = 0; i < 4; ++i) {
    size_t end = i < 3 ? rest.find('.') : rest.size();
    if (end == std::string_view::npos || end == 0 || end > 3) return bad();
    std::string_view part = rest.substr(0, end);
    if (part.size() > 1 && part[0] == '0') return bad();
    unsigned v = 0;
    auto [p, ec] = std::from_chars(part.data(), part.data() + part.size(), v);
    if (ec != std::errc() || p != part.data() + part.size() || v > 255) return bad();
    out = (out << 8) | v;
    rest = i < 3 ? rest.substr(end + 1) : std::string_view();
  }
  return Ipv4{out};
}

Result<Cidr> Cidr::Parse(std::string_view text) {
  size_t slash = text.find('/');
  if (slash == std::string_view::npos) {
    return BadRequest("not a CIDR range (want a.b.c.d/n): \"" + std::string(text) + "\"");
  }
  LINTEL_ASSIGN_OR_RETURN(Ipv4 ip, Ipv4::Parse(text.substr(0, slash)));
  std::string_view len = text.substr(slash + 1);
  int prefix = -1;
  auto [p, ec] = std::from_chars(len.data(), len.data() + len.size(), prefix);
  if (len.empty() || ec != std::errc() || p != len.data() + len.size() || prefix < 0 ||
      prefix > 32) {
    return BadRequest("bad prefix length in \"" + std::string(text) + "\"");
  }
  return Cidr{ip, prefix};
}

std::string Cidr::ToString() const { return address.ToString() + "/" + std::to_string(prefix); }

std::optional<Ipv4> Cidr::Nth(uint64_t n) const {
  if (n >= Size()) return std::nullopt;
  return Ipv4{Network().value + static_cast<uint32_t>(n)};
}

std::optional<Cidr> Cidr::Subnet(int sub_prefix, uint64_t i) const {
  if (sub_prefix < prefix || sub_prefix > 32) return std::nullopt;
  uint64_t count = uint64_t{1} << (sub_prefix - prefix);
  if (i >= count) return std::nullopt;
  uint64_t step = uint64_t{1} << (32 - sub_prefix);
  return Cidr{Ipv4{Network().value + static_cast<uint32_t>(i * step)}, sub_prefix};
}

}  // namespace lintel
