#include "server/http/wire.h"

#include <boost/beast/http/status.hpp>
#include <nlohmann/json.hpp>

namespace lintel::http {

namespace {

std::string Canonical(std::string_view name) {
  std::string out(name);
  bool upper = true;
  for (char& c : out) {
    if (upper && c >= 'a' && c <= 'z') {
      c = static_cast<char>(c - 'a' + 'A');
    }
    upper = c == '-';
  }
  return out;
}

bool Unsafe(std::string_view s) { return s.find_first_of("\r\n") != std::string_view::npos; }

}  // namespace

std::string StatusJson(int code, std::string_view reason, std::string_view message) {
  nlohmann::json j = {
      {"kind", "Status"},    {"apiVersion", "v1"}, {"metadata", nlohmann::json::object()},
      {"status", "Failure"}, {"message", message}, {"reason", reason},
      {"code", code}};
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

Response StatusResponse(int code, std::string_view reason, std::string_view message) {
  Response r;
  r.status = code;
  r.headers.Set("Content-Type", "application/json");
  r.body = StatusJson(code, reason, message);
  return r;
}

bool StatusHasNoBody(int status) {
  return (status >= 100 && status < 200) || status == 204 || status == 304;
}

std::string FormatHead(int status, const Headers& headers, const HeadOptions& options) {
  namespace bhttp = boost::beast::http;
  auto beast_reason = bhttp::obsolete_reason(bhttp::int_to_status(static_cast<unsigned>(status)));
  std::string_view reason(beast_reason.data(), beast_reason.size());
  if (reason.empty() || reason.front() == '<') {
    reason = "Unknown";
  }
  std::string out;
  out.reserve(256);
  out += options.version == 10 ? "HTTP/1.0 " : "HTTP/1.1 ";
  out += std::to_string(status);
  out += ' ';
  out += reason;
  out += "\r\n";
  bool has_content_type = false;
  for (const auto& [name, value] : headers.all()) {
    if (name == "content-length" || name == "transfer-encoding" || name == "connection" ||
        name.empty() || Unsafe(name) || Unsafe(value)) {
      continue;
    }
    has_content_type = has_content_type || name == "content-type";
    out += Canonical(name);
    out += ": ";
    out += value;
    out += "\r\n";
  }
  if (!has_content_type && !StatusHasNoBody(status)) {
    out += "Content-Type: application/json\r\n";
  }
  if (options.content_length && !StatusHasNoBody(status)) {
    out += "Content-Length: " + std::to_string(*options.content_length) + "\r\n";
  }
  if (options.chunked) {
    out += "Transfer-Encoding: chunked\r\n";
  }
  if (!options.keep_alive) {
    out += "Connection: close\r\n";
  } else if (options.version == 10) {
    out += "Connection: keep-alive\r\n";
  }
  out += "\r\n";
  return out;
}

}  // namespace lintel::http
