#include "cli/last_applied.h"

#include "cli/text.h"

namespace lintel::cli {

ModifiedConfiguration GetModifiedConfiguration(const Json& manifest) {
  Json obj = manifest;
  if (!obj.contains("metadata") || !obj["metadata"].is_object()) obj["metadata"] = Json::object();
  Json& meta = obj["metadata"];
  if (!meta.contains("annotations") || !meta["annotations"].is_object()) {
    meta["annotations"] = Json::object();
  }
  meta["annotations"].erase(kLastAppliedAnnotation);
  ModifiedConfiguration out;
  out.last_applied = GoJson(obj) + "\n";
  meta["annotations"][kLastAppliedAnnotation] = out.last_applied;
  out.modified = std::move(obj);
  return out;
}

Json LastAppliedOf(const Json& live) {
  std::string text = StringAt(live, "/metadata/annotations/kubectl.kubernetes.io~1last-applied-configuration");
  if (text.empty()) return nullptr;
  auto parsed = ParseJson(text);
  if (!parsed.ok()) return nullptr;
  return std::move(*parsed);
}

}  // namespace lintel::cli
