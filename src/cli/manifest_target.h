// From a manifest to what a write addresses: its resource type (from
// discovery, by apiVersion and kind), namespace and name. Shared by apply,
// create and delete -f.
#pragma once

#include <string>

#include "cli/client_context.h"
#include "cli/discovery.h"
#include "cli/manifest.h"

namespace lintel::cli {

struct ManifestTarget {
  ApiResource resource;
  std::string ns;  // "" for cluster-scoped kinds
  std::string name;
  Json object;  // with metadata.namespace filled in for namespaced kinds
  std::string source;
};

// Errors carry kubectl's line: an unknown kind ("resource mapping not found
// ..."), a namespace that disagrees with an explicit -n, a missing name
// (unless `allow_generate_name` and metadata.generateName is set).
Result<ManifestTarget> ResolveManifest(ClientContext& ctx, Manifest manifest,
                                       bool allow_generate_name = false);

}  // namespace lintel::cli
