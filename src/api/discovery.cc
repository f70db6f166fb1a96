#include "api/discovery.h"

#include <algorithm>

namespace lintel::api {

namespace {

const Json& AllVerbs() {
  static const Json* const kVerbs = new Json(Json::array(
      {"create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"}));
  return *kVerbs;
}

const Json& SubresourceVerbs() {
  static const Json* const kVerbs = new Json(Json::array({"get", "patch", "update"}));
  return *kVerbs;
}

std::vector<std::string> Versions(const Registry& r, const std::string& group) {
  std::vector<std::string> out;
  for (const auto& k : r.kinds()) {
    if (k.group == group && std::find(out.begin(), out.end(), k.version) == out.end()) {
      out.push_back(k.version);
    }
  }
  return out;
}

std::vector<std::string> Groups(const Registry& r) {
  std::vector<std::string> out;
  for (const auto& k : r.kinds()) {
    if (!k.group.empty() && std::find(out.begin(), out.end(), k.group) == out.end()) {
      out.push_back(k.group);
    }
  }
  return out;
}

}  // namespace

Json ApiGroup(const Registry& registry, const std::string& group) {
  auto versions = Versions(registry, group);
  if (versions.empty()) return nullptr;
  Json vs = Json::array();
  for (const auto& v : versions) vs.push_back({{"groupVersion", group + "/" + v}, {"version", v}});
  return {{"kind", "APIGroup"},
          {"apiVersion", "v1"},
          {"name", group},
          {"versions", vs},
          {"preferredVersion", vs[0]}};
}

Json ApiGroupList(const Registry& registry) {
  Json groups = Json::array();
  for (const auto& g : Groups(registry)) {
    Json grp = ApiGroup(registry, g);
    grp.erase("kind");
    grp.erase("apiVersion");
    groups.push_back(std::move(grp));
  }
  return {{"kind", "APIGroupList"}, {"apiVersion", "v1"}, {"groups", groups}};
}

namespace {

// Subresources served by relaying to a host's agent, or acting on a VM:
// {name, verbs}. Not part of KindInfo: they exist for two kinds only.
std::vector<std::pair<std::string, Json>> ActionSubresources(const KindInfo& k) {
  if (k.group == "lintel.dev" && k.plural == "pods") {
    return {{"log", Json::array({"get"})}, {"exec", Json::array({"create", "get"})}};
  }
  if (k.kind == "VirtualMachine") {
    std::vector<std::pair<std::string, Json>> out = {{"log", Json::array({"get"})},
                                                     {"console", Json::array({"get"})}};
    for (const char* action : {"start", "stop", "restart", "pause", "unpause"}) {
      out.push_back({action, Json::array({"update"})});
    }
    return out;
  }
  return {};
}

}  // namespace

Json ApiResourceList(const Registry& registry, const std::string& group,
                     const std::string& version) {
  Json resources = Json::array();
  for (const auto& k : registry.kinds()) {
    if (k.group != group || k.version != version) continue;
    Json r = {{"name", k.plural},
              {"singularName", k.singular},
              {"namespaced", k.namespaced},
              {"kind", k.kind},
              {"verbs", AllVerbs()}};
    if (!k.short_names.empty()) r["shortNames"] = k.short_names;
    if (!k.categories.empty()) r["categories"] = k.categories;
    resources.push_back(std::move(r));
    if (k.has_status) {
      resources.push_back({{"name", k.plural + "/status"},
                           {"singularName", ""},
                           {"namespaced", k.namespaced},
                           {"kind", k.kind},
                           {"verbs", SubresourceVerbs()}});
    }
    if (k.scale) {
      resources.push_back({{"name", k.plural + "/scale"},
                           {"singularName", ""},
                           {"namespaced", k.namespaced},
                           {"group", "autoscaling"},
                           {"version", "v1"},
                           {"kind", "Scale"},
                           {"verbs", SubresourceVerbs()}});
    }
    for (const auto& [sub, verbs] : ActionSubresources(k)) {
      resources.push_back({{"name", k.plural + "/" + sub},
                           {"singularName", ""},
                           {"namespaced", k.namespaced},
                           {"kind", k.kind},
                           {"verbs", verbs}});
    }
  }
  if (resources.empty()) return nullptr;
  return {{"kind", "APIResourceList"},
          {"apiVersion", "v1"},
          {"groupVersion", group.empty() ? version : group + "/" + version},
          {"resources", resources}};
}

Json AggregatedDiscovery(const Registry& registry, bool core,
                         const std::string& discovery_version) {
  Json items = Json::array();
  std::vector<std::string> groups = core ? std::vector<std::string>{""} : Groups(registry);
  for (const auto& g : groups) {
    Json versions = Json::array();
    for (const auto& v : Versions(registry, g)) {
      Json resources = Json::array();
      for (const auto& k : registry.kinds()) {
        if (k.group != g || k.version != v) continue;
        Json kind_ref = {{"group", k.group}, {"version", k.version}, {"kind", k.kind}};
        Json r = {{"resource", k.plural},
                  {"singularResource", k.singular},
                  {"scope", k.namespaced ? "Namespaced" : "Cluster"},
                  {"responseKind", kind_ref},
                  {"verbs", AllVerbs()}};
        if (!k.short_names.empty()) r["shortNames"] = k.short_names;
        if (!k.categories.empty()) r["categories"] = k.categories;
        Json subs = Json::array();
        if (k.has_status) {
          subs.push_back({{"subresource", "status"},
                          {"responseKind", kind_ref},
                          {"verbs", SubresourceVerbs()}});
        }
        if (k.scale) {
          subs.push_back(
              {{"subresource", "scale"},
               {"responseKind", {{"group", "autoscaling"}, {"version", "v1"}, {"kind", "Scale"}}},
               {"verbs", SubresourceVerbs()}});
        }
        for (const auto& [sub, verbs] : ActionSubresources(k)) {
          subs.push_back({{"subresource", sub}, {"responseKind", kind_ref}, {"verbs", verbs}});
        }
        if (!subs.empty()) r["subresources"] = std::move(subs);
        resources.push_back(std::move(r));
      }
      versions.push_back({{"version", v}, {"resources", resources}, {"freshness", "Current"}});
    }
    if (versions.empty()) continue;
    items.push_back({{"metadata", {{"name", g}}}, {"versions", versions}});
  }
  return {{"kind", "APIGroupDiscoveryList"},
          {"apiVersion", "apidiscovery.k8s.io/" + discovery_version},
          {"metadata", Json::object()},
          {"items", items}};
}

}  // namespace lintel::api
