// Hash maps keyed by std::string that are looked up by std::string_view without
// allocating (C++20 heterogeneous lookup). Internal to the scheduler.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace lintel::scheduler {

struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

template <typename V>
using StringMap = std::unordered_map<std::string, V, StringHash, std::equal_to<>>;

// The entry for `key`, created empty when missing (allocates only then).
template <typename V>
V& FindOrAdd(StringMap<V>& map, std::string_view key) {
  auto it = map.find(key);
  if (it == map.end()) {
    it = map.emplace(std::string(key), V()).first;
  }
  return it->second;
}

// The entry for `key` or nullptr.
template <typename V>
const V* FindIn(const StringMap<V>& map, std::string_view key) {
  auto it = map.find(key);
  return it == map.end() ? nullptr : &it->second;
}

}  // namespace lintel::scheduler
