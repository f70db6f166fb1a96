#include "cli/discovery.h"

#include <algorithm>

#include "cli/text.h"

namespace lintel::cli {

namespace {

std::vector<std::string> Strings(const Json& obj, const char* key) {
  std::vector<std::string> out;
  if (!obj.is_object() || !obj.contains(key) || !obj[key].is_array()) return out;
  for (const Json& v : obj[key]) {
    if (v.is_string()) out.push_back(v.get<std::string>());
  }
  return out;
}

std::string Str(const Json& obj, const char* key) {
  if (!obj.is_object() || !obj.contains(key) || !obj[key].is_string()) return "";
  return obj[key].get<std::string>();
}

bool Matches(const ApiResource& r, const std::string& lower) {
  if (ToLower(r.name) == lower || ToLower(r.singular_name) == lower ||
      ToLower(r.kind) == lower) {
    return true;
  }
  for (const auto& s : r.short_names) {
    if (ToLower(s) == lower) return true;
  }
  return false;
}

Status NoType(std::string_view type) {
  return NotFound("the server doesn't have a resource type \"" + std::string(type) + "\"");
}

}  // namespace

std::string ApiResource::KindGroup() const {
  std::string k = ToLower(kind);
  return group.empty() ? k : k + "." + group;
}

bool ApiResource::HasVerb(std::string_view verb) const {
  return std::find(verbs.begin(), verbs.end(), verb) != verbs.end();
}

bool ApiResource::HasSubresource(std::string_view sub) const {
  return std::find(subresources.begin(), subresources.end(), sub) != subresources.end();
}

Result<Discovery> Discovery::FromResourceLists(const std::vector<Json>& lists) {
  Discovery d;
  for (const Json& list : lists) {
    std::string gv = Str(list, "groupVersion");
    if (gv.empty()) return BadRequest("discovery: APIResourceList without groupVersion");
    std::string group, version = gv;
    if (auto slash = gv.find('/'); slash != std::string::npos) {
      group = gv.substr(0, slash);
      version = gv.substr(slash + 1);
    }
    bool known_group = std::any_of(d.preferred_.begin(), d.preferred_.end(),
                                   [&](const auto& p) { return p.first == group; });
    if (!known_group) d.preferred_.emplace_back(group, version);
    if (!list.contains("resources") || !list["resources"].is_array()) continue;
    for (const Json& e : list["resources"]) {
      std::string name = Str(e, "name");
      if (name.empty()) continue;
      if (auto slash = name.find('/'); slash != std::string::npos) {
        std::string parent = name.substr(0, slash);
        for (auto& r : d.resources_) {
          if (r.group == group && r.version == version && r.name == parent) {
            r.subresources.push_back(name.substr(slash + 1));
          }
        }
        continue;
      }
      ApiResource r;
      r.group = group;
      r.version = version;
      r.name = name;
      r.singular_name = Str(e, "singularName");
      if (r.singular_name.empty()) r.singular_name = ToLower(Str(e, "kind"));
      r.kind = Str(e, "kind");
      r.namespaced = e.value("namespaced", false);
      r.verbs = Strings(e, "verbs");
      r.short_names = Strings(e, "shortNames");
      r.categories = Strings(e, "categories");
      d.resources_.push_back(std::move(r));
    }
  }
  // Preferred versions first, keeping the server's order otherwise.
  std::stable_partition(d.resources_.begin(), d.resources_.end(),
                        [&](const ApiResource& r) { return d.IsPreferred(r); });
  return d;
}

Result<Discovery> Discovery::Fetch(client::RestClient& client) {
  std::vector<Json> lists;
  auto core = client.RawGet("/api");
  if (core.ok()) {
    for (const auto& v : Strings(*core, "versions")) {
      auto list = client.RawGet("/api/" + v);
      if (!list.ok()) return list.error();
      if (!list->contains("groupVersion")) (*list)["groupVersion"] = v;
      lists.push_back(std::move(*list));
    }
  } else if (core.error().code() != Code::kNotFound) {
    return core.error();
  }
  LINTEL_ASSIGN_OR_RETURN(Json groups, client.RawGet("/apis"));
  if (!groups.contains("groups") || !groups["groups"].is_array()) return FromResourceLists(lists);
  for (const Json& g : groups["groups"]) {
    std::vector<std::string> gvs;
    if (g.contains("preferredVersion")) gvs.push_back(Str(g["preferredVersion"], "groupVersion"));
    if (g.contains("versions") && g["versions"].is_array()) {
      for (const Json& v : g["versions"]) {
        std::string gv = Str(v, "groupVersion");
        if (!gv.empty() && std::find(gvs.begin(), gvs.end(), gv) == gvs.end()) gvs.push_back(gv);
      }
    }
    for (const auto& gv : gvs) {
      if (gv.empty()) continue;
      auto list = client.RawGet("/apis/" + gv);
      if (!list.ok()) {
        // A group version that fails to answer is skipped, as kubectl does
        // (it warns and goes on with the rest).
        if (list.error().code() == Code::kNotFound) continue;
        return list.error();
      }
      lists.push_back(std::move(*list));
    }
  }
  return FromResourceLists(lists);
}

Result<ApiResource> Discovery::Resolve(std::string_view type) const {
  std::string lower = ToLower(type);
  // Unqualified first: a name such as "vm" or "virtualmachines".
  for (const auto& r : resources_) {
    if (Matches(r, lower)) return r;
  }
  // NAME.VERSION.GROUP, then NAME.GROUP.
  size_t dot = lower.find('.');
  if (dot != std::string::npos) {
    std::string name = lower.substr(0, dot);
    std::string rest = lower.substr(dot + 1);
    size_t dot2 = rest.find('.');
    if (dot2 != std::string::npos) {
      std::string version = rest.substr(0, dot2);
      std::string group = rest.substr(dot2 + 1);
      for (const auto& r : resources_) {
        if (r.version == version && ToLower(r.group) == group && Matches(r, name)) return r;
      }
    }
    for (const auto& r : resources_) {
      if (ToLower(r.group) == rest && Matches(r, name)) return r;
    }
  }
  return NoType(type);
}

Result<std::vector<ApiResource>> Discovery::ResolveWithCategories(std::string_view type) const {
  std::string lower = ToLower(type);
  std::vector<ApiResource> out;
  for (const auto& r : Preferred()) {
    if (std::find(r.categories.begin(), r.categories.end(), lower) != r.categories.end()) {
      out.push_back(r);
    }
  }
  if (!out.empty()) return out;
  LINTEL_ASSIGN_OR_RETURN(ApiResource r, Resolve(type));
  out.push_back(std::move(r));
  return out;
}

Result<ApiResource> Discovery::ForKind(std::string_view api_version, std::string_view kind) const {
  std::string group, version(api_version);
  if (auto slash = api_version.find('/'); slash != std::string_view::npos) {
    group = std::string(api_version.substr(0, slash));
    version = std::string(api_version.substr(slash + 1));
  }
  for (const auto& r : resources_) {
    if (r.group == group && r.version == version && r.kind == kind) return r;
  }
  return NotFound("no matches for kind \"" + std::string(kind) + "\" in version \"" +
                  std::string(api_version) + "\"");
}

bool Discovery::IsPreferred(const ApiResource& r) const {
  return std::find(preferred_.begin(), preferred_.end(), std::make_pair(r.group, r.version)) !=
         preferred_.end();
}

std::vector<ApiResource> Discovery::Preferred() const {
  std::vector<ApiResource> out;
  for (const auto& r : resources_) {
    if (IsPreferred(r)) out.push_back(r);
  }
  return out;
}

}  // namespace lintel::cli
