// Content negotiation: which representation an Accept header asks for, and
// how a request body is encoded. Pure functions; any thread.
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"

namespace lintel::server {

enum class Representation {
  kJson,        // the object or list as JSON
  kTable,       // meta.k8s.io Table (kubectl get)
  kDiscovery,   // apidiscovery.k8s.io APIGroupDiscoveryList (aggregated discovery)
};

struct Negotiated {
  Representation rep = Representation::kJson;
  std::string version;       // Table: "v1"/"v1beta1"; discovery: "v2"/"v2beta1"
  std::string content_type;  // what to send back
};

// Picks the first media type of `accept` (in order) that the endpoint can
// produce. Tables and aggregated discovery are offered only where allowed.
// NotAcceptable if nothing in the list is JSON-compatible.
Result<Negotiated> Negotiate(std::string_view accept, bool allow_table, bool allow_discovery);

enum class BodyType { kJson, kYaml, kMergePatch, kJsonPatch, kApplyPatch, kStrategicMerge,
                      kUnsupported };
// The body's encoding from Content-Type; a missing Content-Type is JSON
// (kubectl's PUT /scale sends none).
BodyType ClassifyContentType(std::string_view content_type);

}  // namespace lintel::server
