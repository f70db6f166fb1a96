#include "server/ssa.h"

namespace lintel::server {

namespace {

std::string SubName(Subresource sub) {
  switch (sub) {
    case Subresource::kStatus: return "status";
    case Subresource::kScale: return "scale";
    case Subresource::kNone: break;
  }
  return "";
}

// Paths a write to `sub` never owns: status on the main resource; everything
// but status on the status subresource.
std::vector<std::string> IgnoredPaths(const api::KindInfo& kind, Subresource sub) {
  std::vector<std::string> out;
  if (sub == Subresource::kStatus) {
    for (const auto& p : kind.schema.properties()) {
      if (p.name != "status" && p.name != "apiVersion" && p.name != "kind") {
        out.push_back("." + p.name);
      }
    }
  } else if (kind.has_status) {
    out.push_back(".status");
  }
  return out;
}

}  // namespace

apimachinery::Schema SsaSchemaFor(const api::KindInfo& kind) {
  const api::Schema* root = &kind.schema;
  return apimachinery::Schema([root](std::string_view list_path) {
    apimachinery::ListInfo info;
    const api::Schema* s = root->AtPath(list_path);
    if (!s || s->type() != api::Type::kArray) return info;
    switch (s->list_type()) {
      case api::ListType::kAtomic: info.type = apimachinery::ListType::kAtomic; break;
      case api::ListType::kSet: info.type = apimachinery::ListType::kSet; break;
      case api::ListType::kMap:
        info.type = apimachinery::ListType::kMap;
        info.keys = s->list_keys();
        break;
    }
    return info;
  });
}

void SetManagedFieldsForUpdate(const api::KindInfo& kind, const Json* old, Json* next,
                               const std::string& manager, Subresource sub,
                               const std::string& now) {
  static const Json kNull;
  const Json& live = old ? *old : kNull;
  auto managed = apimachinery::ManagedFieldsForWrite(live, *next, sub != Subresource::kNone);
  auto entries = apimachinery::UpdateManagedFields(
      live, *next, manager.empty() ? "unknown" : manager, managed, SsaSchemaFor(kind),
      kind.api_version(), now, SubName(sub), IgnoredPaths(kind, sub));
  apimachinery::SetManagedFields(*next, entries);
}

Status CheckApplyConfig(const api::KindInfo& kind, const std::string& ns, const std::string& name,
                        const Json& applied) {
  if (!applied.is_object()) return BadRequest("the apply configuration must be an object");
  if (applied.value("apiVersion", "") != kind.api_version()) {
    return BadRequest("the API version in the data (" + applied.value("apiVersion", "") +
                      ") does not match the expected API version (" + kind.api_version() + ")");
  }
  if (applied.value("kind", "") != kind.kind) {
    return BadRequest("the kind in the data (" + applied.value("kind", "") +
                      ") does not match the expected kind (" + kind.kind + ")");
  }
  const Json& n = api::At(applied, "/metadata/name");
  if (!n.is_string() || n.get<std::string>() != name) {
    return BadRequest("the name of the object (" + (n.is_string() ? n.get<std::string>() : "") +
                      ") does not match the name on the URL (" + name + ")");
  }
  const Json& n_ns = api::At(applied, "/metadata/namespace");
  if (kind.namespaced && n_ns.is_string() && !n_ns.get<std::string>().empty() && n_ns != ns) {
    return BadRequest(
        "the namespace of the provided object does not match the namespace sent on the request");
  }
  return Status();
}

Result<Json> ServerSideApply(const api::KindInfo& kind, const Json& live, const Json& applied,
                             const std::string& manager, bool force, Subresource sub,
                             const std::string& now) {
  std::vector<apimachinery::ManagedFieldsEntry> managed;
  if (!live.is_null()) {
    auto parsed = apimachinery::ParseManagedFields(api::At(live, "/metadata/managedFields"));
    if (parsed.ok()) managed = std::move(*parsed);
  }
  auto res = apimachinery::Apply(live, applied, manager, force, managed, SsaSchemaFor(kind),
                                 kind.api_version(), now, SubName(sub), IgnoredPaths(kind, sub));
  if (!res.ok()) return res.error();
  return std::move(res->object);
}

}  // namespace lintel::server
