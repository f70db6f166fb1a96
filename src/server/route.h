// Route: which kind, namespace, name and subresource a resource URL names.
//
//   /apis/G/V/PLURAL[/NAME[/SUB]]                   cluster-scoped, or all namespaces
//   /apis/G/V/namespaces/NS/PLURAL[/NAME[/SUB]]     namespaced
//   /apis/G/V/namespaces/NAME[/SUB]                 the Namespace kind itself
//   /api/v1/...                                     the same for the core group
//
// Pure function; any thread.
#pragma once

#include <string>
#include <vector>

#include "api/registry.h"
#include "common/status.h"

namespace lintel::server {

struct Route {
  const api::KindInfo* kind = nullptr;
  std::string ns;           // "" for cluster-scoped kinds and all-namespace collections
  std::string name;         // "" for a collection
  std::string subresource;  // "", "status", "scale", "log" and "exec" (pods), "console" (VMs)
};

// `seg` is the path split on '/' ("apis", "lintel.dev", "v1alpha1", ...).
// NotFound for an unknown group, version, resource or subresource.
Result<Route> ParseRoute(const api::Registry& registry, const std::vector<std::string>& seg);

}  // namespace lintel::server
