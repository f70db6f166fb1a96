// Base64 (RFC 4648, the standard alphabet with padding): kubeconfig data,
// Secret values. Pure functions; any thread.
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"

namespace lintel {

std::string Base64Encode(std::string_view data);
// Whitespace is ignored; BadRequest when malformed.
Result<std::string> Base64Decode(std::string_view text);

}  // namespace lintel
