#include "api/table.h"

#include "api/kinds/kinds.h"

namespace lintel::api {

Json TableColumnDefinitions(const KindInfo& kind) {
  Json cols = Json::array();
  cols.push_back({{"name", "Name"},
                  {"type", "string"},
                  {"format", "name"},
                  {"description", "Name must be unique within a namespace."},
                  {"priority", 0}});
  for (const auto& c : kind.columns) {
    cols.push_back({{"name", c.name},
                    {"type", c.type},
                    {"format", c.format},
                    {"description", c.description},
                    {"priority", c.priority}});
  }
  if (kind.age_column) {
    cols.push_back({{"name", "Age"},
                    {"type", "string"},
                    {"format", ""},
                    {"description", "Time since creation."},
                    {"priority", 0}});
  }
  return cols;
}

Json TableRow(const KindInfo& kind, const Json& obj, IncludeObject include,
              std::chrono::system_clock::time_point now) {
  Json cells = Json::array();
  const Json& name = At(obj, "/metadata/name");
  cells.push_back(name.is_string() ? name : Json(""));
  for (const auto& c : kind.columns) {
    Json v;
    try {
      v = c.cell(obj, now);
    } catch (const std::exception&) {
      v = "<error>";  // odd stored data must not fail a whole list
    }
    cells.push_back(std::move(v));
  }
  if (kind.age_column) cells.push_back(AgeCell(obj, "/metadata/creationTimestamp", now));
  Json row = {{"cells", std::move(cells)}};
  switch (include) {
    case IncludeObject::kNone:
      break;
    case IncludeObject::kMetadata:
      row["object"] = {{"kind", "PartialObjectMetadata"},
                       {"apiVersion", "meta.k8s.io/v1"},
                       {"metadata", obj.contains("metadata") ? obj["metadata"] : Json::object()}};
      break;
    case IncludeObject::kObject:
      row["object"] = obj;
      break;
  }
  return row;
}

Json MakeTable(const KindInfo& kind, Json rows, const std::string& table_api_version,
               const std::string& resource_version, const std::string& continue_token,
               bool with_columns) {
  Json meta = {{"resourceVersion", resource_version}};
  if (!continue_token.empty()) meta["continue"] = continue_token;
  Json t = {{"kind", "Table"},
            {"apiVersion", table_api_version},
            {"metadata", std::move(meta)},
            {"rows", std::move(rows)}};
  t["columnDefinitions"] = with_columns ? TableColumnDefinitions(kind) : Json::array();
  return t;
}

}  // namespace lintel::api
