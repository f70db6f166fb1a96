// The pieces of registry authentication that are pure text: parsing a
// WWW-Authenticate challenge, the token request's URL, Basic credentials, and
// the distribution spec's error bodies.
//
// Pure functions; any thread.
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "common/status.h"

namespace lintel::images {

struct AuthChallenge {
  std::string scheme;                         // lower-case: "bearer", "basic"
  std::map<std::string, std::string> params;  // keys lower-case: realm, service, scope
};

// `Bearer realm="https://auth.example/token",service="registry",scope="repository:a/b:pull"`.
// Invalid when there is no scheme.
Result<AuthChallenge> ParseAuthChallenge(std::string_view header);

// realm?service=...&scope=... (the realm may carry a query already). Without
// a scope in the challenge, pull access to `repository` is asked for.
std::string TokenUrl(const AuthChallenge& challenge, const std::string& repository);

// "Basic base64(user:password)".
std::string BasicAuthorization(const std::string& username, const std::string& password);

// The token of a token server's JSON answer ("token" or "access_token").
Result<std::string> ParseTokenResponse(std::string_view body);

// "MANIFEST_UNKNOWN: manifest unknown" from {"errors":[{"code":..,"message":..}]},
// or the body's start when it is not such a document.
std::string RegistryErrorMessage(std::string_view body);

// Whether a registry host is on loopback ("localhost", "127.0.0.1:5000",
// "[::1]:5000"): such registries are used without TLS verification and fall
// back to plain HTTP, as docker does.
bool IsLoopbackRegistry(std::string_view registry);

}  // namespace lintel::images
