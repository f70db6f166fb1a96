// Registry: the kinds the API serves, looked up by resource, kind or short
// name. Built once at start-up; immutable and thread-safe afterwards.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "api/kind.h"

namespace lintel::api {

class Registry {
 public:
  explicit Registry(std::vector<KindInfo> kinds);

  // Every Lintel kind (lintel.dev/v1alpha1).
  static const Registry& Default();

  const std::vector<KindInfo>& kinds() const { return kinds_; }
  // By group, version and plural resource name; nullptr if unknown.
  const KindInfo* ByResource(std::string_view group, std::string_view version,
                             std::string_view plural) const;
  // By apiVersion ("lintel.dev/v1alpha1") and kind; nullptr if unknown.
  const KindInfo* ByKind(std::string_view api_version, std::string_view kind) const;
  // By any name a user types: plural, singular, short name or kind, case-insensitive,
  // optionally qualified with ".group" ("vm", "virtualmachines.lintel.dev").
  const KindInfo* ByName(std::string_view name) const;
  // The group/versions served, in preference order ("lintel.dev/v1alpha1").
  std::vector<std::string> GroupVersions() const;

 private:
  std::vector<KindInfo> kinds_;
};

}  // namespace lintel::api
