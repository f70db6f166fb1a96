// Table: the server-side rendering `kubectl get` asks for
// (Accept: application/json;as=Table;v=v1;g=meta.k8s.io). Columns come from
// the kind (api/kinds/*); Name first, Age last. Pure functions; any thread.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "api/kind.h"
#include "common/json.h"

namespace lintel::api {

enum class IncludeObject { kNone, kMetadata, kObject };

// Column definitions for a kind.
Json TableColumnDefinitions(const KindInfo& kind);
// One row for `obj` (cells plus the object per `include`).
Json TableRow(const KindInfo& kind, const Json& obj, IncludeObject include,
              std::chrono::system_clock::time_point now);
// A Table with the given rows (built with TableRow). `table_api_version` is
// "meta.k8s.io/v1" or "meta.k8s.io/v1beta1".
Json MakeTable(const KindInfo& kind, Json rows, const std::string& table_api_version,
               const std::string& resource_version, const std::string& continue_token,
               bool with_columns = true);

}  // namespace lintel::api
