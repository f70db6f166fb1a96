// KeyRange: a half-open range of byte-string keys, [begin, end), compared in
// memcmp order. Prefixes become ranges by incrementing the last byte (never by
// LIKE, which is neither bytewise nor index-friendly). Plain value; any thread.
#pragma once

#include <string>
#include <string_view>

namespace lintel::store::sqlite {

struct KeyRange {
  std::string begin;     // inclusive
  std::string end;       // exclusive, when bounded
  bool bounded = false;  // false: no upper bound (the prefix was empty or all 0xff)

  bool Contains(std::string_view key) const {
    return key >= std::string_view(begin) && (!bounded || key < std::string_view(end));
  }
  bool Empty() const { return bounded && end <= begin; }
};

// All keys starting with `prefix`.
KeyRange PrefixRange(std::string_view prefix);
// Keys starting with `prefix` and strictly greater than `start_after` (a full
// key, the last one of the previous page); empty `start_after` = no such bound.
KeyRange PrefixRangeAfter(std::string_view prefix, std::string_view start_after);

}  // namespace lintel::store::sqlite
