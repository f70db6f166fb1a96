#include "apimachinery/labels.h"

#include <algorithm>
#include <charconv>

#include "apimachinery/names.h"

namespace lintel::apimachinery {

namespace {

// ---- shared helpers -------------------------------------------------------------------

// strconv.ParseInt(s, 10, 64): optional sign, decimal digits, in range.
std::optional<int64_t> ParseInt64(std::string_view s) {
  bool negative = false;
  if (!s.empty() && (s[0] == '+' || s[0] == '-')) {
    negative = s[0] == '-';
    s.remove_prefix(1);
  }
  if (s.empty()) {
    return std::nullopt;
  }
  uint64_t magnitude = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), magnitude);
  if (ec != std::errc() || end != s.data() + s.size()) {
    return std::nullopt;
  }
  constexpr uint64_t kMax = static_cast<uint64_t>(INT64_MAX);
  if (negative) {
    if (magnitude > kMax + 1) {
      return std::nullopt;
    }
    return magnitude == kMax + 1 ? INT64_MIN : -static_cast<int64_t>(magnitude);
  }
  if (magnitude > kMax) {
    return std::nullopt;
  }
  return static_cast<int64_t>(magnitude);
}

// An aggregate of field errors as kube prints it: one as is, several as "[a, b]".
std::string Aggregate(const std::vector<Cause>& causes) {
  auto one = [](const Cause& c) {
    return c.field.empty() ? c.message : c.field + ": " + c.message;
  };
  if (causes.size() == 1) {
    return one(causes[0]);
  }
  std::string out = "[";
  for (size_t i = 0; i < causes.size(); ++i) {
    if (i > 0) {
      out += ", ";
    }
    out += one(causes[i]);
  }
  return out + "]";
}

Json ValuesJson(const std::vector<std::string>& values) {
  Json j = Json::array();
  for (const auto& v : values) {
    j.push_back(v);
  }
  return j;
}

// ---- the string syntax: a port of labels' Lexer and Parser ---------------------------

enum class Tok : uint8_t {
  kEnd,
  kClosePar,
  kComma,
  kDoesNotExist,
  kDoubleEquals,
  kEquals,
  kGreaterThan,
  kIdentifier,
  kIn,
  kLessThan,
  kNotEquals,
  kNotIn,
  kOpenPar,
};

struct Token {
  Tok tok;
  std::string_view lit;
};

bool IsWhitespace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }
bool IsSpecialSymbol(char c) {
  return c == '=' || c == '!' || c == '(' || c == ')' || c == ',' || c == '>' || c == '<';
}

std::optional<Tok> SymbolToken(std::string_view s) {
  if (s == ")") {
    return Tok::kClosePar;
  }
  if (s == ",") {
    return Tok::kComma;
  }
  if (s == "!") {
    return Tok::kDoesNotExist;
  }
  if (s == "==") {
    return Tok::kDoubleEquals;
  }
  if (s == "=") {
    return Tok::kEquals;
  }
  if (s == ">") {
    return Tok::kGreaterThan;
  }
  if (s == "<") {
    return Tok::kLessThan;
  }
  if (s == "!=") {
    return Tok::kNotEquals;
  }
  if (s == "(") {
    return Tok::kOpenPar;
  }
  return std::nullopt;
}

std::vector<Token> Lex(std::string_view s) {
  std::vector<Token> out;
  size_t pos = 0;
  while (true) {
    while (pos < s.size() && IsWhitespace(s[pos])) {
      ++pos;
    }
    if (pos >= s.size()) {
      out.push_back({Tok::kEnd, ""});
      return out;
    }
    if (IsSpecialSymbol(s[pos])) {
      // Longest run of special symbols that is still a token ("!=" over "!").
      size_t start = pos;
      Tok tok = *SymbolToken(s.substr(pos, 1));
      size_t len = 1;
      while (start + len < s.size() && IsSpecialSymbol(s[start + len])) {
        auto longer = SymbolToken(s.substr(start, len + 1));
        if (!longer) {
          break;
        }
        tok = *longer;
        ++len;
      }
      out.push_back({tok, s.substr(start, len)});
      pos = start + len;
      continue;
    }
    size_t start = pos;
    while (pos < s.size() && !IsWhitespace(s[pos]) && !IsSpecialSymbol(s[pos])) {
      ++pos;
    }
    std::string_view word = s.substr(start, pos - start);
    Tok tok = word == "in" ? Tok::kIn : word == "notin" ? Tok::kNotIn : Tok::kIdentifier;
    out.push_back({tok, word});
  }
}

