// The value store_crash_writer writes for a key at a version, so that the
// crash test can recompute what it must find. About 1 KiB, like an object.
#pragma once

#include <string>

namespace lintel::store::testing {

inline std::string CrashValue(const std::string& key, int version) {
  std::string v = key + "#" + std::to_string(version) + "#";
  while (v.size() < 1024) {
    v += static_cast<char>('a' + (v.size() * 7 + version) % 26);
  }
  return v;
}

// The version encoded in a CrashValue, or -1.
inline int CrashVersion(const std::string& value) {
  size_t a = value.find('#');
  size_t b = a == std::string::npos ? a : value.find('#', a + 1);
  if (b == std::string::npos) {
    return -1;
  }
  return std::stoi(value.substr(a + 1, b - a - 1));
}

}  // namespace lintel::store::testing
