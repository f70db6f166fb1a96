// Internal to the transport: response heads and the Kubernetes Status bodies
// the transport itself sends (413, 431, 400, 500). Pure functions, any thread.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "server/http/http.h"

namespace lintel::http {

// {"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",...}
std::string StatusJson(int code, std::string_view reason, std::string_view message);
Response StatusResponse(int code, std::string_view reason, std::string_view message);

struct HeadOptions {
  int version = 11;  // 10 or 11
  bool keep_alive = true;
  bool chunked = false;
  std::optional<size_t> content_length;  // set for whole responses
};

// The status line and headers, ending with the blank line. The handler's
// headers are kept (names canonicalised, e.g. "Content-Type"), except those
// the transport owns (Content-Length, Transfer-Encoding, Connection) and any
// with CR or LF in them. Content-Type defaults to application/json.
std::string FormatHead(int status, const Headers& headers, const HeadOptions& options);

// True for statuses that never carry a body (1xx, 204, 304).
bool StatusHasNoBody(int status);

}  // namespace lintel::http