enum class Context : uint8_t { kKeyAndOperator, kValues };

class Parser {
 public:
  explicit Parser(std::string_view text) : tokens_(Lex(text)) {}

  Result<std::vector<LabelRequirement>> Parse() {
    std::vector<LabelRequirement> requirements;
    while (true) {
      Token t = Lookahead(Context::kValues);
      switch (t.tok) {
        case Tok::kIdentifier:
        case Tok::kDoesNotExist: {
          auto r = ParseRequirement();
          if (!r.ok()) {
            return BadRequest("unable to parse requirement: " + r.error().message());
          }
          requirements.push_back(std::move(*r));
          Token next = Consume(Context::kValues);
          if (next.tok == Tok::kEnd) {
            return requirements;
          }
          if (next.tok != Tok::kComma) {
            return BadRequest(Found(next) + ", expected: ',' or 'end of string'");
          }
          Token after = Lookahead(Context::kValues);
          if (after.tok != Tok::kIdentifier && after.tok != Tok::kDoesNotExist) {
            return BadRequest(Found(after) + ", expected: identifier after ','");
          }
          break;
        }
        case Tok::kEnd:
          return requirements;
        default:
          return BadRequest(Found(t) + ", expected: !, identifier, or 'end of string'");
      }
    }
  }

 private:
  static std::string Found(const Token& t) { return "found '" + std::string(t.lit) + "'"; }

  Token Lookahead(Context ctx) const {
    Token t = tokens_[pos_];
    if (ctx == Context::kValues && (t.tok == Tok::kIn || t.tok == Tok::kNotIn)) {
      t.tok = Tok::kIdentifier;
    }
    return t;
  }
  Token Consume(Context ctx) {
    Token t = Lookahead(ctx);
    if (pos_ + 1 < tokens_.size()) {
      ++pos_;  // kEnd repeats
    }
    return t;
  }

  // Errors here carry only a message; Parse prefixes it.
  Result<LabelRequirement> ParseRequirement() {
    std::optional<SelectorOperator> op;
    Token t = Consume(Context::kValues);
    if (t.tok == Tok::kDoesNotExist) {
      op = SelectorOperator::kDoesNotExist;
      t = Consume(Context::kValues);
    }
    if (t.tok != Tok::kIdentifier) {
      return BadRequest(Found(t) + ", expected: identifier");
    }
    std::string key(t.lit);
    if (auto errs = IsQualifiedName(key); !errs.empty()) {
      std::string joined;
      for (const auto& e : errs) {
        joined += (joined.empty() ? "" : "; ") + e;
      }
      return BadRequest(Aggregate({FieldInvalid("key", key, joined)}));
    }
    // "!a" takes no operand: whatever follows is the caller's to reject ("!a=b").
    if (op) {
      return Build(std::move(key), *op, {});
    }
    Tok next = Lookahead(Context::kValues).tok;
    if (next == Tok::kEnd || next == Tok::kComma) {
      return Build(std::move(key), SelectorOperator::kExists, {});
    }
    Token ot = Consume(Context::kKeyAndOperator);
    SelectorOperator binary;
    switch (ot.tok) {
      case Tok::kIn:
        binary = SelectorOperator::kIn;
        break;
      case Tok::kNotIn:
        binary = SelectorOperator::kNotIn;
        break;
      case Tok::kEquals:
        binary = SelectorOperator::kEquals;
        break;
      case Tok::kDoubleEquals:
        binary = SelectorOperator::kDoubleEquals;
        break;
      case Tok::kNotEquals:
        binary = SelectorOperator::kNotEquals;
        break;
      case Tok::kGreaterThan:
        binary = SelectorOperator::kGreaterThan;
        break;
      case Tok::kLessThan:
        binary = SelectorOperator::kLessThan;
        break;
      default:
        return BadRequest(Found(ot) + ", expected: in, notin, =, ==, !=, gt, lt");
    }
    std::vector<std::string> values;
    if (binary == SelectorOperator::kIn || binary == SelectorOperator::kNotIn) {
      LINTEL_RETURN_IF_ERROR(ParseValues(&values));
    } else {
      LINTEL_RETURN_IF_ERROR(ParseExactValue(&values));
    }
    return Build(std::move(key), binary, std::move(values));
  }

