#include "api/kinds/common_schemas.h"
#include "api/kinds/kinds.h"

namespace lintel::api {

// The finalizer with which the server holds a Namespace until its contents are gone.
inline constexpr char kNamespaceFinalizer[] = "lintel.dev/namespace";

KindInfo NamespaceKind() {
  KindInfo k;
  k.kind = "Namespace";
  k.plural = "namespaces";
  k.singular = "namespace";
  k.short_names = {"ns"};
  k.namespaced = false;
  k.name_is_label = true;
  k.description = "A tenant: a scope for names, quotas, roles and policies. Labels carry "
                  "policy, e.g. lintel.dev/isolation=vm requires VM-isolated workloads.";
  Schema status = Object({
      {"phase", String().Enum({"Active", "Terminating"}).Doc("Active or Terminating.")},
      {"conditions", ConditionsSchema()},
  });
  k.schema = ObjectSchema(Object({}).Doc("Unused; present for symmetry."), status);
  k.default_finalizers = {kNamespaceFinalizer};
  k.prepare = [](Json* obj, const Json* old) {
    bool deleting = At(*obj, "/metadata/deletionTimestamp").is_string();
    if (!old || deleting) (*obj)["status"]["phase"] = deleting ? "Terminating" : "Active";
  };
  k.columns = {StringColumn("Status", "/status/phase", "Active or Terminating.")};
  k.field_selectors = {{"status.phase", "/status/phase"}};
  return k;
}

}  // namespace lintel::api
