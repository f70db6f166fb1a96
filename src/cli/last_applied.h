// Client-side apply's bookkeeping, byte-compatible with kubectl's so that
// `lintel apply` and `kubectl apply` take turns on the same objects: the
// kubectl.kubernetes.io/last-applied-configuration annotation holds the
// manifest as Go's encoding/json writes it (keys sorted, compact, a trailing
// newline, the annotation itself removed but an emptied annotations map
// kept). Pure functions; any thread.
#pragma once

#include <string>

#include "common/json.h"

namespace lintel::cli {

inline constexpr char kLastAppliedAnnotation[] =
    "kubectl.kubernetes.io/last-applied-configuration";

struct ModifiedConfiguration {
  std::string last_applied;  // the annotation's value
  Json modified;             // the manifest with the annotation set
};

// kubectl's GetModifiedConfiguration(obj, annotate=true).
ModifiedConfiguration GetModifiedConfiguration(const Json& manifest);

// The live object's last-applied configuration; null when it has none or it
// does not parse (kubectl then diffs against nothing).
Json LastAppliedOf(const Json& live);

}  // namespace lintel::cli