  static Result<LabelRequirement> Build(std::string key, SelectorOperator op,
                                        std::vector<std::string> values) {
    auto r = LabelRequirement::Make(std::move(key), op, std::move(values));
    if (!r.ok()) {
      return BadRequest(Aggregate(r.error().causes()));
    }
    return r;
  }

  Status ParseValues(std::vector<std::string>* values) {
    Token t = Consume(Context::kValues);
    if (t.tok != Tok::kOpenPar) {
      return BadRequest(Found(t) + " expected: '('");
    }
    t = Lookahead(Context::kValues);
    switch (t.tok) {
      case Tok::kIdentifier:
      case Tok::kComma: {
        LINTEL_RETURN_IF_ERROR(ParseIdentifiersList(values));
        Token close = Consume(Context::kValues);
        if (close.tok != Tok::kClosePar) {
          return BadRequest(Found(close) + ", expected: ')'");
        }
        return Status::Ok();
      }
      case Tok::kClosePar:  // "()" is the set holding the empty string
        Consume(Context::kValues);
        values->emplace_back();
        return Status::Ok();
      default:
        return BadRequest(Found(t) + ", expected: ',', ')' or identifier");
    }
  }

  // Empty elements ("(,a)", "(a,)", "(a,,b)") stand for the empty string, as in kube.
  Status ParseIdentifiersList(std::vector<std::string>* values) {
    while (true) {
      Token t = Consume(Context::kValues);
      switch (t.tok) {
        case Tok::kIdentifier: {
          values->emplace_back(t.lit);
          Token next = Lookahead(Context::kValues);
          if (next.tok == Tok::kComma) {
            continue;
          }
          if (next.tok == Tok::kClosePar) {
            return Status::Ok();
          }
          return BadRequest(Found(next) + ", expected: ',' or ')'");
        }
        case Tok::kComma: {
          if (values->empty()) {
            values->emplace_back();
          }
          Tok next = Lookahead(Context::kValues).tok;
          if (next == Tok::kClosePar) {
            values->emplace_back();
            return Status::Ok();
          }
          if (next == Tok::kComma) {
            Consume(Context::kValues);
            values->emplace_back();
          }
          continue;
        }
        default:
          return BadRequest(Found(t) + ", expected: ',', or identifier");
      }
    }
  }

  Status ParseExactValue(std::vector<std::string>* values) {
    Tok next = Lookahead(Context::kValues).tok;
    if (next == Tok::kEnd || next == Tok::kComma) {  // "a=" selects the empty value
      values->emplace_back();
      return Status::Ok();
    }
    Token t = Consume(Context::kValues);
    if (t.tok != Tok::kIdentifier) {
      return BadRequest(Found(t) + ", expected: identifier");
    }
    values->emplace_back(t.lit);
    return Status::Ok();
  }

  std::vector<Token> tokens_;
  size_t pos_ = 0;
};

bool KeyLess(const LabelRequirement& a, const LabelRequirement& b) { return a.key() < b.key(); }

std::optional<std::string_view> FindInJson(const Json& labels, const std::string& key) {
  if (!labels.is_object()) {
    return std::nullopt;
  }
  auto it = labels.find(key);
  if (it == labels.end() || !it->is_string()) {
    return std::nullopt;
  }
  return std::string_view(it->get_ref<const std::string&>());
}

std::optional<std::string_view> FindInPairs(LabelPairs labels, std::string_view key) {
  for (const auto& [k, v] : labels) {
    if (k == key) {
      return std::string_view(v);
    }
  }
  return std::nullopt;
}

}  // namespace

// ---- LabelRequirement ------------------------------------------------------------------

