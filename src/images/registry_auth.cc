#include "images/registry_auth.h"

#include <arpa/inet.h>
#include <openssl/evp.h>

#include <cctype>
#include <vector>

#include "client/url.h"
#include "common/json.h"

namespace lintel::images {

namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

void SkipSpaces(std::string_view s, size_t& i) {
  while (i < s.size() && (s[i] == ' ' || s[i] == '\t' || s[i] == ',')) ++i;
}

}  // namespace

Result<AuthChallenge> ParseAuthChallenge(std::string_view h) {
  AuthChallenge c;
  size_t i = 0;
  SkipSpaces(h, i);
  size_t start = i;
  while (i < h.size() && h[i] != ' ') ++i;
  c.scheme = Lower(h.substr(start, i - start));
  if (c.scheme.empty()) return Invalid("WWW-Authenticate \"" + std::string(h) + "\": no scheme");
  while (i < h.size()) {
    SkipSpaces(h, i);
    size_t key_start = i;
    while (i < h.size() && h[i] != '=' && h[i] != ',') ++i;
    std::string key = Lower(h.substr(key_start, i - key_start));
    while (!key.empty() && key.back() == ' ') key.pop_back();
    if (i >= h.size() || h[i] != '=') continue;
    ++i;
    std::string value;
    if (i < h.size() && h[i] == '"') {
      for (++i; i < h.size() && h[i] != '"'; ++i) {
        if (h[i] == '\\' && i + 1 < h.size()) ++i;
        value.push_back(h[i]);
      }
      ++i;  // the closing quote
    } else {
      while (i < h.size() && h[i] != ',') value.push_back(h[i++]);
      while (!value.empty() && value.back() == ' ') value.pop_back();
    }
    if (!key.empty()) c.params[key] = value;
  }
  return c;
}

std::string TokenUrl(const AuthChallenge& challenge, const std::string& repository) {
  auto get = [&](const char* k) {
    auto it = challenge.params.find(k);
    return it == challenge.params.end() ? std::string() : it->second;
  };
  std::string url = get("realm");
  std::string scope = get("scope");
  if (scope.empty()) scope = "repository:" + repository + ":pull";
  char sep = url.find('?') == std::string::npos ? '?' : '&';
  if (std::string service = get("service"); !service.empty()) {
    url += sep + std::string("service=") + client::UrlEncode(service);
    sep = '&';
  }
  url += sep + std::string("scope=") + client::UrlEncode(scope);
  return url;
}

std::string BasicAuthorization(const std::string& username, const std::string& password) {
  std::string plain = username + ":" + password;
  std::vector<unsigned char> out(4 * ((plain.size() + 2) / 3) + 1);
  int n = EVP_EncodeBlock(out.data(), reinterpret_cast<const unsigned char*>(plain.data()),
                          static_cast<int>(plain.size()));
  return "Basic " + std::string(reinterpret_cast<const char*>(out.data()), static_cast<size_t>(n));
}

Result<std::string> ParseTokenResponse(std::string_view body) {
  auto j = ParseJson(body);
  if (!j.ok() || !j->is_object()) return Invalid("token response: not a JSON object");
  for (const char* key : {"token", "access_token"}) {
    auto it = j->find(key);
    if (it != j->end() && it->is_string() && !it->get<std::string>().empty()) {
      return it->get<std::string>();
    }
  }
  return Invalid("token response: no token");
}

std::string RegistryErrorMessage(std::string_view body) {
  auto j = ParseJson(body);
  std::string out;
  if (j.ok() && j->is_object() && j->contains("errors") && (*j)["errors"].is_array()) {
    for (const auto& e : (*j)["errors"]) {
      if (!e.is_object()) continue;
      std::string code = e.value("code", "");
      std::string message = e.value("message", "");
      if (!out.empty()) out += "; ";
      out += code.empty() ? message : message.empty() ? code : code + ": " + message;
    }
  }
  if (!out.empty()) return out;
  std::string text(body.substr(0, 200));
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  for (char& ch : text) {
    if (ch == '\n' || ch == '\r') ch = ' ';
  }
  return text;
}

bool IsLoopbackRegistry(std::string_view registry) {
  std::string_view host = registry;
  if (host.starts_with("[")) {
    host = host.substr(1, host.find(']') - 1);
  } else if (size_t colon = host.rfind(':'); colon != std::string_view::npos) {
    host = host.substr(0, colon);
  }
  in_addr v4{};
  return host == "localhost" || host == "::1" ||
         (host.starts_with("127.") && ::inet_pton(AF_INET, std::string(host).c_str(), &v4) == 1);
}

}  // namespace lintel::images
