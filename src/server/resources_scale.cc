// The autoscaling/v1 Scale subresource.
#include "apimachinery/labels.h"
#include "apimachinery/patch.h"
#include "server/resources.h"

namespace lintel::server {

namespace {

Json ScaleOf(const api::KindInfo& kind, const Json& obj) {
  const auto& s = *kind.scale;
  const Json& meta = obj["metadata"];
  Json scale_meta = {{"name", meta.value("name", "")},
                     {"uid", meta.value("uid", "")},
                     {"resourceVersion", meta.value("resourceVersion", "")},
                     {"creationTimestamp", meta.value("creationTimestamp", "")}};
  if (kind.namespaced) scale_meta["namespace"] = meta.value("namespace", "");
  const Json& spec_r = api::At(obj, s.spec_replicas);
  const Json& status_r = api::At(obj, s.status_replicas);
  std::string selector;
  auto sel = apimachinery::LabelSelector::FromJson(api::At(obj, s.label_selector));
  if (sel.ok()) selector = sel->ToString();
  return {{"kind", "Scale"},
          {"apiVersion", "autoscaling/v1"},
          {"metadata", scale_meta},
          {"spec", {{"replicas", spec_r.is_number() ? spec_r : Json(0)}}},
          {"status",
           {{"replicas", status_r.is_number() ? status_r : Json(0)}, {"selector", selector}}}};
}

}  // namespace

Result<Json> Resources::GetScale(const api::KindInfo& kind, const std::string& ns,
                                 const std::string& name) {
  if (!kind.scale) return NotFound("the server could not find the requested resource");
  LINTEL_ASSIGN_OR_RETURN(std::string json, Get(kind, ns, name));
  auto obj = ParseJson(json);
  if (!obj.ok()) return obj.error();
  return ScaleOf(kind, *obj);
}

Result<Json> Resources::UpdateScale(const api::KindInfo& kind, const std::string& ns,
                                    const std::string& name, const Json& scale,
                                    const WriteOptions& opts) {
  if (!kind.scale) return NotFound("the server could not find the requested resource");
  if (!scale.is_object()) return BadRequest("the body must be a Scale object");
  const Json& replicas = api::At(scale, "/spec/replicas");
  if (!replicas.is_number_integer() || replicas.get<int64_t>() < 0) {
    return Invalid("Scale.autoscaling \"" + name + "\" is invalid: spec.replicas: Invalid value: " +
                       replicas.dump() + ": must be greater than or equal to 0",
                   {{"FieldValueInvalid", "spec.replicas",
                     "Invalid value: " + replicas.dump() + ": must be greater than or equal to 0"}});
  }
  const Json& want_rv = api::At(scale, "/metadata/resourceVersion");
  const std::string key = StorageKey(kind, ns, name);
  for (int attempt = 0;; ++attempt) {
    LINTEL_ASSIGN_OR_RETURN(Current cur, ReadCurrent(kind, key, name));
    if (want_rv.is_string() && !want_rv.get<std::string>().empty() &&
        want_rv != std::to_string(cur.rv)) {
      return ConflictError(kind, name);
    }
    Json desired = cur.obj;
    desired[Json::json_pointer(kind.scale->spec_replicas)] = replicas;
    auto res = CommitUpdate(kind, key, cur, std::move(desired), opts, Subresource::kNone,
                            opts.field_manager, false);
    if (!res.ok()) {
      if (res.error().code() == Code::kConflict && !want_rv.is_string() && attempt < 8) continue;
      return res.error();
    }
    auto obj = ParseJson(res->json);
    if (!obj.ok()) return obj.error();
    return ScaleOf(kind, *obj);
  }
}

Result<Json> Resources::PatchScale(const api::KindInfo& kind, const std::string& ns,
                                   const std::string& name, PatchType type,
                                   const std::string& patch, const WriteOptions& opts) {
  LINTEL_ASSIGN_OR_RETURN(Json scale, GetScale(kind, ns, name));
  auto p = ParseJson(patch);
  if (!p.ok()) return p.error();
  Result<Json> patched = type == PatchType::kJson ? apimachinery::ApplyJsonPatch(scale, *p)
                                                  : apimachinery::ApplyMergePatch(scale, *p);
  if (!patched.ok()) return patched.error();
  // A patch without a resourceVersion applies to whatever is current.
  if (!api::At(*p, "/metadata/resourceVersion").is_string()) {
    (*patched)["metadata"].erase("resourceVersion");
  }
  return UpdateScale(kind, ns, name, *patched, opts);
}

}  // namespace lintel::server