Result<LabelRequirement> LabelRequirement::Make(std::string key, SelectorOperator op,
                                                std::vector<std::string> values,
                                                std::string_view field_path) {
  std::vector<Cause> causes;
  if (auto errs = IsQualifiedName(key); !errs.empty()) {
    std::string joined;
    for (const auto& e : errs) {
      joined += (joined.empty() ? "" : "; ") + e;
    }
    causes.push_back(FieldInvalid(ChildPath(field_path, "key"), key, joined));
  }
  const std::string values_path = ChildPath(field_path, "values");
  int64_t number = 0;
  switch (op) {
    case SelectorOperator::kIn:
    case SelectorOperator::kNotIn:
      if (values.empty()) {
        causes.push_back(FieldInvalid(values_path, ValuesJson(values),
                                      "for 'in', 'notin' operators, values set can't be empty"));
      }
      break;
    case SelectorOperator::kEquals:
    case SelectorOperator::kDoubleEquals:
    case SelectorOperator::kNotEquals:
      if (values.size() != 1) {
        causes.push_back(FieldInvalid(values_path, ValuesJson(values),
                                      "exact-match compatibility requires one single value"));
      }
      break;
    case SelectorOperator::kExists:
    case SelectorOperator::kDoesNotExist:
      if (!values.empty()) {
        causes.push_back(FieldInvalid(values_path, ValuesJson(values),
                                      "values set must be empty for exists and does not exist"));
      }
      break;
    case SelectorOperator::kGreaterThan:
    case SelectorOperator::kLessThan:
      if (values.size() != 1) {
        causes.push_back(FieldInvalid(values_path, ValuesJson(values),
                                      "for 'Gt', 'Lt' operators, exactly one value is required"));
      }
      for (size_t i = 0; i < values.size(); ++i) {
        auto n = ParseInt64(values[i]);
        if (!n) {
          causes.push_back(FieldInvalid(IndexPath(values_path, i), values[i],
                                        "for 'Gt', 'Lt' operators, the value must be an integer"));
        } else {
          number = *n;
        }
      }
      break;
  }
  for (size_t i = 0; i < values.size(); ++i) {
    if (auto errs = IsValidLabelValue(values[i]); !errs.empty()) {
      std::string joined;
      for (const auto& e : errs) {
        joined += (joined.empty() ? "" : "; ") + e;
      }
      causes.push_back(FieldInvalid(KeyPath(IndexPath(values_path, i), key), values[i], joined));
    }
  }
  if (!causes.empty()) {
    std::string message = Aggregate(causes);
    return Invalid(std::move(message), std::move(causes));
  }
  std::sort(values.begin(), values.end());
  values.erase(std::unique(values.begin(), values.end()), values.end());
  LabelRequirement r;
  r.key_ = std::move(key);
  r.op_ = op;
  r.values_ = std::move(values);
  r.number_ = number;
  return r;
}

bool LabelRequirement::Matches(std::optional<std::string_view> value) const {
  auto has = [this](std::string_view v) {
    return std::binary_search(values_.begin(), values_.end(), v, std::less<>());
  };
  switch (op_) {
    case SelectorOperator::kIn:
    case SelectorOperator::kEquals:
    case SelectorOperator::kDoubleEquals:
      return value && has(*value);
    case SelectorOperator::kNotIn:
    case SelectorOperator::kNotEquals:
      return !value || !has(*value);
    case SelectorOperator::kExists:
      return value.has_value();
    case SelectorOperator::kDoesNotExist:
      return !value;
    case SelectorOperator::kGreaterThan:
    case SelectorOperator::kLessThan: {
      if (!value) {
        return false;
      }
      auto n = ParseInt64(*value);
      if (!n) {
        return false;
      }
      return op_ == SelectorOperator::kGreaterThan ? *n > number_ : *n < number_;
    }
  }
  return false;
}

std::string LabelRequirement::ToString() const {
  std::string out;
  if (op_ == SelectorOperator::kDoesNotExist) {
    out += '!';
  }
  out += key_;
  switch (op_) {
    case SelectorOperator::kEquals:
      out += '=';
      break;
    case SelectorOperator::kDoubleEquals:
      out += "==";
      break;
    case SelectorOperator::kNotEquals:
      out += "!=";
      break;
    case SelectorOperator::kIn:
      out += " in ";
      break;
    case SelectorOperator::kNotIn:
      out += " notin ";
      break;
    case SelectorOperator::kGreaterThan:
      out += '>';
      break;
    case SelectorOperator::kLessThan:
      out += '<';
      break;
    case SelectorOperator::kExists:
    case SelectorOperator::kDoesNotExist:
      return out;
  }
  bool set = op_ == SelectorOperator::kIn || op_ == SelectorOperator::kNotIn;
  if (set) {
    out += '(';
  }
  for (size_t i = 0; i < values_.size(); ++i) {
    if (i > 0) {
      out += ',';
    }
    out += values_[i];
  }
  if (set) {
    out += ')';
  }
  return out;
}

