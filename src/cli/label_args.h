// The arguments of `label` and `annotate`: resources first, then changes
// ("key=value" sets, "key-" removes), parsed with kubectl's rules and
// messages. Pure functions; any thread.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "common/json.h"
#include "common/status.h"

namespace lintel::cli {

enum class MetadataMap { kLabels, kAnnotations };

struct MetadataChanges {
  std::map<std::string, std::string> set;
  std::vector<std::string> remove;
};

struct LabelArgs {
  std::vector<std::string> resources;  // TYPE NAME... or TYPE/NAME...
  MetadataChanges changes;
};

// CliError, as kubectl words it, when a resource follows a change, a label
// value is invalid, a spec is malformed, or a key is both set and removed.
Result<LabelArgs> ParseLabelArgs(const std::vector<std::string>& args, MetadataMap which);

// The map after the changes (null when it ends up empty and was absent).
// CliError when a key would change value without `overwrite` (kubectl's
// message for labels or annotations). `missing` collects removed keys that
// were not there.
Result<Json> ApplyMetadataChanges(const Json& current, const MetadataChanges& changes,
                                  MetadataMap which, bool overwrite,
                                  std::vector<std::string>* missing);

}  // namespace lintel::cli
