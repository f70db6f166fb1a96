// Label selectors: kube's labels.Selector, from the query-string syntax
// ("app=web,tier!=db,env in (a,b),!canary") or from a metav1.LabelSelector object
// ({matchLabels, matchExpressions}).
//
// A requirement's values are kept sorted, so that matching is a binary search over
// string_views and allocates nothing; a selector is immutable after it is built and
// may be shared by any number of threads.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/json.h"
#include "common/status.h"

namespace lintel::apimachinery {

// Operators of k8s.io/apimachinery/pkg/selection. Gt and Lt compare integers; they come
// only from the string syntax ("replicas>2"), as in kube.
enum class SelectorOperator : uint8_t {
  kEquals,        // a=b
  kDoubleEquals,  // a==b
  kNotEquals,     // a!=b (also true when the label is absent)
  kIn,            // a in (x,y)
  kNotIn,         // a notin (x,y) (also true when the label is absent)
  kExists,        // a
  kDoesNotExist,  // !a
  kGreaterThan,   // a>5
  kLessThan,      // a<5
};

// One term of a selector. Built only through Make, which validates as kube's
// labels.NewRequirement does.
class LabelRequirement {
 public:
  // Invalid (with causes at "key", "values", "values[i][key]") when the key is not a
  // qualified name, a value is not a label value, or the number of values does not suit
  // the operator (In/NotIn need some, =/==/!= one, Exists/DoesNotExist none, Gt/Lt one
  // integer). `field_path` prefixes the causes' fields.
  static Result<LabelRequirement> Make(std::string key, SelectorOperator op,
                                       std::vector<std::string> values,
                                       std::string_view field_path = "");

  const std::string& key() const { return key_; }
  SelectorOperator op() const { return op_; }
  // Sorted and without duplicates.
  const std::vector<std::string>& values() const { return values_; }

  // Whether a label set whose value for key() is `value` (nullopt: absent) satisfies it.
  bool Matches(std::optional<std::string_view> value) const;

  // Kube's Requirement.String(): "a=b", "a in (x,y)", "!a", "a>5".
  std::string ToString() const;

  bool operator==(const LabelRequirement& o) const {
    return key_ == o.key_ && op_ == o.op_ && values_ == o.values_;
  }

 private:
  LabelRequirement() = default;
  std::string key_;
  SelectorOperator op_ = SelectorOperator::kExists;
  std::vector<std::string> values_;
  int64_t number_ = 0;  // Gt/Lt operand
};

// Labels as the store keeps them: (key, value) pairs, in any order, keys unique.
using LabelPairs = std::span<const std::pair<std::string, std::string>>;

class LabelSelector {
 public:
  // The empty selector: matches everything (labels.Everything()).
  LabelSelector() = default;
  static LabelSelector Everything() { return LabelSelector(); }
  // Matches nothing (labels.Nothing(), what a null metav1.LabelSelector means).
  static LabelSelector Nothing();

  // Parses kube's selector syntax. Whitespace around tokens is ignored; "" selects
  // everything. BadRequest with kube's message on bad syntax ("unable to parse
  // requirement: found 'b', expected: in, notin, =, ==, !=, gt, lt", "found ',',
  // expected: !, identifier, or 'end of string'", ...). Requirements are sorted by key.
  static Result<LabelSelector> Parse(std::string_view text);

  // From a metav1.LabelSelector object. null gives Nothing(); {} (or empty lists) gives
  // Everything(). Invalid, with causes relative to `field_path` ("matchLabels",
  // "matchExpressions[0].operator", ...) as kube's ValidateLabelSelector reports them,
  // when keys, values or operators are bad or the shape is wrong.
  static Result<LabelSelector> FromJson(const Json& selector, std::string_view field_path = "");

  // From a plain map of labels (a Service's spec.selector): every pair must match.
  // An empty or null map selects everything. Invalid as for matchLabels.
  static Result<LabelSelector> FromMap(const Json& labels, std::string_view field_path = "");

  // Adds a requirement (keeps requirements sorted by key).
  LabelSelector& Add(LabelRequirement requirement);

  // True when the selector has no requirements (matches everything); false for Nothing().
  bool Empty() const { return requirements_.empty() && !nothing_; }
  bool IsNothing() const { return nothing_; }

  // `labels` is a JSON object of strings (null or non-object: no labels; non-string values
  // count as absent).
  bool Matches(const Json& labels) const;
  // Linear scans; labels sets are small. No allocation.
  bool Matches(LabelPairs labels) const;
  bool Matches(const std::vector<std::pair<std::string, std::string>>& labels) const {
    return Matches(LabelPairs(labels));
  }

  // The value the selector demands for `key` (from `key=v`, `key==v` or `key in (v)`),
  // for index look-ups; nullopt when it does not demand exactly one.
  std::optional<std::string_view> RequiresExactMatch(std::string_view key) const;

  const std::vector<LabelRequirement>& requirements() const { return requirements_; }

  // Canonical: requirements sorted by key, joined with ","; values sorted. Parse(ToString())
  // yields an equal selector. "" for Everything() and Nothing(), as in kube.
  std::string ToString() const;

  bool operator==(const LabelSelector& o) const {
    return nothing_ == o.nothing_ && requirements_ == o.requirements_;
  }

 private:
  std::vector<LabelRequirement> requirements_;
  bool nothing_ = false;
};

}  // namespace lintel::apimachinery
