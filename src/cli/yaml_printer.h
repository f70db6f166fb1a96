// YAML as kubectl prints it (-o yaml, edit buffers): JSON converted the way
// sigs.k8s.io/yaml and go-yaml v2 do, so output matches kubectl's byte for
// byte:
//   - block style; sequences inside mappings are not indented ("items:\n- a");
//   - strings plain when that reads back as the same string, else
//     single-quoted ('a: b', '#x'), else double-quoted ("true", "1",
//     "2026-01-01", "tab\there"); multi-line strings as literal blocks with
//     chomping and indentation indicators (|, |-, |+, |2);
//   - long plain and quoted strings folded at spaces past column 80;
//   - empty collections as {} and [].
// (common/json.h's ToYaml is a general YAML writer; this one is kubectl's.)
// Pure functions; any thread.
#pragma once

#include <string>

#include "common/json.h"

namespace lintel::cli {

// The document, ending with a newline.
std::string KubectlYaml(const Json& doc);

}  // namespace lintel::cli
