#include "api/kinds/kinds.h"
#include "common/time_format.h"

namespace lintel::api {

std::string ConditionStatus(const Json& obj, std::string_view type) {
  const Json& conds = At(obj, "/status/conditions");
  if (!conds.is_array()) return "";
  for (const auto& c : conds) {
    if (c.is_object() && c.value("type", "") == type) return c.value("status", "");
  }
  return "";
}

Json AgeCell(const Json& obj, const std::string& pointer,
             std::chrono::system_clock::time_point now) {
  const Json& v = At(obj, pointer);
  if (!v.is_string()) return "<unknown>";
  auto t = ParseRfc3339(v.get<std::string>());
  if (!t) return "<invalid>";
  return HumanDuration(now - *t);
}

}  // namespace lintel::api
