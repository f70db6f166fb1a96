// Reading an object's fields as the network controllers need them. Pure; any
// thread.
#pragma once

#include <charconv>
#include <cstdint>
#include <string>

#include "api/kind.h"
#include "common/json.h"

namespace lintel::controllers::network {

// The string at JSON pointer `pointer`, or "" when absent or not a string.
inline const std::string& Str(const Json& obj, const char* pointer) {
  static const std::string empty;
  const Json& v = api::At(obj, pointer);
  return v.is_string() ? v.get_ref<const std::string&>() : empty;
}

// metadata.resourceVersion as the store's revision (0 when absent).
inline int64_t RevisionOf(const Json& obj) {
  const std::string& s = Str(obj, "/metadata/resourceVersion");
  int64_t v = 0;
  std::from_chars(s.data(), s.data() + s.size(), v);
  return v;
}

}  // namespace lintel::controllers::network
