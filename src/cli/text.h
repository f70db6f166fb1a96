// Small string helpers the verbs share. Pure functions; any thread.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "common/json.h"
#include "common/status.h"

namespace lintel::cli {

std::string ToLower(std::string_view s);
std::string ToUpper(std::string_view s);
std::vector<std::string> Split(std::string_view s, char sep);
std::string Join(const std::vector<std::string>& parts, std::string_view sep);
std::string_view TrimSpace(std::string_view s);
bool StartsWith(std::string_view s, std::string_view prefix);
bool EndsWith(std::string_view s, std::string_view suffix);

// A Go duration as kubectl's flags take it: "30s", "1m30s", "500ms", "2h";
// a bare number counts as seconds. BadRequest when malformed.
Result<std::chrono::milliseconds> ParseDuration(std::string_view s);

// The string at a JSON pointer, or "" when absent or not a string.
std::string StringAt(const Json& obj, const char* pointer);

// JSON as Go's encoding/json writes it (keys sorted, with <, > and &
// escaped): compact (indent < 0), which is how kubectl serializes the
// last-applied configuration, or indented as -o json prints.
std::string GoJson(const Json& j, int indent = -1);

}  // namespace lintel::cli
