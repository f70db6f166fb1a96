// Server-side apply field management: who owns which fields of an object.
//
// This is Lintel's port of sigs.k8s.io/structured-merge-diff as kube-apiserver uses it, for
// objects held as JSON. A FieldSet is a trie of field paths; each manager's set is stored in
// metadata.managedFields in the FieldsV1 encoding. The API layer calls exactly two operations:
//
//   Apply               PATCH with application/apply-patch+yaml: merge the config into the live
//                       object, record the applier's fields, detect conflicts, prune what the
//                       applier dropped.
//   UpdateManagedFields every other write (create, update, patch): the writer takes the fields it
//                       changed away from everyone else.
//
// How lists merge comes from the API layer through a Schema (the x-kubernetes-list-type,
// -list-map-keys and -map-type of the kind's OpenAPI schema); maps of fields are granular unless
// marked atomic. Everything here is a pure function of its arguments: any thread. The oracles are
// called on the calling thread, during the call, and not kept.
#pragma once

#include <compare>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "common/json.h"
#include "common/status.h"

namespace lintel::apimachinery {

// ---------------------------------------------------------------------------------------------
// Schema

enum class ListType { kAtomic, kSet, kMap };

struct ListInfo {
  ListType type = ListType::kAtomic;
  std::vector<std::string> keys;  // for kMap: the x-kubernetes-list-map-keys
};

// Given the path of a list field with indices and keys removed (".spec.containers",
// ".spec.containers.ports"), says how the list merges. Lists it does not know are atomic.
using SchemaOracle = std::function<ListInfo(std::string_view list_path)>;

// Given the path of a map field (".spec.nodeSelector"), says whether it is atomic
// (x-kubernetes-map-type: atomic): owned, merged and replaced as a whole.
using AtomicMapOracle = std::function<bool(std::string_view map_path)>;

struct Schema;

// A callable that makes a SchemaOracle (and is not a Schema itself).
template <typename F>
concept ListOracle =
    !std::is_same_v<std::remove_cvref_t<F>, Schema> && std::is_constructible_v<SchemaOracle, F&&>;

// Both questions together. Converts implicitly from a SchemaOracle (or any callable that makes
// one), so callers without atomic maps pass their list oracle as is.
struct Schema {
  Schema() = default;  // no schema: every list atomic, every map granular
  // Implicit on purpose. The concept keeps copies and moves away from this constructor, which
  // clang-tidy 14 cannot see.
  // NOLINTBEGIN(google-explicit-constructor,bugprone-forwarding-reference-overload)
  template <ListOracle F>
  Schema(F&& lists_oracle) : lists(std::forward<F>(lists_oracle)) {}
  // NOLINTEND(google-explicit-constructor,bugprone-forwarding-reference-overload)
  Schema(SchemaOracle lists_oracle, AtomicMapOracle atomic_maps_oracle)
      : lists(std::move(lists_oracle)), atomic_maps(std::move(atomic_maps_oracle)) {}

  SchemaOracle lists;           // null means every list is atomic
  AtomicMapOracle atomic_maps;  // null means no map is atomic
};

// ---------------------------------------------------------------------------------------------
// Paths and sets of paths

// One step of a field path, as structured-merge-diff has them:
//   field  f:<name>              a key of a JSON object
//   key    k:{"name":"web"}      the entry of a map-list with these key fields
//   value  v:"a"                 the entry of a set-list with this value
//   index  i:3                   a position (never produced here: atomic lists are leaves)
// Keys and values carry canonical JSON (sorted keys, Go's escaping), as kube serialises them.
class PathElement {
 public:
  enum class Kind : uint8_t { kField, kKey, kValue, kIndex };

  static PathElement Field(std::string name);
  // `key_fields` is the JSON object of the entry's key fields and their values.
  static PathElement Key(const Json& key_fields);
  static PathElement Value(const Json& value);
  static PathElement Index(int64_t index);
  // Parses one FieldsV1 key ("f:spec", "k:{...}", ...). BadRequest when malformed; NotSupported
  // for a prefix this version does not know (FromFieldsV1 skips those, as kube does).
  static Result<PathElement> FromFieldsV1Key(std::string_view key);

  Kind kind() const { return kind_; }
  // Field name; or the canonical JSON of the key object or value; or the decimal index.
  const std::string& text() const { return text_; }
  // The key object (kKey) or value (kValue) as JSON; null otherwise.
  const Json& json() const { return json_; }

  std::string FieldsV1Key() const;  // "f:spec", "k:{\"name\":\"web\"}", "v:\"a\"", "i:3"
  std::string ToString() const;     // ".spec", "[name=\"web\"]", "[=\"a\"]", "[3]"

