// URL pieces the client needs: the server's base URL and percent-encoding of
// query values and path segments. Pure functions, any thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

namespace lintel::client {

struct BaseUrl {
  bool tls = false;
  std::string host;  // without brackets: "127.0.0.1", "::1", "api.example"
  uint16_t port = 0;
  std::string path_prefix;  // "" or "/prefix" (no trailing slash)
  bool host_is_ip = false;
  std::string HostHeader() const;  // "host:port", IPv6 in brackets
  std::string ToString() const;    // "https://host:port/prefix"
};

// "http(s)://host[:port][/prefix]". BadRequest when malformed.
Result<BaseUrl> ParseBaseUrl(std::string_view url);

// An absolute URL split into what HttpClient takes: the base URL
// ("https://host:port") and the target ("/path?query", at least "/").
struct SplitUrl {
  std::string base;
  std::string target;
};
// BadRequest when not an absolute http(s) URL.
Result<SplitUrl> SplitAbsoluteUrl(std::string_view url);

// Percent-encodes all but RFC 3986 unreserved characters (so ' ' → "%20").
std::string UrlEncode(std::string_view s);

}  // namespace lintel::client
