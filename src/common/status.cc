#include "common/status.h"

namespace lintel {

std::string_view CodeReason(Code code) {
  switch (code) {
    case Code::kOk: return "";
    case Code::kBadRequest: return "BadRequest";
    case Code::kUnauthorized: return "Unauthorized";
    case Code::kForbidden: return "Forbidden";
    case Code::kNotFound: return "NotFound";
    case Code::kMethodNotAllowed: return "MethodNotAllowed";
    case Code::kNotAcceptable: return "NotAcceptable";
    case Code::kAlreadyExists: return "AlreadyExists";
    case Code::kConflict: return "Conflict";
    case Code::kGone: return "Expired";
    case Code::kRequestEntityTooLarge: return "RequestEntityTooLarge";
    case Code::kUnsupportedMediaType: return "UnsupportedMediaType";
    case Code::kInvalid: return "Invalid";
    case Code::kTooManyRequests: return "TooManyRequests";
    case Code::kInternal: return "InternalError";
    case Code::kNotSupported: return "NotSupported";
    case Code::kUnavailable: return "ServiceUnavailable";
    case Code::kTimeout: return "Timeout";
  }
  return "Unknown";
}

namespace {
const std::string& EmptyString() {
  static const std::string* const kEmpty = new std::string();
  return *kEmpty;
}
const std::vector<Cause>& EmptyCauses() {
  static const std::vector<Cause>* const kEmpty = new std::vector<Cause>();
  return *kEmpty;
}
}  // namespace

Status::Status(Code code, std::string message) {
  if (code == Code::kOk) return;
  rep_ = std::make_unique<Rep>();
  rep_->code = code;
  rep_->message = std::move(message);
}

Status::Status(const Status& other)
    : rep_(other.rep_ ? std::make_unique<Rep>(*other.rep_) : nullptr) {}

Status& Status::operator=(const Status& other) {
  if (this != &other) rep_ = other.rep_ ? std::make_unique<Rep>(*other.rep_) : nullptr;
  return *this;
}

const std::string& Status::message() const { return rep_ ? rep_->message : EmptyString(); }
const std::vector<Cause>& Status::causes() const { return rep_ ? rep_->causes : EmptyCauses(); }

Status& Status::AddCause(Cause cause) {
  if (rep_) rep_->causes.push_back(std::move(cause));
  return *this;
}

Status& Status::SetRetryable(bool retryable) {
  if (rep_) rep_->retryable = retryable;
  return *this;
}

Status Status::Wrap(std::string_view context) const {
  if (ok()) return Status();
  Status s(*this);
  s.rep_->message = std::string(context) + ": " + rep_->message;
  return s;
}

std::string Status::ToString() const {
  if (ok()) return "OK";
  return std::string(CodeReason(code())) + ": " + message();
}

Status BadRequest(std::string m) { return Status(Code::kBadRequest, std::move(m)); }
Status Unauthorized(std::string m) { return Status(Code::kUnauthorized, std::move(m)); }
Status Forbidden(std::string m) { return Status(Code::kForbidden, std::move(m)); }
Status NotFound(std::string m) { return Status(Code::kNotFound, std::move(m)); }
Status AlreadyExists(std::string m) { return Status(Code::kAlreadyExists, std::move(m)); }
Status Conflict(std::string m) { return Status(Code::kConflict, std::move(m)); }
Status Gone(std::string m) { return Status(Code::kGone, std::move(m)); }
Status Invalid(std::string m, std::vector<Cause> causes) {
  Status s(Code::kInvalid, std::move(m));
  for (auto& c : causes) s.AddCause(std::move(c));
  return s;
}
Status Internal(std::string m) { return Status(Code::kInternal, std::move(m)); }
Status NotSupported(std::string m) { return Status(Code::kNotSupported, std::move(m)); }
Status Unavailable(std::string m) {
  Status s(Code::kUnavailable, std::move(m));
  s.SetRetryable();
  return s;
}
Status Timeout(std::string m) {
  Status s(Code::kTimeout, std::move(m));
  s.SetRetryable();
  return s;
}

}  // namespace lintel
