// Printing objects as `-o yaml|json|name` do, and naming objects the way
// kubectl's messages do. Pure functions apart from writing to the stream.
#pragma once

#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "cli/discovery.h"
#include "common/json.h"
#include "common/status.h"

namespace lintel::cli {

enum class OutputFormat { kTable, kWide, kYaml, kJson, kName };

// "" (table), "wide", "yaml", "json", "name". A CliError naming the allowed
// formats otherwise.
Result<OutputFormat> ParseOutputFormat(std::string_view s);

// "virtualmachine.lintel.dev/db-1": `-o name` and the "created" messages.
std::string ObjectRef(const ApiResource& r, std::string_view name);
// virtualmachine.lintel.dev "db-1": the "deleted" messages.
std::string QuotedRef(const ApiResource& r, std::string_view name);

// kubectl hides metadata.managedFields unless --show-managed-fields.
void StripManagedFields(Json* obj);

// `single`: one object asked for by name prints as itself; otherwise the
// objects print as a v1 List. yaml/json only.
void PrintObjects(std::ostream& out, const std::vector<Json>& objects, OutputFormat format,
                  bool single);

// kubectl -o json: keys sorted, four-space indent, trailing newline.
std::string PrettyJson(const Json& j);

}  // namespace lintel::cli
