#include "apimachinery/fields.h"

#include <algorithm>

namespace lintel::apimachinery {

namespace {

// fields.splitTerms: ',' separates unless escaped; escapes stay in the terms.
std::vector<std::string_view> SplitTerms(std::string_view s) {
  std::vector<std::string_view> terms;
  if (s.empty()) {
    return terms;
  }
  size_t start = 0;
  bool in_slash = false;
  for (size_t i = 0; i < s.size(); ++i) {
    if (in_slash) {
      in_slash = false;
    } else if (s[i] == '\\') {
      in_slash = true;
    } else if (s[i] == ',') {
      terms.push_back(s.substr(start, i - start));
      start = i + 1;
    }
  }
  terms.push_back(s.substr(start));
  return terms;
}

struct SplitTerm {
  std::string_view lhs;
  std::string_view op;
  std::string_view rhs;
};

// fields.splitTerm: the first operator wins; "!=" and "==" are tried before "=".
std::optional<SplitTerm> Split(std::string_view term) {
  for (size_t i = 0; i < term.size(); ++i) {
    std::string_view rest = term.substr(i);
    for (std::string_view op : {"!=", "==", "="}) {
      if (rest.substr(0, op.size()) == op) {
        return SplitTerm{term.substr(0, i), op, rest.substr(op.size())};
      }
    }
  }
  return std::nullopt;
}

std::string TermString(const FieldRequirement& r) {
  std::string out = r.field;
  out += r.op == FieldOperator::kEquals ? "=" : "!=";
  out += EscapeFieldValue(r.value);
  return out;
}

}  // namespace

std::string EscapeFieldValue(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c == '\\' || c == ',' || c == '=') {
      out += '\\';
    }
    out += c;
  }
  return out;
}

Result<std::string> UnescapeFieldValue(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  bool in_slash = false;
  for (char c : value) {
    if (in_slash) {
      if (c != '\\' && c != ',' && c != '=') {
        return BadRequest(std::string("invalid field selector: invalid escape sequence: \\") + c);
      }
      out += c;
      in_slash = false;
      continue;
    }
    if (c == '\\') {
      in_slash = true;
    } else if (c == ',' || c == '=') {
      return BadRequest(std::string("invalid field selector: unescaped character in value: ") + c);
    } else {
      out += c;
    }
  }
  if (in_slash) {
    return BadRequest("invalid field selector: invalid escape sequence: \\");
  }
  return out;
}

Result<FieldSelector> FieldSelector::Parse(std::string_view text) {
  std::vector<std::string_view> terms = SplitTerms(text);
  std::sort(terms.begin(), terms.end());
  FieldSelector s;
  for (std::string_view term : terms) {
    if (term.empty()) {
      continue;
    }
    auto split = Split(term);
    if (!split) {
      return BadRequest("invalid selector: '" + std::string(text) + "'; can't understand '" +
                        std::string(term) + "'");
    }
    LINTEL_ASSIGN_OR_RETURN(std::string value, UnescapeFieldValue(split->rhs));
    s.requirements_.push_back(
        {std::string(split->lhs),
         split->op == "!=" ? FieldOperator::kNotEquals : FieldOperator::kEquals, std::move(value)});
  }
  return s;
}

FieldSelector& FieldSelector::Add(FieldRequirement requirement) {
  auto at = std::upper_bound(
      requirements_.begin(), requirements_.end(), requirement,
      [](const FieldRequirement& a, const FieldRequirement& b) { return a.field < b.field; });
  requirements_.insert(at, std::move(requirement));
  return *this;
}

std::vector<std::string> FieldSelector::Fields() const {
  std::vector<std::string> out;
  for (const auto& r : requirements_) {
    out.push_back(r.field);
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

bool FieldSelector::Matches(const FieldGetter& get) const {
  for (const auto& r : requirements_) {
    std::string_view actual = get(r.field).value_or(std::string_view());
    if ((actual == r.value) != (r.op == FieldOperator::kEquals)) {
      return false;
    }
  }
  return true;
}

bool FieldSelector::Matches(const std::map<std::string, std::string, std::less<>>& fields) const {
  for (const auto& r : requirements_) {
    auto it = fields.find(r.field);
    std::string_view actual = it == fields.end() ? std::string_view() : it->second;
    if ((actual == r.value) != (r.op == FieldOperator::kEquals)) {
      return false;
    }
  }
  return true;
}

std::optional<std::string_view> FieldSelector::RequiresExactMatch(std::string_view field) const {
  for (const auto& r : requirements_) {
    if (r.field == field && r.op == FieldOperator::kEquals) {
      return std::string_view(r.value);
    }
  }
  return std::nullopt;
}

std::string FieldSelector::ToString() const {
  std::string out;
  for (const auto& r : requirements_) {
    if (!out.empty()) {
      out += ',';
    }
    out += TermString(r);
  }
  return out;
}

}  // namespace lintel::apimachinery
