// Status and Result<T>: how errors travel in Lintel.
//
// No exception crosses a module's interface. A function that can fail returns a
// Status (or a Result<T> carrying either a value or a Status). The codes mirror
// Kubernetes' Status reasons so the API server can map them to HTTP in one place
// (server/http_status.cc); field-level problems ride along as causes.
//
// Status is a value type: cheap when OK (a null pointer), deep-copied otherwise.
// Thread-safety: like any value; distinct objects may be used from any thread.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace lintel {

enum class Code : uint8_t {
  kOk = 0,
  kBadRequest,            // 400: malformed input that is not a field-level problem
  kUnauthorized,          // 401
  kForbidden,             // 403
  kNotFound,              // 404
  kMethodNotAllowed,      // 405
  kNotAcceptable,         // 406
  kAlreadyExists,         // 409
  kConflict,              // 409: optimistic concurrency failure or apply conflict
  kGone,                  // 410: resource version or continue token compacted away ("Expired")
  kRequestEntityTooLarge, // 413
  kUnsupportedMediaType,  // 415
  kInvalid,               // 422: field causes say which fields and why
  kTooManyRequests,       // 429
  kInternal,              // 500
  kNotSupported,          // 501 at the API; a driver lacking an operation
  kUnavailable,           // 503: retryable; a dependency is down or not ready
  kTimeout,               // 504
};

// Returns the Kubernetes reason string for a code ("NotFound", "Invalid", ...).
std::string_view CodeReason(Code code);

// One field-level problem, as in Kubernetes' StatusCause.
struct Cause {
  std::string reason;   // FieldValueInvalid, FieldValueRequired, FieldValueTypeInvalid, ...
  std::string field;    // "spec.containers[0].image"
  std::string message;  // for people
  bool operator==(const Cause&) const = default;
};

class [[nodiscard]] Status {
 public:
  Status() = default;  // OK
  Status(Code code, std::string message);
  Status(const Status& other);
  Status& operator=(const Status& other);
  Status(Status&&) noexcept = default;
  Status& operator=(Status&&) noexcept = default;
  ~Status() = default;

  static Status Ok() { return Status(); }

  bool ok() const { return rep_ == nullptr; }
  Code code() const { return rep_ ? rep_->code : Code::kOk; }
  const std::string& message() const;
  const std::vector<Cause>& causes() const;
  // Retryable errors are requeued with back-off by controllers; the rest become
  // conditions and Events.
  bool retryable() const { return rep_ && rep_->retryable; }

  // Adds a cause (no-op on OK).
  Status& AddCause(Cause cause);
  Status& SetRetryable(bool retryable = true);
  // Prefixes the message with context: "start vm default/a: " + message.
  Status Wrap(std::string_view context) const;

  // "NotFound: message"
  std::string ToString() const;

 private:
  struct Rep {
    Code code;
    bool retryable = false;
    std::string message;
    std::vector<Cause> causes;
  };
  std::unique_ptr<Rep> rep_;
};

// Constructors named after the codes.
Status BadRequest(std::string message);
Status Unauthorized(std::string message);
Status Forbidden(std::string message);
Status NotFound(std::string message);
Status AlreadyExists(std::string message);
Status Conflict(std::string message);
Status Gone(std::string message);
Status Invalid(std::string message, std::vector<Cause> causes = {});
Status Internal(std::string message);
Status NotSupported(std::string message);
Status Unavailable(std::string message);  // marked retryable
Status Timeout(std::string message);      // marked retryable

// Result<T>: a T or a non-OK Status. Shaped like C++23 std::expected so that a
// later switch is mechanical: has_value(), value(), error(), operator*, operator->.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}            // NOLINT(google-explicit-constructor)
  Result(Status status) : v_(std::move(status)) {}     // NOLINT(google-explicit-constructor)

  bool has_value() const { return v_.index() == 0; }
  bool ok() const { return has_value(); }
  explicit operator bool() const { return has_value(); }

  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  // The error; OK when a value is held.
  Status status() const { return has_value() ? Status() : std::get<1>(v_); }
  const Status& error() const { return std::get<1>(v_); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace lintel

#define LINTEL_CONCAT_INNER_(a, b) a##b
#define LINTEL_CONCAT_(a, b) LINTEL_CONCAT_INNER_(a, b)

// Returns the Status of `expr` from the enclosing function if it is not OK.
#define LINTEL_RETURN_IF_ERROR(expr)                   \
  do {                                                 \
    ::lintel::Status lintel_status_ = (expr);          \
    if (!lintel_status_.ok()) return lintel_status_;   \
  } while (0)

// `lhs = *expr`, or returns its error from the enclosing function.
#define LINTEL_ASSIGN_OR_RETURN(lhs, expr) \
  LINTEL_ASSIGN_OR_RETURN_IMPL_(LINTEL_CONCAT_(lintel_result_, __LINE__), lhs, expr)
#define LINTEL_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                                  \
  if (!tmp.has_value()) return tmp.error();           \
  lhs = std::move(*tmp)
