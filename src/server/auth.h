// Authentication: bearer tokens from a static token file (kube's format:
// "token,user,uid,\"group1,group2\""), and verified client certificates
// (CN = user, O = groups). Thread-safe after construction.
#pragma once

#include <map>
#include <memory>
#include <string>

#include "common/status.h"
#include "server/admission.h"
#include "server/http/http.h"

namespace lintel::server {

class Authenticator {
 public:
  // Loads `path`; NotFound if it does not exist, BadRequest naming the line if malformed.
  static Result<std::unique_ptr<Authenticator>> FromFile(const std::string& path);
  Authenticator() = default;

  void AddToken(const std::string& token, UserInfo user);
  // The user behind a request: Unauthorized if no or an unknown credential.
  Result<UserInfo> Authenticate(const http::Request& request) const;

 private:
  std::map<std::string, UserInfo, std::less<>> tokens_;
};

// Creates DATA_DIR/tokens.csv with a fresh admin token if it does not exist, and
// returns the admin token (read back from the file).
Result<std::string> EnsureAdminToken(const std::string& path);

}  // namespace lintel::server
