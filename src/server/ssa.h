// Server-side apply and managedFields bookkeeping for Lintel's kinds: binds
// apimachinery's field management to each kind's schema (list types and
// keys come from the same Schema that drives validation and OpenAPI).
// Pure functions; any thread.
#pragma once

#include <string>

#include "api/kind.h"
#include "apimachinery/managed_fields.h"
#include "common/json.h"
#include "common/status.h"
#include "server/resources.h"

namespace lintel::server {

// How the kind's lists merge, for apimachinery's Apply and Update.
apimachinery::Schema SsaSchemaFor(const api::KindInfo& kind);

// Records a non-apply write (create when old == nullptr) in next.metadata.managedFields.
void SetManagedFieldsForUpdate(const api::KindInfo& kind, const Json* old, Json* next,
                               const std::string& manager, Subresource sub,
                               const std::string& now);

// The checks an apply configuration must pass before it is merged: an object
// of this kind and apiVersion naming the object of the URL. BadRequest if not.
Status CheckApplyConfig(const api::KindInfo& kind, const std::string& ns, const std::string& name,
                        const Json& applied);

// Applies `applied` for `manager` over `live` (null when creating); returns the
// merged object with its managedFields. Conflict when another manager owns a
// changed field and !force.
Result<Json> ServerSideApply(const api::KindInfo& kind, const Json& live, const Json& applied,
                             const std::string& manager, bool force, Subresource sub,
                             const std::string& now);

}  // namespace lintel::server
