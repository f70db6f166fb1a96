#include "scheduler/from_json_util.h"

#include "apimachinery/quantity.h"

namespace lintel::scheduler::json_util {

const Json& Get(const Json& j, std::string_view key) {
  static const Json null_json;
  if (!j.is_object()) {
    return null_json;
  }
  auto it = j.find(key);
  return it == j.end() ? null_json : *it;
}

Status FieldError(std::string_view what, const std::string& field, const std::string& message) {
  return Invalid(std::string(what) + ": " + field + ": " + message,
                 {Cause{"FieldValueInvalid", field, message}});
}

Result<std::string> String(const Json& j, std::string_view what, const std::string& field) {
  if (j.is_null()) {
    return std::string();
  }
  if (!j.is_string()) {
    return FieldError(what, field, "must be a string");
  }
  return j.get<std::string>();
}

Result<Labels> StringMap(const Json& j, std::string_view what, const std::string& field) {
  Labels out;
  if (j.is_null()) {
    return out;
  }
  if (!j.is_object()) {
    return FieldError(what, field, "must be an object of strings");
  }
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (!it->is_string()) {
      return FieldError(what, field + "." + it.key(), "must be a string");
    }
    out.emplace_back(it.key(), it->get<std::string>());
  }
  NormalizeLabels(&out);
  return out;
}

Result<int64_t> Quantity(const Json& j, bool milli, std::string_view what,
                         const std::string& field) {
  auto q = apimachinery::Quantity::FromJson(j);
  if (!q.ok()) {
    return FieldError(what, field, q.error().message());
  }
  if (q->IsNegative()) {
    return FieldError(what, field, "must not be negative");
  }
  return milli ? q->MilliValue() : q->Value();
}

}  // namespace lintel::scheduler::json_util
