// Kubernetes Status objects for errors, and the one mapping from Status codes
// to HTTP status codes. Pure functions; any thread.
#pragma once

#include <string>

#include "common/json.h"
#include "common/status.h"
#include "server/http/http.h"

namespace lintel::server {

// What an error is about, for Status.details.
struct ErrorDetails {
  std::string name;
  std::string group;
  std::string kind;  // the plural resource for NotFound/AlreadyExists/Conflict, Kind for Invalid
};

int HttpCode(Code code);
Json StatusJson(const Status& status, const ErrorDetails& details = {});
http::Response StatusResponse(const Status& status, const ErrorDetails& details = {});
// The Success status some endpoints answer with.
Json SuccessStatusJson(const ErrorDetails& details = {});

}  // namespace lintel::server
