#include "apimachinery/names.h"

#include <algorithm>
#include <cstdint>

namespace lintel::apimachinery {

namespace {

constexpr std::string_view kDns1123LabelFmt = "[a-z0-9]([-a-z0-9]*[a-z0-9])?";
constexpr std::string_view kDns1123LabelErrMsg =
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', "
    "and must start and end with an alphanumeric character";
constexpr std::string_view kDns1123SubdomainFmt =
    "[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*";
constexpr std::string_view kDns1123SubdomainErrMsg =
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or "
    "'.', and must start and end with an alphanumeric character";
constexpr std::string_view kQualifiedNameFmt = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]";
constexpr std::string_view kQualifiedNameErrMsg =
    "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an "
    "alphanumeric character";
constexpr std::string_view kLabelValueFmt = "(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?";
constexpr std::string_view kLabelValueErrMsg =
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or "
    "'.', and must start and end with an alphanumeric character";

// validation.RegexError, including its double space before "or" with two examples.
std::string RegexError(std::string_view msg, std::string_view fmt,
                       std::initializer_list<std::string_view> examples) {
  std::string out(msg);
  if (examples.size() == 0) {
    out += " (regex used for validation is '";
  } else {
    out += " (e.g. ";
    bool first = true;
    for (auto e : examples) {
      if (!first) {
        out += " or ";
      }
      first = false;
      out += "'";
      out += e;
      out += "', ";
    }
    out += "regex used for validation is '";
  }
  out += fmt;
  out += "')";
  return out;
}

std::string MaxLenError(size_t n) {
  return "must be no more than " + std::to_string(n) + " characters";
}

constexpr std::string_view kEmptyError = "must be non-empty";

bool IsLowerAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }
bool IsAlnum(char c) { return IsLowerAlnum(c) || (c >= 'A' && c <= 'Z'); }

// [a-z0-9]([-a-z0-9]*[a-z0-9])?
bool MatchesLabel(std::string_view s) {
  if (s.empty() || !IsLowerAlnum(s.front()) || !IsLowerAlnum(s.back())) {
    return false;
  }
  return std::all_of(s.begin(), s.end(), [](char c) { return IsLowerAlnum(c) || c == '-'; });
}

bool MatchesSubdomain(std::string_view s) {
  while (true) {
    size_t dot = s.find('.');
    if (!MatchesLabel(s.substr(0, dot))) {
      return false;
    }
    if (dot == std::string_view::npos) {
      return true;
    }
    s.remove_prefix(dot + 1);
  }
}

// ([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]
bool MatchesQualifiedNamePart(std::string_view s) {
  if (s.empty() || !IsAlnum(s.front()) || !IsAlnum(s.back())) {
    return false;
  }
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return IsAlnum(c) || c == '-' || c == '_' || c == '.'; });
}

std::string Quote(const Json& value) {
  std::string s = value.dump(-1, ' ', false, Json::error_handler_t::replace);
  if (s.size() > 120) {
    s = s.substr(0, 117) + "...";
  }
  return s;
}

std::string_view JsonTypeName(const Json& v) {
  switch (v.type()) {
    case Json::value_t::object:
      return "object";
    case Json::value_t::array:
      return "array";
    case Json::value_t::string:
      return "string";
    case Json::value_t::boolean:
      return "boolean";
    case Json::value_t::null:
      return "null";
    case Json::value_t::number_float:
      return "number";
    default:
      return "integer";
  }
}

std::string ToLower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') {
      c = static_cast<char>(c - 'A' + 'a');
    }
  }
  return out;
}

}  // namespace

std::vector<std::string> IsDns1123Label(std::string_view value) {
  std::vector<std::string> errs;
  if (value.size() > kDns1123LabelMaxLength) {
    errs.push_back(MaxLenError(kDns1123LabelMaxLength));
  }
  if (!MatchesLabel(value)) {
    if (MatchesSubdomain(value)) {
      errs.emplace_back("must not contain dots");
    } else {
      errs.push_back(RegexError(kDns1123LabelErrMsg, kDns1123LabelFmt, {"my-name", "123-abc"}));
    }
  }
  return errs;
}

