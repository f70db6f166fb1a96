#include "api/registry.h"

#include <algorithm>
#include <cctype>

#include "api/kinds/kinds.h"

namespace lintel::api {

namespace {
std::string Lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}
}  // namespace

Registry::Registry(std::vector<KindInfo> kinds) : kinds_(std::move(kinds)) {}

const Registry& Registry::Default() {
  static const Registry* const kRegistry = new Registry({
      NamespaceKind(),
      HostKind(),
      VirtualMachineKind(),
      VirtualMachineMigrationKind(),
      PodKind(),
      DeploymentKind(),
      ServiceKind(),
      ResourceQuotaKind(),
      RoleKind(),
      RoleBindingKind(),
      EventKind(),
      LeaseKind(),
      SecretKind(),
  });
  return *kRegistry;
}

const KindInfo* Registry::ByResource(std::string_view group, std::string_view version,
                                     std::string_view plural) const {
  for (const auto& k : kinds_) {
    if (k.plural == plural && k.group == group && k.version == version) return &k;
  }
  return nullptr;
}

const KindInfo* Registry::ByKind(std::string_view api_version, std::string_view kind) const {
  for (const auto& k : kinds_) {
    if (k.kind == kind && k.api_version() == api_version) return &k;
  }
  return nullptr;
}

const KindInfo* Registry::ByName(std::string_view name) const {
  std::string n = Lower(name);
  std::string group;
  if (auto dot = n.find('.'); dot != std::string::npos) {
    group = n.substr(dot + 1);
    n = n.substr(0, dot);
  }
  for (const auto& k : kinds_) {
    if (!group.empty() && k.group != group) continue;
    if (k.plural == n || k.singular == n || Lower(k.kind) == n ||
        std::find(k.short_names.begin(), k.short_names.end(), n) != k.short_names.end()) {
      return &k;
    }
  }
  return nullptr;
}

std::vector<std::string> Registry::GroupVersions() const {
  std::vector<std::string> out;
  for (const auto& k : kinds_) {
    std::string gv = k.api_version();
    if (std::find(out.begin(), out.end(), gv) == out.end()) out.push_back(gv);
  }
  return out;
}

}  // namespace lintel::api
