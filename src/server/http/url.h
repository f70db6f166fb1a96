// Percent-decoding for request targets (internal to the transport). Any thread.
#pragma once

#include <string>
#include <string_view>

namespace lintel::http {

// Decodes %XX escapes (a malformed escape is kept as is). With
// `plus_is_space`, '+' becomes ' ' (query strings, not paths).
std::string PercentDecode(std::string_view in, bool plus_is_space);

}  // namespace lintel::http
