// KindInfo: everything the API server, the CLI and OpenAPI need to know about
// one kind, declared once per kind in api/kinds/<kind>.cc.
//
// The server is generic over KindInfo: it never branches on a kind's name.
// Hooks here carry the few kind-specific rules a schema cannot express
// (cross-field validation, initial status). All members are immutable after
// start-up; any thread may read them.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "api/schema.h"
#include "common/json.h"
#include "common/status.h"

namespace lintel::api {

inline constexpr char kGroup[] = "lintel.dev";
inline constexpr char kVersion[] = "v1alpha1";
inline constexpr char kGroupVersion[] = "lintel.dev/v1alpha1";

// One column of `kubectl get` (a Table column definition plus how to fill it).
struct Column {
  std::string name;         // "Phase"
  std::string type;         // "string", "integer", "date"
  std::string format;       // "name" for the Name column, else ""
  std::string description;
  int priority = 0;         // > 0: only with -o wide
  // The cell for one object; `now` is for ages.
  std::function<Json(const Json& obj, std::chrono::system_clock::time_point now)> cell;
};

// The /scale subresource: where replicas and the selector live in the object.
struct ScaleInfo {
  std::string spec_replicas;    // JSON pointer, "/spec/replicas"
  std::string status_replicas;  // "/status/replicas"
  std::string label_selector;   // "/spec/selector": a LabelSelector object
};

// Extra validation for a create (old == nullptr) or an update.
using ValidateFn = std::function<void(const Json& obj, const Json* old, std::vector<Cause>* causes)>;
// Mutation before validation on create (old == nullptr) and update.
using PrepareFn = std::function<void(Json* obj, const Json* old)>;

struct KindInfo {
  std::string group = kGroup;
  std::string version = kVersion;
  std::string kind;       // "VirtualMachine"
  std::string plural;     // "virtualmachines"
  std::string singular;   // "virtualmachine"
  std::vector<std::string> short_names;
  std::vector<std::string> categories;  // "all"
  bool namespaced = true;
  // Names must be DNS-1123 labels (Namespace, Service) rather than subdomains.
  bool name_is_label = false;
  bool has_status = true;  // a /status subresource: main writes ignore .status
  std::optional<ScaleInfo> scale;
  // The whole object: apiVersion, kind, metadata, and spec/status or the
  // kind's own top-level fields (Event, Role). Built with ObjectSchema().
  Schema schema;
  std::string description;
  std::vector<Column> columns;  // after the Name column, before Age
  bool age_column = true;
  // Field selectors beyond metadata.name/metadata.namespace: selector field ->
  // JSON pointer into the object ("status.phase" -> "/status/phase").
  std::map<std::string, std::string> field_selectors;
  ValidateFn validate;
  PrepareFn prepare;
  // Objects of this kind expire this long after creation (Events).
  std::optional<std::chrono::seconds> ttl;
  // Finalizers the server adds to every new object of this kind.
  std::vector<std::string> default_finalizers;

  std::string api_version() const { return group.empty() ? version : group + "/" + version; }
  std::string list_kind() const { return kind + "List"; }
  // "virtualmachines.lintel.dev", used in messages: virtualmachines.lintel.dev "x" not found
  std::string qualified_resource() const { return group.empty() ? plural : plural + "." + group; }
};

// The standard object schema: apiVersion, kind, metadata, plus `spec`/`status`
// when given (non-kAny `spec` means the kind has a spec), or extra top-level
// properties for flat kinds.
Schema ObjectSchema(const std::optional<Schema>& spec, const std::optional<Schema>& status,
                    std::initializer_list<Property> extra = {});

// ObjectMeta as users may write it, including server-owned fields (which the
// server overwrites).
const Schema& ObjectMetaSchema();

// Validates metadata beyond its schema: the name's format, labels,
// annotations, finalizers, ownerReferences.
void ValidateObjectMeta(const KindInfo& kind, const Json& metadata,
                        std::vector<Cause>* causes);

// Helpers for building columns.
Column StringColumn(std::string name, std::string pointer, std::string description,
                    int priority = 0);
Column IntColumn(std::string name, std::string pointer, std::string description,
                 int priority = 0);
// The value at a JSON pointer or `fallback`.
const Json& At(const Json& obj, const std::string& pointer);

}  // namespace lintel::api
