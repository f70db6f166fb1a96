#include "cli/table_printer.h"

#include <map>

#include "cli/text.h"

namespace lintel::cli {

namespace {

// kubectl prints tabs and newlines inside cells escaped so the table holds.
std::string Escape(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '\t') {
      out += "\\t";
    } else {
      out += c;
    }
  }
  return out;
}

const Json& Metadata(const Json& row) {
  static const Json* const kEmpty = new Json(Json::object());
  if (!row.is_object() || !row.contains("object")) return *kEmpty;
  const Json& obj = row["object"];
  if (!obj.is_object() || !obj.contains("metadata") || !obj["metadata"].is_object()) {
    return *kEmpty;
  }
  return obj["metadata"];
}

}  // namespace

std::string FormatCell(const Json& cell) {
  if (cell.is_string()) {
    std::string s = cell.get<std::string>();
    size_t cut = s.find_first_of("\f\n\r");
    if (cut != std::string::npos) return Escape(s.substr(0, cut)) + "...";
    return Escape(s);
  }
  if (cell.is_null()) return "<none>";
  if (cell.is_boolean()) return cell.get<bool>() ? "true" : "false";
  if (cell.is_number_integer() || cell.is_number_unsigned()) return cell.dump();
  if (cell.is_number_float()) {
    double d = cell.get<double>();
    if (d == static_cast<double>(static_cast<int64_t>(d)) && d < 1e21 && d > -1e21) {
      return std::to_string(static_cast<int64_t>(d));
    }
    return cell.dump();
  }
  if (cell.is_array()) {
    std::vector<std::string> parts;
    for (const Json& v : cell) parts.push_back(FormatCell(v));
    return "[" + Join(parts, " ") + "]";
  }
  return Escape(cell.dump());
}

std::string FormatLabels(const Json& labels) {
  if (!labels.is_object() || labels.empty()) return "<none>";
  std::vector<std::string> parts;
  for (const auto& [k, v] : labels.items()) {
    parts.push_back(k + "=" + (v.is_string() ? v.get<std::string>() : v.dump()));
  }
  return Join(parts, ",");  // nlohmann's object keeps keys sorted
}

void TablePrinter::SetColumns(const Json& definitions) {
  visible_.clear();
  headers_.clear();
  name_column_ = -1;
  if (options_.with_namespace) headers_.push_back("NAMESPACE");
  for (size_t i = 0; i < definitions.size(); ++i) {
    const Json& def = definitions[i];
    int64_t priority = def.value("priority", int64_t{0});
    if (priority != 0 && !options_.wide) continue;
    std::string name = def.value("name", "");
    if (name_column_ < 0 && (def.value("format", "") == "name" || ToLower(name) == "name")) {
      name_column_ = static_cast<int>(i);
    }
    visible_.push_back(i);
    headers_.push_back(ToUpper(name));
  }
  for (const auto& key : options_.label_columns) {
    headers_.push_back(ToUpper(Split(key, '/').back()));
  }
  if (options_.show_labels) headers_.push_back("LABELS");
  have_columns_ = true;
}

std::vector<std::string> TablePrinter::RowCells(const Json& row) const {
  std::vector<std::string> cells;
  const Json& meta = Metadata(row);
  if (options_.with_namespace) cells.push_back(meta.value("namespace", ""));
  const Json empty = Json::array();
  const Json& values = row.contains("cells") && row["cells"].is_array() ? row["cells"] : empty;
  for (size_t i : visible_) {
    std::string cell = i < values.size() ? FormatCell(values[i]) : "";
    if (static_cast<int>(i) == name_column_ && !options_.kind_prefix.empty()) {
      cell = options_.kind_prefix + "/" + cell;
    }
    cells.push_back(std::move(cell));
  }
  const Json& labels = meta.contains("labels") ? meta["labels"] : Json::object();
  for (const auto& key : options_.label_columns) {
    cells.push_back(labels.is_object() && labels.contains(key) && labels[key].is_string()
                        ? labels[key].get<std::string>()
                        : "");
  }
  if (options_.show_labels) cells.push_back(FormatLabels(labels));
  return cells;
}

size_t TablePrinter::Print(const Json& table) {
  if (table.contains("columnDefinitions") && table["columnDefinitions"].is_array() &&
      !table["columnDefinitions"].empty() && !have_columns_) {
    SetColumns(table["columnDefinitions"]);
  }
  if (!have_columns_ || !table.contains("rows") || !table["rows"].is_array()) return 0;
  size_t printed = 0;
  for (const Json& row : table["rows"]) {
    if (!header_printed_ && !options_.no_headers) {
      out_.Write(Join(headers_, "\t") + "\n");
    }
    header_printed_ = true;
    out_.Write(Join(RowCells(row), "\t") + "\n");
    ++printed;
  }
  return printed;
}

}  // namespace lintel::cli