// ---- LabelSelector ----------------------------------------------------------------------

LabelSelector LabelSelector::Nothing() {
  LabelSelector s;
  s.nothing_ = true;
  return s;
}

Result<LabelSelector> LabelSelector::Parse(std::string_view text) {
  Parser parser(text);
  LINTEL_ASSIGN_OR_RETURN(auto requirements, parser.Parse());
  LabelSelector s;
  s.requirements_ = std::move(requirements);
  std::stable_sort(s.requirements_.begin(), s.requirements_.end(), KeyLess);
  return s;
}

Result<LabelSelector> LabelSelector::FromMap(const Json& labels, std::string_view field_path) {
  if (auto causes = ValidateLabels(labels, field_path); !causes.empty()) {
    std::string message = "invalid label selector: " + Aggregate(causes);
    return Invalid(std::move(message), std::move(causes));
  }
  LabelSelector s;
  if (labels.is_object()) {
    for (auto it = labels.begin(); it != labels.end(); ++it) {
      auto r = LabelRequirement::Make(it.key(), SelectorOperator::kEquals, {it->get<std::string>()},
                                      field_path);
      if (!r.ok()) {
        return r.error();  // unreachable: validated above
      }
      s.requirements_.push_back(std::move(*r));
    }
  }
  std::stable_sort(s.requirements_.begin(), s.requirements_.end(), KeyLess);
  return s;
}

Result<LabelSelector> LabelSelector::FromJson(const Json& selector, std::string_view field_path) {
  if (selector.is_null()) {
    return Nothing();
  }
  std::vector<Cause> causes;
  if (!selector.is_object()) {
    causes.push_back(FieldTypeInvalid(field_path, selector, "object"));
    std::string message = "invalid label selector: " + Aggregate(causes);
    return Invalid(std::move(message), std::move(causes));
  }
  static const Json null_value;
  auto get = [&](const char* name) -> const Json& {
    auto it = selector.find(name);
    return it == selector.end() ? null_value : *it;
  };
  const Json& match_labels = get("matchLabels");
  const Json& expressions = get("matchExpressions");
  const std::string labels_path = ChildPath(field_path, "matchLabels");
  const std::string exprs_path = ChildPath(field_path, "matchExpressions");
  for (auto& c : ValidateLabels(match_labels, labels_path)) {
    causes.push_back(std::move(c));
  }

  struct Expr {
    std::string key;
    SelectorOperator op;
    std::vector<std::string> values;
  };
  std::vector<Expr> exprs;
  if (!expressions.is_null() && !expressions.is_array()) {
    causes.push_back(FieldTypeInvalid(exprs_path, expressions, "array"));
  } else if (expressions.is_array()) {
    for (size_t i = 0; i < expressions.size(); ++i) {
      const Json& e = expressions[i];
      const std::string path = IndexPath(exprs_path, i);
      if (!e.is_object()) {
        causes.push_back(FieldTypeInvalid(path, e, "object"));
        continue;
      }
      Expr expr{"", SelectorOperator::kExists, {}};
      bool ok = true;
      // Values first: the operator checks below count them.
      const std::string values_path = ChildPath(path, "values");
      if (auto it = e.find("values"); it != e.end() && !it->is_null()) {
        if (!it->is_array()) {
          causes.push_back(FieldTypeInvalid(values_path, *it, "array"));
          ok = false;
        } else {
          for (size_t j = 0; j < it->size(); ++j) {
            const Json& v = (*it)[j];
            if (!v.is_string()) {
              causes.push_back(FieldTypeInvalid(IndexPath(values_path, j), v, "string"));
              ok = false;
              continue;
            }
            expr.values.push_back(v.get<std::string>());
          }
        }
      }
      const Json* op_json = nullptr;
      if (auto it = e.find("operator"); it != e.end()) {
        op_json = &*it;
      }
      std::string op_name;
      if (op_json != nullptr && !op_json->is_null() && !op_json->is_string()) {
        causes.push_back(FieldTypeInvalid(ChildPath(path, "operator"), *op_json, "string"));
        ok = false;
      } else {
        if (op_json != nullptr && op_json->is_string()) {
          op_name = op_json->get<std::string>();
        }
        if (op_name == "In" || op_name == "NotIn") {
          expr.op = op_name == "In" ? SelectorOperator::kIn : SelectorOperator::kNotIn;
          if (expr.values.empty() && ok) {
            causes.push_back(
                FieldRequired(values_path, "must be specified when `operator` is 'In' or 'NotIn'"));
            ok = false;
          }
        } else if (op_name == "Exists" || op_name == "DoesNotExist") {
          expr.op =
              op_name == "Exists" ? SelectorOperator::kExists : SelectorOperator::kDoesNotExist;
          if (!expr.values.empty()) {
            causes.push_back(FieldForbidden(
                values_path, "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"));
            ok = false;
          }
        } else {
          causes.push_back(FieldNotSupported(ChildPath(path, "operator"), op_name,
                                             {"In", "NotIn", "Exists", "DoesNotExist"}));
          ok = false;
        }
      }
      const std::string key_path = ChildPath(path, "key");
      if (auto it = e.find("key"); it != e.end() && !it->is_null() && !it->is_string()) {
        causes.push_back(FieldTypeInvalid(key_path, *it, "string"));
        ok = false;
      } else {
        if (it != e.end() && it->is_string()) {
          expr.key = it->get<std::string>();
        }
        for (const auto& msg : IsQualifiedName(expr.key)) {
          causes.push_back(FieldInvalid(key_path, expr.key, msg));
          ok = false;
        }
      }
      for (size_t j = 0; j < expr.values.size(); ++j) {
        for (const auto& msg : IsValidLabelValue(expr.values[j])) {
          causes.push_back(FieldInvalid(IndexPath(values_path, j), expr.values[j], msg));
          ok = false;
        }
      }
      if (ok) {
        exprs.push_back(std::move(expr));
      }
    }
  }
  if (!causes.empty()) {
    std::string message = "invalid label selector: " + Aggregate(causes);
    return Invalid(std::move(message), std::move(causes));
  }

  LabelSelector s;
  if (match_labels.is_object()) {
    for (auto it = match_labels.begin(); it != match_labels.end(); ++it) {
      auto r = LabelRequirement::Make(it.key(), SelectorOperator::kEquals, {it->get<std::string>()},
                                      labels_path);
      if (!r.ok()) {
        return r.error();  // unreachable: validated above
      }
      s.requirements_.push_back(std::move(*r));
    }
  }
  for (size_t i = 0; i < exprs.size(); ++i) {
    auto r = LabelRequirement::Make(std::move(exprs[i].key), exprs[i].op,
                                    std::move(exprs[i].values), IndexPath(exprs_path, i));
    if (!r.ok()) {
      return r.error();  // unreachable: validated above
    }
    s.requirements_.push_back(std::move(*r));
  }
  std::stable_sort(s.requirements_.begin(), s.requirements_.end(), KeyLess);
  return s;
}

