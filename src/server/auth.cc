#include "server/auth.h"

#include <openssl/crypto.h>

#include <sstream>

#include "common/fs.h"
#include "common/ids.h"

namespace lintel::server {

namespace {

std::vector<std::string> SplitCsvLine(const std::string& line) {
  std::vector<std::string> out;
  std::string cur;
  bool quoted = false;
  for (char c : line) {
    if (c == '"') {
      quoted = !quoted;
    } else if (c == ',' && !quoted) {
      out.push_back(cur);
      cur.clear();
    } else {
      cur.push_back(c);
    }
  }
  out.push_back(cur);
  return out;
}

}  // namespace

Result<std::unique_ptr<Authenticator>> Authenticator::FromFile(const std::string& path) {
  LINTEL_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  auto auth = std::make_unique<Authenticator>();
  std::istringstream in(text);
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    ++n;
    if (line.empty() || line[0] == '#') continue;
    auto fields = SplitCsvLine(line);
    if (fields.size() < 2 || fields[0].empty() || fields[1].empty()) {
      return BadRequest(path + ":" + std::to_string(n) + ": want token,user,uid[,\"groups\"]");
    }
    UserInfo u;
    u.name = fields[1];
    if (fields.size() >= 4) {
      std::string g;
      std::istringstream gs(fields[3]);
      while (std::getline(gs, g, ',')) {
        if (!g.empty()) u.groups.push_back(g);
      }
    }
    auth->AddToken(fields[0], std::move(u));
  }
  return auth;
}

void Authenticator::AddToken(const std::string& token, UserInfo user) {
  tokens_[token] = std::move(user);
}

Result<UserInfo> Authenticator::Authenticate(const http::Request& request) const {
  if (auto h = request.headers.Get("authorization")) {
    std::string_view v = *h;
    constexpr std::string_view kBearer = "Bearer ";
    if (v.size() > kBearer.size() && v.substr(0, kBearer.size()) == kBearer) {
      std::string_view token = v.substr(kBearer.size());
      // Compare against every token in constant time per candidate.
      const UserInfo* found = nullptr;
      for (const auto& [t, u] : tokens_) {
        if (t.size() == token.size() && CRYPTO_memcmp(t.data(), token.data(), t.size()) == 0) {
          found = &u;
        }
      }
      if (found) return *found;
    }
    return Unauthorized("Unauthorized");
  }
  if (!request.client_cert_cn.empty()) {
    UserInfo u;
    u.name = request.client_cert_cn;
    u.groups = request.client_cert_groups;
    return u;
  }
  return Unauthorized("Unauthorized");
}

Result<std::string> EnsureAdminToken(const std::string& path) {
  if (!FileExists(path)) {
    std::string token = RandomHex(24);
    LINTEL_RETURN_IF_ERROR(
        WriteFileAtomic(path, token + ",admin,admin,\"system:masters\"\n", 0600));
  }
  LINTEL_ASSIGN_OR_RETURN(auto auth_text, ReadFile(path));
  std::istringstream in(auth_text);
  std::string line;
  while (std::getline(in, line)) {
    auto fields = SplitCsvLine(line);
    if (fields.size() >= 2 && fields[1] == "admin" && !fields[0].empty()) return fields[0];
  }
  return Internal(path + ": no admin token");
}

}  // namespace lintel::server
