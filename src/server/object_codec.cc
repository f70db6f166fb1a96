#include "server/object_codec.h"

#include <algorithm>

namespace lintel::server {

std::string KindPrefix(const api::KindInfo& kind) {
  return "/registry/" + (kind.group.empty() ? std::string("core") : kind.group) + "/" +
         kind.plural + "/";
}

std::string NamespacePrefix(const api::KindInfo& kind, std::string_view ns) {
  std::string p = KindPrefix(kind);
  if (kind.namespaced && !ns.empty()) {
    p.append(ns);
    p.push_back('/');
  }
  return p;
}

std::string StorageKey(const api::KindInfo& kind, std::string_view ns, std::string_view name) {
  std::string k = NamespacePrefix(kind, ns);
  k.append(name);
  return k;
}

std::string EncodeForStorage(const Json& obj) {
  auto meta = obj.find("metadata");
  if (meta != obj.end() && meta->contains("resourceVersion")) {
    Json copy = obj;
    copy["metadata"].erase("resourceVersion");
    return copy.dump();
  }
  return obj.dump();
}

std::string WithResourceVersion(std::string_view stored, Revision rv) {
  // Values are always written by EncodeForStorage: nlohmann sorts object keys,
  // so the top-level "metadata" key follows "apiVersion" and "kind" (strings)
  // and precedes everything else. The pattern cannot occur inside a JSON
  // string (its quotes would be escaped), so the first match is that key.
  static constexpr std::string_view kPattern = "\"metadata\":{";
  std::string out;
  std::string rv_field = "\"resourceVersion\":\"" + std::to_string(rv) + "\"";
  size_t pos = stored.find(kPattern);
  if (pos == std::string_view::npos) {
    // No metadata object (never for our own values): add one at the end.
    out.assign(stored);
    if (!out.empty() && out.back() == '}') {
      out.pop_back();
      if (out.size() > 1) out.push_back(',');
      out += "\"metadata\":{" + rv_field + "}}";
    }
    return out;
  }
  size_t insert_at = pos + kPattern.size();
  out.reserve(stored.size() + rv_field.size() + 1);
  out.append(stored.substr(0, insert_at));
  out.append(rv_field);
  if (insert_at < stored.size() && stored[insert_at] != '}') out.push_back(',');
  out.append(stored.substr(insert_at));
  return out;
}

namespace {

void FillIndexFields(const api::KindInfo& kind, const Json& obj, CachedObject* out) {
  const Json& meta = api::At(obj, "/metadata");
  if (meta.is_object()) {
    if (auto it = meta.find("namespace"); it != meta.end() && it->is_string()) out->ns = *it;
    if (auto it = meta.find("name"); it != meta.end() && it->is_string()) out->name = *it;
    if (auto it = meta.find("uid"); it != meta.end() && it->is_string()) out->uid = *it;
    if (auto it = meta.find("labels"); it != meta.end() && it->is_object()) {
      for (auto l = it->begin(); l != it->end(); ++l) {
        if (l->is_string()) out->labels.emplace_back(l.key(), l->get<std::string>());
      }
      // nlohmann iterates objects in key order already; keep the invariant explicit.
      std::sort(out->labels.begin(), out->labels.end());
    }
    if (auto it = meta.find("ownerReferences"); it != meta.end() && it->is_array()) {
      out->has_owner_refs = !it->empty();
    }
    out->deleting = meta.contains("deletionTimestamp");
  }
  out->fields.reserve(kind.field_selectors.size());
  for (const auto& [field, pointer] : kind.field_selectors) {
    const Json& v = api::At(obj, pointer);
    if (v.is_string()) {
      out->fields.push_back(v.get<std::string>());
    } else if (v.is_null()) {
      out->fields.emplace_back();
    } else {
      out->fields.push_back(v.dump());
    }
  }
}

}  // namespace

Result<ObjectPtr> DecodeCached(const api::KindInfo& kind, std::string key, std::string_view stored,
                               Revision rv) {
  auto parsed = ParseJson(stored);
  if (!parsed.ok() || !parsed->is_object()) {
    return Internal("stored object " + key + " is not a JSON object");
  }
  auto obj = std::make_shared<CachedObject>();
  obj->json = WithResourceVersion(stored, rv);
  obj->key = std::move(key);
  obj->rv = rv;
  FillIndexFields(kind, *parsed, obj.get());
  return ObjectPtr(std::move(obj));
}

ObjectPtr Restamp(const CachedObject& obj, std::string_view stored, Revision rv) {
  auto copy = std::make_shared<CachedObject>(obj);
  copy->json = WithResourceVersion(stored, rv);
  copy->rv = rv;
  return copy;
}

std::optional<std::string_view> FieldValue(const api::KindInfo& kind, const CachedObject& obj,
                                           std::string_view field) {
  if (field == "metadata.name") return obj.name;
  if (field == "metadata.namespace") return obj.ns;
  size_t i = 0;
  for (const auto& [f, pointer] : kind.field_selectors) {
    if (f == field) return obj.fields[i];
    ++i;
  }
  return std::nullopt;
}

}  // namespace lintel::server
