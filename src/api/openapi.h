// The published OpenAPI v3 documents, generated from the kinds' schemas.
// kubectl uses them for `explain` and to probe for server-side field
// validation (each kind's PATCH operation must carry the group-version-kind
// extension and a fieldValidation parameter). Pure functions; any thread.
#pragma once

#include <string>

#include "api/registry.h"
#include "common/json.h"

namespace lintel::api {

// The document for one group/version, e.g. ("lintel.dev", "v1alpha1").
Json OpenApiV3Document(const Registry& registry, const std::string& group,
                       const std::string& version);

// The schema component name for a kind: "dev.lintel.v1alpha1.VirtualMachine".
std::string SchemaComponentName(const KindInfo& kind);

}  // namespace lintel::api
