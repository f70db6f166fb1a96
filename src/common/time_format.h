// Timestamps as the Kubernetes API writes them, and ages as kubectl prints them.
// Pure functions; any thread.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace lintel {

// RFC 3339 in UTC with seconds precision: "2026-11-27T21:48:03Z".
std::string FormatRfc3339(std::chrono::system_clock::time_point t);
// RFC 3339 with microseconds: "2026-11-27T21:48:03.123456Z" (MicroTime).
std::string FormatRfc3339Micro(std::chrono::system_clock::time_point t);
// Parses RFC 3339 ("Z" or "+hh:mm" offsets, optional fraction); nullopt if malformed.
std::optional<std::chrono::system_clock::time_point> ParseRfc3339(std::string_view s);
// kubectl's short human duration: "45s", "5m", "3h2m", "2d3h", "400d".
std::string HumanDuration(std::chrono::system_clock::duration d);

}  // namespace lintel
