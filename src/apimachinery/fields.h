// Field selectors: kube's fields.Selector ("metadata.name=web,status.phase!=Running").
//
// Which fields a kind supports is the caller's business: Fields() lists those a
// selector uses so that the caller can reject unknown ones with kube's
// `field label not supported: <name>` (BadRequest). A selector is immutable once
// parsed; any thread may share it.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace lintel::apimachinery {

enum class FieldOperator : uint8_t {
  kEquals,     // "=" and "==" (kube treats them alike and prints "=")
  kNotEquals,  // "!="
};

struct FieldRequirement {
  std::string field;  // as written, e.g. "metadata.name"
  FieldOperator op = FieldOperator::kEquals;
  std::string value;  // unescaped
  bool operator==(const FieldRequirement&) const = default;
};

// Returns a field's value, or nullopt when the object lacks it. The view must stay valid
// until the getter is called again.
using FieldGetter = std::function<std::optional<std::string_view>(std::string_view field)>;

class FieldSelector {
 public:
  // Selects everything.
  FieldSelector() = default;
  static FieldSelector Everything() { return FieldSelector(); }

  // Terms separated by unescaped ','; each is <field><op><value> split at the first "!=",
  // "==" or "=". Values may escape '\\', ',' and '=' with a backslash; unescaped ',' or
  // '=' in a value, any other escape, or a trailing '\\' is a BadRequest. Nothing is
  // trimmed (kube does not trim either). Empty terms are skipped; "" selects everything.
  // Requirements are sorted as kube sorts the terms.
  static Result<FieldSelector> Parse(std::string_view text);

  // Adds `field op value` (kube's fields.OneTermEqualSelector and friends).
  FieldSelector& Add(FieldRequirement requirement);

  bool Empty() const { return requirements_.empty(); }
  const std::vector<FieldRequirement>& requirements() const { return requirements_; }
  // The distinct fields used, sorted.
  std::vector<std::string> Fields() const;

  // As kube's fields.Set: a missing field reads as "" (so "a!=x" holds and "a=" matches).
  bool Matches(const FieldGetter& get) const;
  bool Matches(const std::map<std::string, std::string, std::less<>>& fields) const;

  // The value demanded for `field` by a "=" term (for index look-ups).
  std::optional<std::string_view> RequiresExactMatch(std::string_view field) const;

  // "a=b,c!=d" in the order kept (kube's), values re-escaped, "==" printed as "=".
  // Parse(ToString()) selects the same objects.
  std::string ToString() const;

  bool operator==(const FieldSelector&) const = default;

 private:
  std::vector<FieldRequirement> requirements_;
};

// fields.EscapeValue: '\\' -> "\\\\", ',' -> "\\,", '=' -> "\\=".
std::string EscapeFieldValue(std::string_view value);
// fields.UnescapeValue; BadRequest on "invalid escape sequence" or "unescaped character".
Result<std::string> UnescapeFieldValue(std::string_view value);

}  // namespace lintel::apimachinery
