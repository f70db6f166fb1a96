#include "server/http/http.h"

#include <algorithm>
#include <cctype>

#include "server/http/url.h"

namespace lintel::http {

namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') {
    return c - '0';
  }
  if (c >= 'a' && c <= 'f') {
    return c - 'a' + 10;
  }
  if (c >= 'A' && c <= 'F') {
    return c - 'A' + 10;
  }
  return -1;
}

}  // namespace

std::string PercentDecode(std::string_view in, bool plus_is_space) {
  std::string out;
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '%' && i + 2 < in.size()) {
      int hi = HexValue(in[i + 1]);
      int lo = HexValue(in[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
        continue;
      }
    }
    out.push_back(plus_is_space && c == '+' ? ' ' : c);
  }
  return out;
}

void Headers::Add(std::string_view name, std::string_view value) {
  items_.emplace_back(Lower(name), std::string(value));
}

void Headers::Set(std::string_view name, std::string_view value) {
  std::string key = Lower(name);
  std::erase_if(items_, [&](const auto& kv) { return kv.first == key; });
  items_.emplace_back(std::move(key), std::string(value));
}

std::optional<std::string_view> Headers::Get(std::string_view name) const {
  for (const auto& [k, v] : items_) {
    if (EqualsIgnoreCase(k, name)) {
      return std::string_view(v);
    }
  }
  return std::nullopt;
}

Query Query::Parse(std::string_view raw) {
  Query q;
  if (!raw.empty() && raw.front() == '?') {
    raw.remove_prefix(1);
  }
  while (!raw.empty()) {
    size_t amp = raw.find('&');
    std::string_view part = raw.substr(0, amp);
    raw = amp == std::string_view::npos ? std::string_view() : raw.substr(amp + 1);
    if (part.empty()) {
      continue;
    }
    size_t eq = part.find('=');
    std::string_view key = part.substr(0, eq);
    std::string_view value =
        eq == std::string_view::npos ? std::string_view() : part.substr(eq + 1);
    q.items_.emplace_back(PercentDecode(key, true), PercentDecode(value, true));
  }
  return q;
}

std::optional<std::string_view> Query::Get(std::string_view key) const {
  for (const auto& [k, v] : items_) {
    if (k == key) {
      return std::string_view(v);
    }
  }
  return std::nullopt;
}

std::vector<std::string_view> Query::GetAll(std::string_view key) const {
  std::vector<std::string_view> out;
  for (const auto& [k, v] : items_) {
    if (k == key) {
      out.emplace_back(v);
    }
  }
  return out;
}

bool Query::Has(std::string_view key) const { return Get(key).has_value(); }

bool Query::GetBool(std::string_view key) const {
  auto v = Get(key);
  return v && (*v == "1" || EqualsIgnoreCase(*v, "true"));
}

}  // namespace lintel::http

namespace lintel::http {

bool IsWebSocketUpgrade(const Request& req) {
  if (req.method != "GET") return false;
  auto upgrade = req.headers.Get("upgrade");
  if (!upgrade || !EqualsIgnoreCase(*upgrade, "websocket")) return false;
  auto connection = Lower(req.headers.Get("connection").value_or(""));
  return connection.find("upgrade") != std::string::npos &&
         req.headers.Get("sec-websocket-key").has_value();
}

std::vector<std::string> OfferedSubprotocols(const Request& req) {
  std::vector<std::string> out;
  for (const auto& [name, value] : req.headers.all()) {
    if (name != "sec-websocket-protocol") continue;
    size_t pos = 0;
    while (pos <= value.size()) {
      size_t comma = value.find(',', pos);
      if (comma == std::string::npos) comma = value.size();
      std::string item = value.substr(pos, comma - pos);
      const size_t b = item.find_first_not_of(" \t");
      const size_t e = item.find_last_not_of(" \t");
      if (b != std::string::npos) out.push_back(item.substr(b, e - b + 1));
      pos = comma + 1;
    }
  }
  return out;
}

}  // namespace lintel::http
