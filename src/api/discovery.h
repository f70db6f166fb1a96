// Discovery documents (what /api and /apis answer), legacy and aggregated,
// generated from the registry. Pure functions; any thread.
#pragma once

#include <string>

#include "api/registry.h"
#include "common/json.h"

namespace lintel::api {

// GET /apis: APIGroupList.
Json ApiGroupList(const Registry& registry);
// GET /apis/GROUP: APIGroup. Null if the group is not served.
Json ApiGroup(const Registry& registry, const std::string& group);
// GET /apis/GROUP/VERSION (or /api/v1 for group ""): APIResourceList. Null if not served.
Json ApiResourceList(const Registry& registry, const std::string& group,
                     const std::string& version);
// GET /apis (or /api when `core`) with Accept ...;g=apidiscovery.k8s.io;v=VERSION;as=
// APIGroupDiscoveryList. `discovery_version` is "v2" or "v2beta1".
Json AggregatedDiscovery(const Registry& registry, bool core,
                         const std::string& discovery_version);

}  // namespace lintel::api
