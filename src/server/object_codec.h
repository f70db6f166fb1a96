// How objects are laid out in the store, and the compact form the watch cache
// keeps of each.
//
// Keys:   /registry/<group>/<plural>/<namespace>/<name>   (namespaced)
//         /registry/<group>/<plural>/<name>               (cluster-scoped)
// Values: the object's JSON as the server serialized it, WITHOUT
//         metadata.resourceVersion: the resource version is the key's
//         mod_revision, spliced in when the object is read (as kube-apiserver
//         does with etcd). Splicing is a string insert, so reads never parse.
//
// Pure functions; any thread.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "api/kind.h"
#include "common/json.h"
#include "common/status.h"
#include "store/store.h"

namespace lintel::server {

using store::Revision;

std::string KindPrefix(const api::KindInfo& kind);  // "/registry/lintel.dev/pods/"
// Prefix of one namespace's objects, or the kind prefix when ns is empty.
std::string NamespacePrefix(const api::KindInfo& kind, std::string_view ns);
std::string StorageKey(const api::KindInfo& kind, std::string_view ns, std::string_view name);

// Serializes `obj` for the store (metadata.resourceVersion removed).
std::string EncodeForStorage(const Json& obj);
// Returns the stored JSON with metadata.resourceVersion = rv inserted.
std::string WithResourceVersion(std::string_view stored, Revision rv);

// The watch cache's form of one object: its JSON (with resourceVersion) and
// what selectors and filters need, extracted once.
struct CachedObject {
  std::string json;
  std::string key;  // storage key
  std::string ns;
  std::string name;
  std::string uid;
  Revision rv = 0;
  std::vector<std::pair<std::string, std::string>> labels;  // sorted by key
  // Values of the kind's field_selectors, in the kind's map order ("" if absent).
  std::vector<std::string> fields;
  bool has_owner_refs = false;
  bool deleting = false;  // metadata.deletionTimestamp is set
};
using ObjectPtr = std::shared_ptr<const CachedObject>;

// Decodes a stored value into a CachedObject at revision rv. Internal if the
// stored JSON is not an object (corruption).
Result<ObjectPtr> DecodeCached(const api::KindInfo& kind, std::string key, std::string_view stored,
                               Revision rv);
// A copy of `obj` re-stamped at another revision (the last state of a deleted object).
ObjectPtr Restamp(const CachedObject& obj, std::string_view stored, Revision rv);

// The value a field selector field has on a cached object
// ("metadata.name", "metadata.namespace" or one of the kind's field_selectors);
// nullopt if the kind does not support the field.
std::optional<std::string_view> FieldValue(const api::KindInfo& kind, const CachedObject& obj,
                                           std::string_view field);

}  // namespace lintel::server
