#include "cli/manifest_target.h"

#include "cli/errors.h"
#include "cli/text.h"

namespace lintel::cli {

Result<ManifestTarget> ResolveManifest(ClientContext& ctx, Manifest manifest,
                                       bool allow_generate_name) {
  LINTEL_ASSIGN_OR_RETURN(const Discovery* d, ctx.discovery());
  Json& obj = manifest.object;
  if (!obj.contains("metadata") || !obj["metadata"].is_object()) obj["metadata"] = Json::object();
  std::string name = StringAt(obj, "/metadata/name");
  std::string ns = StringAt(obj, "/metadata/namespace");
  auto r = d->ForKind(obj.value("apiVersion", ""), obj.value("kind", ""));
  if (!r.ok()) {
    return CliError("resource mapping not found for name: \"" + name + "\" namespace: \"" + ns +
                    "\" from \"" + manifest.source + "\": " + r.error().message() +
                    "; ensure the kind is served by the server");
  }
  if (name.empty() && !(allow_generate_name && !StringAt(obj, "/metadata/generateName").empty())) {
    return CliError("error when retrieving current configuration from \"" + manifest.source +
                    "\": resource name may not be empty");
  }
  ManifestTarget t;
  if (r->namespaced) {
    if (ns.empty()) {
      ns = ctx.ns();
      obj["metadata"]["namespace"] = ns;
    } else if (ctx.ns_explicit() && ns != ctx.ns()) {
      return CliError("the namespace from the provided object \"" + ns +
                      "\" does not match the namespace \"" + ctx.ns() +
                      "\". You must pass '--namespace=" + ns + "' to perform this operation.");
    }
  } else {
    ns.clear();
  }
  t.resource = std::move(*r);
  t.ns = std::move(ns);
  t.name = std::move(name);
  t.object = std::move(obj);
  t.source = std::move(manifest.source);
  return t;
}

}  // namespace lintel::cli
