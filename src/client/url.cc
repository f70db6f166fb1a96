#include "client/url.h"

#include <boost/asio/ip/address.hpp>

namespace lintel::client {

std::string BaseUrl::HostHeader() const {
  std::string h = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  return h + ":" + std::to_string(port);
}

std::string BaseUrl::ToString() const {
  return std::string(tls ? "https://" : "http://") + HostHeader() + path_prefix;
}

Result<BaseUrl> ParseBaseUrl(std::string_view url) {
  auto bad = [&](std::string_view why) {
    return BadRequest("server URL \"" + std::string(url) + "\": " + std::string(why));
  };
  BaseUrl out;
  std::string_view rest = url;
  if (rest.starts_with("https://")) {
    out.tls = true;
    rest.remove_prefix(8);
  } else if (rest.starts_with("http://")) {
    rest.remove_prefix(7);
  } else {
    return bad("want http:// or https://");
  }
  size_t slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  if (slash != std::string_view::npos) {
    std::string_view path = rest.substr(slash);
    while (!path.empty() && path.back() == '/') {
      path.remove_suffix(1);
    }
    out.path_prefix = std::string(path);
  }
  if (authority.find('@') != std::string_view::npos) {
    return bad("user info is not supported");
  }
  std::string_view port_str;
  if (authority.starts_with("[")) {
    size_t close = authority.find(']');
    if (close == std::string_view::npos) {
      return bad("unterminated IPv6 address");
    }
    out.host = std::string(authority.substr(1, close - 1));
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') {
        return bad("junk after the IPv6 address");
      }
      port_str = after.substr(1);
    }
  } else {
    size_t colon = authority.rfind(':');
    out.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) {
      port_str = authority.substr(colon + 1);
    }
  }
  if (out.host.empty()) {
    return bad("no host");
  }
  if (port_str.empty()) {
    out.port = out.tls ? 443 : 80;
  } else {
    unsigned port = 0;
    for (char c : port_str) {
      if (c < '0' || c > '9' || port > 65535) {
        return bad("bad port");
      }
      port = port * 10 + static_cast<unsigned>(c - '0');
    }
    if (port == 0 || port > 65535) {
      return bad("bad port");
    }
    out.port = static_cast<uint16_t>(port);
  }
  boost::system::error_code ec;
  boost::asio::ip::make_address(out.host, ec);
  out.host_is_ip = !ec;
  return out;
}

Result<SplitUrl> SplitAbsoluteUrl(std::string_view url) {
  size_t scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) {
    return BadRequest("URL \"" + std::string(url) + "\": not absolute");
  }
  size_t end = url.find_first_of("/?#", scheme_end + 3);
  SplitUrl out;
  out.base = std::string(url.substr(0, end));
  if (end != std::string_view::npos) {
    out.target = std::string(url.substr(end, url.find('#', end) - end));
  }
  if (out.target.empty() || out.target.front() != '/') {
    out.target.insert(0, "/");
  }
  LINTEL_RETURN_IF_ERROR(ParseBaseUrl(out.base).status());
  return out;
}

std::string UrlEncode(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '.' || c == '_' || c == '~') {
      out.push_back(ch);
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

}  // namespace lintel::client
