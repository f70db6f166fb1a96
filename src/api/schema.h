// Schema: each kind's fields, written once. One Schema tree drives
//   - validation (types, required fields, formats, bounds; causes with field paths),
//   - unknown-field detection (fieldValidation=Strict/Warn/Ignore),
//   - defaulting,
//   - the published OpenAPI v3 (kubectl explain, apply's validation probe), and
//   - list semantics for server-side apply (x-kubernetes-list-type / map-keys).
//
// Schemas are built once at start-up with the small builder DSL below and are
// immutable afterwards; any thread may read them.
//
//   Object({
//       {"cpu", Int().Min(1).Default(1).Doc("Virtual CPUs.")},
//       {"memory", QuantityType().Positive().Required().Doc("Guest memory, e.g. 256Mi.")},
//   })
#pragma once

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/json.h"
#include "common/status.h"

namespace lintel::api {

enum class Type : uint8_t {
  kObject,       // fixed properties
  kMap,          // string keys to `items` values (additionalProperties)
  kArray,        // of `items`
  kString,
  kInteger,
  kNumber,
  kBoolean,
  kQuantity,     // "500m", "2Gi" or a JSON number
  kIntOrString,  // 8080 or "http"
  kTime,         // RFC 3339 string
  kAny,          // any JSON (x-kubernetes-preserve-unknown-fields)
};

enum class Format : uint8_t {
  kNone,
  kDns1123Label,      // lower-case RFC 1123 label, <= 63
  kDns1123Subdomain,  // lower-case RFC 1123 subdomain, <= 253
  kQualifiedName,     // label key style: [prefix/]name
  kLabelValue,
  kIPv4,
  kCidr,
};

enum class ListType : uint8_t { kAtomic, kSet, kMap };

// Appends causes about `value` at `path` (kind-specific checks beyond the schema).
using CheckFn = std::function<void(const Json& value, const std::string& path,
                                   std::vector<Cause>* causes)>;

class Schema;
struct Property;

class Schema {
 public:
  Schema() = default;
  explicit Schema(Type type) : type_(type) {}

  // Builders (each returns a modified copy, for chaining on temporaries).
  Schema Doc(std::string text) const;
  Schema Default(Json value) const;
  Schema Enum(std::vector<std::string> values) const;
  Schema Min(int64_t v) const;  // integers; for quantities Min(0) = NonNegative
  Schema Max(int64_t v) const;
  Schema MaxLength(size_t n) const;
  Schema MaxItems(size_t n) const;
  Schema WithFormat(Format f) const;
  Schema Required() const;      // marks the property required in its parent object
  Schema Nullable() const;
  Schema Positive() const;      // quantities and integers: > 0
  Schema NonNegative() const;   // quantities and integers: >= 0
  Schema Check(CheckFn fn) const;
  Schema ListSet() const;
  Schema ListMap(std::vector<std::string> keys) const;
  Schema Immutable() const;     // may not change on update once set

  Type type() const { return type_; }
  const std::string& doc() const { return doc_; }
  const std::optional<Json>& default_value() const { return default_; }
  const std::vector<Property>& properties() const;
  const Schema* items() const { return items_.get(); }
  const Schema* Find(std::string_view property) const;
  bool required() const { return required_; }
  bool immutable() const { return immutable_; }
  ListType list_type() const { return list_type_; }
  const std::vector<std::string>& list_keys() const { return list_keys_; }

  // The schema at a dotted path of property names (".spec.containers"; array
  // and map levels are stepped through transparently). nullptr if none.
  const Schema* AtPath(std::string_view dotted) const;

  // Validates `value` against this schema. Causes use kube's field paths
  // ("spec.containers[0].image") and messages ("Invalid value: -1: must be
  // greater than or equal to 1"). Unknown object properties are appended to
  // `unknown` as paths (when non-null) and otherwise ignored.
  void Validate(const Json& value, const std::string& path, std::vector<Cause>* causes,
                std::vector<std::string>* unknown) const;

  // Fills defaults in place: for each object present, missing properties that
  // have a default get it (recursively, including inside arrays and maps).
  void ApplyDefaults(Json* value) const;

  // Removes properties the schema does not know (fieldValidation=Ignore/Warn).
  void PruneUnknown(Json* value) const;

  // Appends causes for immutable fields whose value changed from `old_value`.
  void CheckImmutable(const Json& old_value, const Json& new_value, const std::string& path,
                      std::vector<Cause>* causes) const;

  // The OpenAPI v3 schema object (with x-kubernetes-* extensions).
  Json ToOpenApi() const;

 private:
  friend Schema Object(std::initializer_list<Property> props);
  friend Schema Array(Schema items);
  friend Schema MapOf(Schema values);
  friend Schema Extend(const Schema& base, const std::vector<Property>& more);

  Type type_ = Type::kAny;
  std::string doc_;
  std::optional<Json> default_;
  std::vector<std::string> enum_;
  std::optional<int64_t> min_, max_;
  std::optional<size_t> max_length_, max_items_;
  Format format_ = Format::kNone;
  bool required_ = false;
  bool nullable_ = false;
  bool positive_ = false;
  bool non_negative_ = false;
  bool immutable_ = false;
  ListType list_type_ = ListType::kAtomic;
  std::vector<std::string> list_keys_;
  std::vector<CheckFn> checks_;
  std::shared_ptr<const std::vector<Property>> properties_;
  std::shared_ptr<const Schema> items_;
};

struct Property {
  std::string name;
  Schema schema;
};

// Constructors for each type.
Schema Object(std::initializer_list<Property> props);
Schema Array(Schema items);
Schema MapOf(Schema values);
Schema String();
Schema Int();
Schema Number();
Schema Bool();
Schema QuantityType();
Schema IntOrString();
Schema Time();
Schema AnyJson();
// Map of string to string (labels, annotations, nodeSelector).
Schema StringMap();
// Object extended with more properties (for composing shared pieces).
Schema Extend(const Schema& base, std::initializer_list<Property> more);
Schema Extend(const Schema& base, const std::vector<Property>& more);

// Formats a JSON value the way kube's field errors quote it: strings quoted,
// numbers bare, objects and arrays compact and truncated.
std::string QuoteValue(const Json& value);

// Cause constructors with kube's reasons and message shapes.
Cause InvalidValue(const std::string& path, const Json& value, std::string_view detail);
Cause RequiredValue(const std::string& path, std::string_view detail = "");
Cause TypeInvalid(const std::string& path, const Json& value, std::string_view want);
Cause NotSupportedValue(const std::string& path, const Json& value,
                        const std::vector<std::string>& allowed);
Cause ForbiddenField(const std::string& path, std::string_view detail);
Cause TooLong(const std::string& path, const Json& value, size_t max);
Cause DuplicateValue(const std::string& path, const Json& value);

// "a.b" + "c" -> "a.b.c"; "" + "c" -> "c".
std::string JoinPath(const std::string& base, std::string_view field);
std::string IndexPath(const std::string& base, size_t index);
// kube writes map entries as path[key].
std::string KeyPath(const std::string& base, std::string_view key);

}  // namespace lintel::api
