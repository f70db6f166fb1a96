#include "server/status_json.h"

namespace lintel::server {

int HttpCode(Code code) {
  switch (code) {
    case Code::kOk: return 200;
    case Code::kBadRequest: return 400;
    case Code::kUnauthorized: return 401;
    case Code::kForbidden: return 403;
    case Code::kNotFound: return 404;
    case Code::kMethodNotAllowed: return 405;
    case Code::kNotAcceptable: return 406;
    case Code::kAlreadyExists: return 409;
    case Code::kConflict: return 409;
    case Code::kGone: return 410;
    case Code::kRequestEntityTooLarge: return 413;
    case Code::kUnsupportedMediaType: return 415;
    case Code::kInvalid: return 422;
    case Code::kTooManyRequests: return 429;
    case Code::kInternal: return 500;
    case Code::kNotSupported: return 501;
    case Code::kUnavailable: return 503;
    case Code::kTimeout: return 504;
  }
  return 500;
}

Json StatusJson(const Status& status, const ErrorDetails& d) {
  Json j = {{"kind", "Status"},
            {"apiVersion", "v1"},
            {"metadata", Json::object()},
            {"status", "Failure"},
            {"message", status.message()},
            {"reason", std::string(CodeReason(status.code()))},
            {"code", HttpCode(status.code())}};
  Json details = Json::object();
  if (!d.name.empty()) details["name"] = d.name;
  if (!d.group.empty()) details["group"] = d.group;
  if (!d.kind.empty()) details["kind"] = d.kind;
  if (!status.causes().empty()) {
    Json causes = Json::array();
    for (const auto& c : status.causes()) {
      Json cj = {{"reason", c.reason}, {"message", c.message}};
      if (!c.field.empty()) cj["field"] = c.field;
      causes.push_back(std::move(cj));
    }
    details["causes"] = std::move(causes);
  }
  if (status.code() == Code::kTooManyRequests || status.code() == Code::kUnavailable) {
    details["retryAfterSeconds"] = 1;
  }
  if (!details.empty()) j["details"] = std::move(details);
  return j;
}

http::Response StatusResponse(const Status& status, const ErrorDetails& details) {
  http::Response r;
  r.status = HttpCode(status.code());
  r.headers.Set("Content-Type", "application/json");
  r.body = StatusJson(status, details).dump();
  return r;
}

Json SuccessStatusJson(const ErrorDetails& d) {
  Json j = {{"kind", "Status"},
            {"apiVersion", "v1"},
            {"metadata", Json::object()},
            {"status", "Success"}};
  Json details = Json::object();
  if (!d.name.empty()) details["name"] = d.name;
  if (!d.group.empty()) details["group"] = d.group;
  if (!d.kind.empty()) details["kind"] = d.kind;
  if (!details.empty()) j["details"] = details;
  return j;
}

}  // namespace lintel::server