  // Fields sort before keys, keys before values, values before indices (kube's order); within a
  // kind by text (indices numerically).
  std::strong_ordering operator<=>(const PathElement& other) const;
  bool operator==(const PathElement& other) const;

 private:
  PathElement(Kind kind, std::string text, Json json, int64_t index)
      : kind_(kind), text_(std::move(text)), json_(std::move(json)), index_(index) {}

  Kind kind_ = Kind::kField;
  std::string text_;
  Json json_;
  int64_t index_ = 0;
};

using Path = std::vector<PathElement>;

// ".spec.containers[name=\"web\"].image", the form conflict messages use.
std::string PathToString(const Path& path);
// Parses a path of fields only: ".status", ".metadata.resourceVersion".
Path FieldPath(std::string_view dotted);

// A set of field paths, stored as a trie. A path is a member when it was inserted; its
// prefixes are not members unless inserted too (a map-list entry is both a member, "." in
// FieldsV1, and the parent of its fields). Value type; cheap to move.
class FieldSet {
 public:
  FieldSet() = default;

  // The fields an object sets, as kube's ToFieldSet computes them: every leaf (scalar, null,
  // empty map, atomic list or map), every set-list value, and every map-list entry together with
  // its fields. Empty set- and map-lists add nothing. BadRequest when a map-list entry is not an
  // object, lacks a key field, or when a set- or map-list holds duplicates; the message names
  // the list (".spec.containers: element 1: ...").
  static Result<FieldSet> FromObject(const Json& object, const Schema& schema);

  void Insert(const Path& path);
  // Whether `path` itself is a member.
  bool Contains(const Path& path) const;
  // Whether `path` or any path below it is a member.
  bool ContainsPrefix(const Path& path) const;
  bool Empty() const { return entries_.empty(); }
  size_t Size() const;  // number of members

  FieldSet Union(const FieldSet& other) const;
  FieldSet Intersection(const FieldSet& other) const;
  FieldSet Difference(const FieldSet& other) const;
  // Like Difference, but a member of `other` also removes every path below it.
  FieldSet RecursiveDifference(const FieldSet& other) const;

  // The members in kube's iteration order: at each level the members first, then the children.
  std::vector<Path> Paths() const;
  // One PathToString per line, in Paths() order; for logs and test failures.
  std::string ToString() const;

  bool operator==(const FieldSet& other) const;

  // One edge of the trie (defined below the class: std::vector accepts the incomplete type).
  struct Entry;

 private:
  friend struct FieldSetAccess;  // the walkers in managed_fields.cc

  const Entry* Find(const PathElement& pe) const;
  Entry& FindOrAdd(const PathElement& pe);
  void CollectPaths(Path& prefix, std::vector<Path>& out) const;

  std::vector<Entry> entries_;  // sorted by element; none is empty (no member, no children)
};

struct FieldSet::Entry {
  PathElement element;
  bool member = false;
  FieldSet children;
};

// The FieldsV1 encoding kube stores in managedFields[].fieldsV1:
// {"f:spec":{"f:containers":{"k:{\"name\":\"web\"}":{".":{},"f:image":{}}}}}.
// Object keys come out in nlohmann's lexical order; kube orders i: after k: and v:, which no
// reader depends on.
Json ToFieldsV1(const FieldSet& set);
// BadRequest when `fields` is not an object of objects or a key is malformed; keys with a
// prefix this version does not know are skipped, as kube does.
Result<FieldSet> FromFieldsV1(const Json& fields);

// ---------------------------------------------------------------------------------------------
// metadata.managedFields

inline constexpr std::string_view kOperationApply = "Apply";
inline constexpr std::string_view kOperationUpdate = "Update";
// Update entries beyond this many are merged, oldest first, into kAncientChangesManager.
inline constexpr size_t kMaxUpdateManagers = 10;
inline constexpr std::string_view kAncientChangesManager = "ancient-changes";

struct ManagedFieldsEntry {
  std::string manager;
  std::string operation;  // kOperationApply or kOperationUpdate
  std::string api_version;
  std::string time;  // RFC 3339; empty if unknown
  std::string subresource;
  FieldSet fields;

