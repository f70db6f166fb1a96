// JSON and YAML decoding with limits, returning Status instead of throwing.
//
// Lintel manipulates objects as nlohmann::json. Inputs from the network are
// decoded here so that size and nesting limits apply in one place. Any thread.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace lintel {

using Json = nlohmann::json;

// Deeper documents are refused (BadRequest): guards the recursive parsers.
inline constexpr int kMaxJsonDepth = 100;

// Parses one JSON document. BadRequest (with the parser's position) when
// malformed or nested deeper than kMaxJsonDepth.
Result<Json> ParseJson(std::string_view text);

// Parses one YAML document (YAML is a superset of JSON) into JSON. Integers,
// floats, booleans and null are typed as YAML 1.2's core schema types them;
// quoted scalars stay strings. BadRequest when malformed, too deep, or when it
// uses anchors to expand beyond limits.
Result<Json> ParseYaml(std::string_view text);

// Splits a multi-document YAML or JSON stream ("---" separators; a JSON List's
// items are not unwrapped here) and parses each non-empty document.
Result<std::vector<Json>> ParseYamlStream(std::string_view text);

// Renders JSON as block YAML, as kubectl -o yaml does (keys in the JSON's order).
std::string ToYaml(const Json& j);

}  // namespace lintel
