#include "cli/label_args.h"

#include <algorithm>

#include "apimachinery/names.h"
#include "cli/errors.h"
#include "cli/text.h"

namespace lintel::cli {

Result<LabelArgs> ParseLabelArgs(const std::vector<std::string>& args, MetadataMap which) {
  const char* what = which == MetadataMap::kLabels ? "label" : "annotation";
  LabelArgs out;
  std::vector<std::string> pairs;
  bool found_pair = false;
  for (const auto& s : args) {
    bool pair = (s.find('=') != std::string::npos && s[0] != '=') ||
                (EndsWith(s, "-") && s != "-");
    if (pair) {
      found_pair = true;
      pairs.push_back(s);
    } else if (found_pair) {
      return CliError("all resources must be specified before " + std::string(what) +
                      " changes: " + s);
    } else {
      out.resources.push_back(s);
    }
  }
  for (const auto& spec : pairs) {
    size_t eq = spec.find('=');
    if (eq != std::string::npos) {
      std::string key = spec.substr(0, eq);
      std::string value = spec.substr(eq + 1);
      if (which == MetadataMap::kLabels) {
        if (value.find('=') != std::string::npos) return CliError("invalid label spec: " + spec);
        auto errs = apimachinery::IsValidLabelValue(value);
        if (!errs.empty()) {
          return CliError("invalid label value: \"" + spec + "\": " + Join(errs, ";"));
        }
      } else if (key.empty()) {
        return CliError("invalid annotation format: " + spec);
      }
      out.changes.set[key] = value;
    } else {
      out.changes.remove.push_back(spec.substr(0, spec.size() - 1));
    }
  }
  for (const auto& key : out.changes.remove) {
    if (out.changes.set.count(key)) {
      return CliError(std::string("can not both modify and remove ") +
                      (which == MetadataMap::kLabels ? "a label" : "an annotation") +
                      " in the same command");
    }
  }
  return out;
}

Result<Json> ApplyMetadataChanges(const Json& current, const MetadataChanges& changes,
                                  MetadataMap which, bool overwrite,
                                  std::vector<std::string>* missing) {
  Json now = current.is_object() ? current : Json::object();
  if (!overwrite) {
    std::vector<std::string> clashes;
    for (const auto& [key, value] : changes.set) {
      if (now.contains(key) && now[key].is_string() && now[key].get<std::string>() != value) {
        if (which == MetadataMap::kLabels) {
          return CliError("'" + key + "' already has a value (" + now[key].get<std::string>() +
                          "), and --overwrite is false");
        }
        clashes.push_back("'" + key + "' already has a value (" + now[key].get<std::string>() +
                          ")");
      }
    }
    if (!clashes.empty()) {
      return CliError("--overwrite is false but found the following declared annotation(s): " +
                      Join(clashes, "; "));
    }
  }
  Json out = now;
  for (const auto& [key, value] : changes.set) out[key] = value;
  for (const auto& key : changes.remove) {
    if (!out.contains(key)) {
      if (missing) missing->push_back(key);
      continue;
    }
    out.erase(key);
  }
  if (out.empty() && !current.is_object()) return Json(nullptr);
  return out;
}

}  // namespace lintel::cli
