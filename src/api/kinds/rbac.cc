#include "api/kinds/common_schemas.h"
#include "api/kinds/kinds.h"

namespace lintel::api {

KindInfo RoleKind() {
  KindInfo k;
  k.kind = "Role";
  k.plural = "roles";
  k.singular = "role";
  k.has_status = false;
  k.description = "A set of permissions within a namespace.";
  k.schema = ObjectSchema(
      std::nullopt, std::nullopt,
      {{"rules", Array(Object({
                           {"apiGroups", Array(String()).Doc("\"lintel.dev\", \"\" or \"*\".")},
                           {"resources", Array(String()).Doc("Plural names or \"*\"; "
                                                             "subresources as pods/log.")},
                           {"resourceNames", Array(String())},
                           {"verbs", Array(String()).Required().Doc(
                                         "get, list, watch, create, update, patch, delete, "
                                         "deletecollection, or *.")},
                       }))
                     .Doc("What the role allows.")}});
  return k;
}

KindInfo RoleBindingKind() {
  KindInfo k;
  k.kind = "RoleBinding";
  k.plural = "rolebindings";
  k.singular = "rolebinding";
  k.has_status = false;
  k.description = "Grants a Role's permissions to users and groups within a namespace.";
  k.schema = ObjectSchema(
      std::nullopt, std::nullopt,
      {{"roleRef", Object({
                       {"apiGroup", String().Default("lintel.dev")},
                       {"kind", String().Enum({"Role"}).Default("Role")},
                       {"name", String().Required()},
                   })
                       .Required()
                       .Immutable()
                       .Doc("The Role granted; cannot change.")},
       {"subjects", Array(Object({
                              {"kind", String().Required().Enum({"User", "Group",
                                                                 "ServiceAccount"})},
                              {"name", String().Required()},
                              {"namespace", String()},
                              {"apiGroup", String()},
                          }))
                        .Doc("Who gets it.")}});
  k.columns = {{"Role", "string", "", "The Role granted.", 0, [](const Json& o, auto) -> Json {
                  const Json& n = At(o, "/roleRef/name");
                  return n.is_string() ? Json("Role/" + n.get<std::string>()) : Json("");
                }}};
  return k;
}

}  // namespace lintel::api
