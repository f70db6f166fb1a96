#include "server/status_json.h"

#include "common/http_status.h"

namespace lintel::server {

int HttpCode(Code code) { return CodeHttpStatus(code); }

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
