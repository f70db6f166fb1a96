// Manifests: the objects that `apply -f`, `create -f` and `delete -f` read.
//
// A path is a file, a directory (its *.yaml, *.yml and *.json files in name
// order; subdirectories only when recursive) or "-" for standard input. A
// file holds one or more YAML documents ("---") or JSON; a List (kind "List"
// or any "...List" with items) stands for its items. Empty documents are
// skipped. Pure functions apart from reading files; any thread.
#pragma once

#include <istream>
#include <string>
#include <string_view>
#include <vector>

#include "common/json.h"
#include "common/status.h"

namespace lintel::cli {

struct Manifest {
  Json object;
  std::string source;  // the file it came from, "STDIN" for "-"
};

// Parses one file's text. BadRequest naming `source` when the text does not
// parse or a document is not an object with apiVersion and kind.
Result<std::vector<Manifest>> ParseManifests(std::string_view text, const std::string& source);

// Reads every path in order. `in` is read (once) for "-". NotFound with
// kubectl's message ("the path \"x\" does not exist") for a missing path.
Result<std::vector<Manifest>> ReadManifests(const std::vector<std::string>& paths,
                                            std::istream& in, bool recursive = false);

// The files a directory contributes, sorted by name.
Result<std::vector<std::string>> ManifestFiles(const std::string& dir, bool recursive);

}  // namespace lintel::cli