  bool operator==(const ManagedFieldsEntry&) const = default;
};

// Parses a metadata.managedFields value (null means none). Invalid, with one cause per problem
// on "metadata.managedFields[i].<field>", when the value is not an array of objects, when an
// operation is not Apply or Update, apiVersion is missing, fieldsType is not FieldsV1, time is
// not RFC 3339, fieldsV1 is malformed, or manager or subresource are too long or unprintable.
Result<std::vector<ManagedFieldsEntry>> ParseManagedFields(const Json& managed_fields);
// The JSON array kube writes: manager, operation, apiVersion, time, fieldsType "FieldsV1",
// fieldsV1, subresource; empty strings are omitted.
Json ManagedFieldsToJson(const std::vector<ManagedFieldsEntry>& entries);
// Writes `entries` into object.metadata.managedFields, or removes the field when empty.
void SetManagedFields(Json& object, const std::vector<ManagedFieldsEntry>& entries);

// The entries a non-apply write starts from, as kube's decodeLiveOrNew chooses them: a request
// whose managedFields is [] or [{}] resets them (returns none); a request carrying valid
// non-empty managedFields replaces them; otherwise the live object's count (unparseable ones
// count as none). With `ignore_request` (writes to a subresource) the live object's always win.
// As in kube, a request's malformed managedFields are not an error: the live ones are kept.
std::vector<ManagedFieldsEntry> ManagedFieldsForWrite(const Json& live, const Json& request,
                                                      bool ignore_request = false);

// ---------------------------------------------------------------------------------------------
// The two operations

// NOLINTNEXTLINE(bugprone-exception-escape): nlohmann's noexcept moves look throwing to tidy
struct ApplyResult {
  // The merged object, with metadata.managedFields set to `managed`.
  Json object;
  // Sorted as kube sorts them: operation (Apply first), time, manager, apiVersion, subresource.
  std::vector<ManagedFieldsEntry> managed;
  // Whether `object` differs from the live object other than in managedFields. An apply may
  // change ownership only (a second manager sharing a value); when neither changed (`managed`
  // equals the input entries) the apply was a no-op and the caller can skip the write.
  bool object_changed = false;
};

// Server-side apply of `applied` (the configuration, already decoded from YAML) by `manager`.
//
// `live` is the stored object (null when the apply creates it); `managed` its entries. The
// config's fields become the manager's Apply entry. A field whose value the apply changes and
// that another manager (applier or updater) owns is a conflict: Conflict with kube's message
// ("Apply failed with 1 conflict: conflict with \"kubectl-patch\" using lintel.dev/v1alpha1:
// .spec.cpu") and one FieldManagerConflict cause per field, unless `force`, which moves the
// ownership to this manager. Fields set to the value they have are shared, not conflicts. The
// manager's own Update entry, if any, is another manager here, as in kube.
// Fields this manager applied last time and left out now are removed from the object unless
// another manager still owns them; maps and lists emptied that way are removed too (kube's typed
// objects drop them as empty omitempty fields).
//
// Merging: maps merge per field, map-lists per key (live order, new entries appended in config
// order), set-lists by value; atomic lists and maps, scalars and type changes take the config's
// value; a null in the config against a live map or list keeps the live entries (kube's rule).
//
// Never managed: apiVersion, kind and metadata's system fields (name, namespace, uid,
// resourceVersion, generation, creationTimestamp, deletionTimestamp,
// deletionGracePeriodSeconds, selfLink, managedFields); their config values are merged and the
// caller resets or validates them. `ignored_paths` (".status" when applying to the main
// resource, ".spec" etc. for a subresource) are never owned and the config's values there are
// dropped. `subresource` is part of the manager's identity.
//
// Errors: BadRequest when `applied` is not an object, sets metadata.managedFields, names an
// apiVersion other than `api_version`, or has a malformed list (see FieldSet::FromObject);
// Conflict as above. `managed` that do not match the live object are used as given.
Result<ApplyResult> Apply(const Json& live, const Json& applied, std::string_view manager,
                          bool force, const std::vector<ManagedFieldsEntry>& managed,
                          const Schema& schema, std::string_view api_version, std::string_view now,
                          std::string_view subresource = "",
                          const std::vector<std::string>& ignored_paths = {});

// Ownership after a non-apply write turned `old_obj` (null on create) into `new_obj`.
//
// The writer's Update entry (identity: manager, apiVersion, subresource) gains every field the
// write added or changed, including maps and list entries it created ("." in FieldsV1); those
// fields and every field the write removed leave all other entries; entries left empty are
// dropped. The writer's entry gets `now` only if it gained fields; other entries keep their
// times. Beyond kMaxUpdateManagers Update entries, the oldest merge into "ancient-changes".
// Ignored paths and metadata's system fields are never owned (see Apply). Never fails: list
// entries that cannot be keyed (legacy data) are simply not tracked.
std::vector<ManagedFieldsEntry> UpdateManagedFields(
    const Json& old_obj, const Json& new_obj, std::string_view manager,
    const std::vector<ManagedFieldsEntry>& managed, const Schema& schema,
    std::string_view api_version, std::string_view now, std::string_view subresource = "",
    const std::vector<std::string>& ignored_paths = {});

}  // namespace lintel::apimachinery