LabelSelector& LabelSelector::Add(LabelRequirement requirement) {
  auto at = std::upper_bound(requirements_.begin(), requirements_.end(), requirement, KeyLess);
  requirements_.insert(at, std::move(requirement));
  return *this;
}

bool LabelSelector::Matches(const Json& labels) const {
  if (nothing_) {
    return false;
  }
  for (const auto& r : requirements_) {
    if (!r.Matches(FindInJson(labels, r.key()))) {
      return false;
    }
  }
  return true;
}

bool LabelSelector::Matches(LabelPairs labels) const {
  if (nothing_) {
    return false;
  }
  for (const auto& r : requirements_) {
    if (!r.Matches(FindInPairs(labels, r.key()))) {
      return false;
    }
  }
  return true;
}

std::optional<std::string_view> LabelSelector::RequiresExactMatch(std::string_view key) const {
  if (nothing_) {
    return std::nullopt;
  }
  for (const auto& r : requirements_) {
    if (r.key() != key) {
      continue;
    }
    switch (r.op()) {
      case SelectorOperator::kEquals:
      case SelectorOperator::kDoubleEquals:
      case SelectorOperator::kIn:
        if (r.values().size() == 1) {
          return std::string_view(r.values()[0]);
        }
        break;
      default:
        break;
    }
  }
  return std::nullopt;
}

std::string LabelSelector::ToString() const {
  std::string out;
  for (const auto& r : requirements_) {
    if (!out.empty()) {
      out += ',';
    }
    out += r.ToString();
  }
  return out;
}

}  // namespace lintel::apimachinery
