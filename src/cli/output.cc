#include "cli/output.h"

#include "cli/errors.h"
#include "cli/text.h"
#include "cli/yaml_printer.h"

namespace lintel::cli {

Result<OutputFormat> ParseOutputFormat(std::string_view s) {
  if (s.empty()) return OutputFormat::kTable;
  if (s == "wide") return OutputFormat::kWide;
  if (s == "yaml") return OutputFormat::kYaml;
  if (s == "json") return OutputFormat::kJson;
  if (s == "name") return OutputFormat::kName;
  return CliError("unable to match a printer suitable for the output format \"" + std::string(s) +
                  "\", allowed formats are: json,name,wide,yaml");
}

std::string ObjectRef(const ApiResource& r, std::string_view name) {
  return r.KindGroup() + "/" + std::string(name);
}

std::string QuotedRef(const ApiResource& r, std::string_view name) {
  return r.KindGroup() + " \"" + std::string(name) + "\"";
}

void StripManagedFields(Json* obj) {
  if (obj->is_object() && obj->contains("metadata") && (*obj)["metadata"].is_object()) {
    (*obj)["metadata"].erase("managedFields");
  }
}

std::string PrettyJson(const Json& j) {
  return GoJson(j, 4) + "\n";
}

void PrintObjects(std::ostream& out, const std::vector<Json>& objects, OutputFormat format,
                  bool single) {
  Json doc;
  if (single && objects.size() == 1) {
    doc = objects[0];
  } else {
    doc = {{"apiVersion", "v1"},
           {"kind", "List"},
           {"items", Json::array()},
           {"metadata", {{"resourceVersion", ""}}}};
    for (const auto& o : objects) doc["items"].push_back(o);
  }
  if (format == OutputFormat::kJson) {
    out << PrettyJson(doc);
  } else {
    out << KubectlYaml(doc);
  }
}

}  // namespace lintel::cli
