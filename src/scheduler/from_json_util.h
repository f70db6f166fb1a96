// Helpers shared by the from_json*.cc files: safe field access and errors that name the
// field. Internal to the scheduler.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/json.h"
#include "common/status.h"
#include "scheduler/model.h"

namespace lintel::scheduler::json_util {

// The member, or a null Json when `j` is not an object or lacks it.
const Json& Get(const Json& j, std::string_view key);
// Invalid("<what>: <field>: <message>") with one FieldValueInvalid cause.
Status FieldError(std::string_view what, const std::string& field, const std::string& message);
// A string field ("" when absent); Invalid when present and not a string.
Result<std::string> String(const Json& j, std::string_view what, const std::string& field);
// metadata.labels (or any string map) as normalized Labels.
Result<Labels> StringMap(const Json& j, std::string_view what, const std::string& field);
// A non-negative quantity: cpu in millicores when `milli`, else whole units (bytes).
Result<int64_t> Quantity(const Json& j, bool milli, std::string_view what,
                         const std::string& field);

// spec.affinity into w's host and workload terms (from_json_affinity.cc).
Status ParseAffinity(const Json& affinity, std::string_view what, WorkloadInfo* w);

}  // namespace lintel::scheduler::json_util