std::vector<std::string> IsDns1123Subdomain(std::string_view value) {
  std::vector<std::string> errs;
  if (value.size() > kDns1123SubdomainMaxLength) {
    errs.push_back(MaxLenError(kDns1123SubdomainMaxLength));
  }
  if (!MatchesSubdomain(value)) {
    errs.push_back(RegexError(kDns1123SubdomainErrMsg, kDns1123SubdomainFmt, {"example.com"}));
  }
  return errs;
}

std::vector<std::string> IsQualifiedName(std::string_view value) {
  std::vector<std::string> errs;
  std::string_view name = value;
  size_t slash = value.find('/');
  if (slash != std::string_view::npos) {
    if (value.find('/', slash + 1) != std::string_view::npos) {
      errs.push_back(
          "a qualified name " +
          RegexError(kQualifiedNameErrMsg, kQualifiedNameFmt, {"MyName", "my.name", "123-abc"}) +
          " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')");
      return errs;
    }
    std::string_view prefix = value.substr(0, slash);
    name = value.substr(slash + 1);
    if (prefix.empty()) {
      errs.push_back("prefix part " + std::string(kEmptyError));
    } else {
      for (auto& msg : IsDns1123Subdomain(prefix)) {
        errs.push_back("prefix part " + msg);
      }
    }
  }
  if (name.empty()) {
    errs.push_back("name part " + std::string(kEmptyError));
  } else if (name.size() > kQualifiedNameMaxLength) {
    errs.push_back("name part " + MaxLenError(kQualifiedNameMaxLength));
  }
  if (!MatchesQualifiedNamePart(name)) {
    errs.push_back("name part " + RegexError(kQualifiedNameErrMsg, kQualifiedNameFmt,
                                             {"MyName", "my.name", "123-abc"}));
  }
  return errs;
}

std::vector<std::string> IsValidLabelValue(std::string_view value) {
  std::vector<std::string> errs;
  if (value.size() > kLabelValueMaxLength) {
    errs.push_back(MaxLenError(kLabelValueMaxLength));
  }
  if (!value.empty() && !MatchesQualifiedNamePart(value)) {
    errs.push_back(RegexError(kLabelValueErrMsg, kLabelValueFmt, {"MyValue", "my_value", "12345"}));
  }
  return errs;
}

std::vector<std::string> IsValidPathSegmentName(std::string_view value) {
  std::vector<std::string> errs;
  if (value == "." || value == "..") {
    errs.push_back("may not be '" + std::string(value) + "'");
    return errs;
  }
  for (std::string_view bad : {"/", "%"}) {
    if (value.find(bad) != std::string_view::npos) {
      errs.push_back("may not contain '" + std::string(bad) + "'");
    }
  }
  return errs;
}

std::vector<Cause> ValidateObjectName(std::string_view name, NameFormat format,
                                      std::string_view field_path, bool prefix) {
  std::vector<Cause> causes;
  if (name.empty()) {
    causes.push_back(FieldRequired(field_path, "name or generateName is required"));
    return causes;
  }
  std::string checked(name);
  // maskTrailingDash: a generateName prefix may end in '-', the random suffix follows.
  if (prefix && checked.size() > 1 && checked.back() == '-') {
    checked.back() = 'a';
  }
  std::vector<std::string> errs;
  switch (format) {
    case NameFormat::kDns1123Subdomain:
      errs = IsDns1123Subdomain(checked);
      break;
    case NameFormat::kDns1123Label:
      errs = IsDns1123Label(checked);
      break;
    case NameFormat::kPathSegment:
      errs = IsValidPathSegmentName(checked);
      break;
  }
  for (const auto& e : errs) {
    causes.push_back(FieldInvalid(field_path, std::string(name), e));
  }
  return causes;
}

