#include "store/sqlite/key_range.h"

namespace lintel::store::sqlite {

KeyRange PrefixRange(std::string_view prefix) {
  KeyRange range;
  range.begin = std::string(prefix);
  // The smallest key greater than every key with this prefix: drop trailing
  // 0xff bytes, then increment the last byte. Nothing left means no bound.
  std::string end(prefix);
  while (!end.empty() && static_cast<unsigned char>(end.back()) == 0xff) {
    end.pop_back();
  }
  if (!end.empty()) {
    end.back() = static_cast<char>(static_cast<unsigned char>(end.back()) + 1);
    range.end = std::move(end);
    range.bounded = true;
  }
  return range;
}

KeyRange PrefixRangeAfter(std::string_view prefix, std::string_view start_after) {
  KeyRange range = PrefixRange(prefix);
  if (start_after.empty()) {
    return range;
  }
  // key > start_after is key >= start_after + '\0', its immediate successor.
  std::string successor(start_after);
  successor.push_back('\0');
  if (successor > range.begin) {
    range.begin = std::move(successor);
  }
  return range;
}

}  // namespace lintel::store::sqlite