std::vector<Cause> ValidateLabels(const Json& labels, std::string_view field_path) {
  std::vector<Cause> causes;
  if (labels.is_null()) {
    return causes;
  }
  if (!labels.is_object()) {
    causes.push_back(FieldTypeInvalid(field_path, labels, "object"));
    return causes;
  }
  for (auto it = labels.begin(); it != labels.end(); ++it) {
    for (const auto& e : IsQualifiedName(it.key())) {
      causes.push_back(FieldInvalid(field_path, it.key(), e));
    }
    if (!it->is_string()) {
      causes.push_back(FieldTypeInvalid(KeyPath(field_path, it.key()), *it, "string"));
      continue;
    }
    for (const auto& e : IsValidLabelValue(it->get_ref<const std::string&>())) {
      causes.push_back(FieldInvalid(field_path, *it, e));
    }
  }
  return causes;
}

std::vector<Cause> ValidateAnnotations(const Json& annotations, std::string_view field_path) {
  std::vector<Cause> causes;
  if (annotations.is_null()) {
    return causes;
  }
  if (!annotations.is_object()) {
    causes.push_back(FieldTypeInvalid(field_path, annotations, "object"));
    return causes;
  }
  uint64_t total = 0;
  for (auto it = annotations.begin(); it != annotations.end(); ++it) {
    // The rule is QualifiedName except that case does not matter.
    for (const auto& e : IsQualifiedName(ToLower(it.key()))) {
      causes.push_back(FieldInvalid(field_path, it.key(), e));
    }
    total += it.key().size();
    if (!it->is_string()) {
      causes.push_back(FieldTypeInvalid(KeyPath(field_path, it.key()), *it, "string"));
      continue;
    }
    total += it->get_ref<const std::string&>().size();
  }
  if (total > kTotalAnnotationSizeLimit) {
    causes.push_back(FieldTooLong(field_path, kTotalAnnotationSizeLimit));
  }
  return causes;
}

Cause FieldInvalid(std::string_view field, const Json& value, std::string_view detail) {
  return {"FieldValueInvalid", std::string(field),
          "Invalid value: " + Quote(value) + ": " + std::string(detail)};
}

Cause FieldTypeInvalid(std::string_view field, const Json& value, std::string_view want) {
  return {"FieldValueTypeInvalid", std::string(field),
          "Invalid value: " + Quote(value) + ": must be of type " + std::string(want) + ", not " +
              std::string(JsonTypeName(value))};
}

Cause FieldRequired(std::string_view field, std::string_view detail) {
  return {
      "FieldValueRequired", std::string(field),
      detail.empty() ? std::string("Required value") : "Required value: " + std::string(detail)};
}

Cause FieldForbidden(std::string_view field, std::string_view detail) {
  return {"FieldValueForbidden", std::string(field), "Forbidden: " + std::string(detail)};
}

Cause FieldNotSupported(std::string_view field, const Json& value,
                        const std::vector<std::string_view>& supported) {
  std::string list;
  for (auto s : supported) {
    if (!list.empty()) {
      list += ", ";
    }
    list += "\"";
    list += s;
    list += "\"";
  }
  return {"FieldValueNotSupported", std::string(field),
          "Unsupported value: " + Quote(value) + ": supported values: " + list};
}

Cause FieldTooLong(std::string_view field, size_t max_bytes) {
  return {"FieldValueTooLong", std::string(field),
          "Too long: must have at most " + std::to_string(max_bytes) + " bytes"};
}

std::string ChildPath(std::string_view base, std::string_view child) {
  std::string out(base);
  if (!out.empty()) {
    out += '.';
  }
  out += child;
  return out;
}

std::string IndexPath(std::string_view base, size_t index) {
  return std::string(base) + "[" + std::to_string(index) + "]";
}

std::string KeyPath(std::string_view base, std::string_view key) {
  return std::string(base) + "[" + std::string(key) + "]";
}

}  // namespace lintel::apimachinery
