#include "common/json.h"

#include <yaml-cpp/yaml.h>

#include <cmath>
#include <cstdlib>
#include <limits>

namespace lintel {

namespace {

struct TooDeep {};

// Limits the work a YAML document may cause through aliases.
constexpr size_t kMaxYamlNodes = 2'000'000;

bool IsPlainNull(const std::string& s) {
  return s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL";
}

std::optional<bool> PlainBool(const std::string& s) {
  if (s == "true" || s == "True" || s == "TRUE") return true;
  if (s == "false" || s == "False" || s == "FALSE") return false;
  return std::nullopt;
}

bool PlainInt(const std::string& s, Json* out) {
  if (s.empty()) return false;
  size_t i = (s[0] == '-' || s[0] == '+') ? 1 : 0;
  if (i >= s.size()) return false;
  int base = 10;
  std::string digits = s.substr(i);
  if (digits.size() > 2 && digits[0] == '0' && (digits[1] == 'x' || digits[1] == 'o')) {
    base = digits[1] == 'x' ? 16 : 8;
    digits = digits.substr(2);
  }
  for (char c : digits) {
    bool ok = base == 16 ? std::isxdigit(static_cast<unsigned char>(c)) != 0
                         : (c >= '0' && c <= (base == 8 ? '7' : '9'));
    if (!ok) return false;
  }
  errno = 0;
  char* end = nullptr;
  if (s[0] == '-') {
    long long v = std::strtoll(digits.c_str(), &end, base);
    if (errno != 0) return false;
    *out = -v;
  } else {
    unsigned long long v = std::strtoull(digits.c_str(), &end, base);
    if (errno != 0) return false;
    if (v <= static_cast<unsigned long long>(std::numeric_limits<int64_t>::max())) {
      *out = static_cast<int64_t>(v);
    } else {
      *out = v;
    }
  }
  return true;
}

bool PlainFloat(const std::string& s, Json* out) {
  if (s == ".inf" || s == ".Inf" || s == ".INF" || s == "+.inf" || s == "-.inf" ||
      s == ".nan" || s == ".NaN" || s == ".NAN") {
    return false;  // JSON cannot carry them; keep as strings
  }
  // YAML 1.2 core: [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?
  size_t i = 0, n = s.size();
  if (i < n && (s[i] == '-' || s[i] == '+')) ++i;
  size_t int_digits = 0, frac_digits = 0;
  while (i < n && std::isdigit(static_cast<unsigned char>(s[i]))) ++i, ++int_digits;
  bool dot = false;
  if (i < n && s[i] == '.') {
    dot = true;
    ++i;
    while (i < n && std::isdigit(static_cast<unsigned char>(s[i]))) ++i, ++frac_digits;
  }
  if (int_digits == 0 && frac_digits == 0) return false;
  bool exp = false;
  if (i < n && (s[i] == 'e' || s[i] == 'E')) {
    exp = true;
    ++i;
    if (i < n && (s[i] == '-' || s[i] == '+')) ++i;
    size_t e = 0;
    while (i < n && std::isdigit(static_cast<unsigned char>(s[i]))) ++i, ++e;
    if (e == 0) return false;
  }
  if (i != n || (!dot && !exp)) return false;
  *out = std::strtod(s.c_str(), nullptr);
  return true;
}

Json ResolvePlain(const std::string& s) {
  if (IsPlainNull(s)) return nullptr;
  if (auto b = PlainBool(s)) return *b;
  Json v;
  if (PlainInt(s, &v)) return v;
  if (PlainFloat(s, &v)) return v;
  return s;
}

Json Convert(const YAML::Node& node, int depth, size_t* budget) {
  if (depth > kMaxJsonDepth) throw TooDeep();
  if (++*budget > kMaxYamlNodes) throw TooDeep();
  switch (node.Type()) {
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
      return nullptr;
    case YAML::NodeType::Scalar: {
      const std::string& s = node.Scalar();
      if (node.Tag() == "!") return s;  // quoted
      if (node.Tag() == "tag:yaml.org,2002:str" || node.Tag() == "!!str") return s;
      return ResolvePlain(s);
    }
    case YAML::NodeType::Sequence: {
      Json arr = Json::array();
      for (const auto& child : node) arr.push_back(Convert(child, depth + 1, budget));
      return arr;
    }
    case YAML::NodeType::Map: {
      Json obj = Json::object();
      for (const auto& kv : node) {
        if (!kv.first.IsScalar()) throw YAML::Exception(kv.first.Mark(), "map keys must be scalars");
        obj[kv.first.Scalar()] = Convert(kv.second, depth + 1, budget);
      }
      return obj;
    }
  }
  return nullptr;
}

bool NeedsQuotes(const std::string& s) {
  if (s.empty()) return true;
  Json resolved = ResolvePlain(s);
  if (!resolved.is_string()) return true;
  if (s == "y" || s == "Y" || s == "n" || s == "N" || s == "yes" || s == "no" || s == "on" ||
      s == "off" || s == "Yes" || s == "No" || s == "On" || s == "Off" || s == "YES" ||
      s == "NO" || s == "ON" || s == "OFF") {
    return true;  // YAML 1.1 booleans: quote for older readers
  }
  return false;
}

void Emit(YAML::Emitter& out, const Json& j) {
  switch (j.type()) {
    case Json::value_t::object:
      if (j.empty()) {
        out << YAML::Flow << YAML::BeginMap << YAML::EndMap;
        return;
      }
      out << YAML::BeginMap;
      for (auto it = j.begin(); it != j.end(); ++it) {
        out << YAML::Key;
        if (NeedsQuotes(it.key())) {
          out << YAML::DoubleQuoted << it.key();
        } else {
          out << it.key();
        }
        out << YAML::Value;
        Emit(out, it.value());
      }
      out << YAML::EndMap;
      return;
    case Json::value_t::array:
      if (j.empty()) {
        out << YAML::Flow << YAML::BeginSeq << YAML::EndSeq;
        return;
      }
      out << YAML::BeginSeq;
      for (const auto& e : j) Emit(out, e);
      out << YAML::EndSeq;
      return;
    case Json::value_t::string: {
      const auto& s = j.get_ref<const std::string&>();
      if (s.find('\n') != std::string::npos) {
        out << YAML::Literal << s;
      } else if (NeedsQuotes(s)) {
        out << YAML::DoubleQuoted << s;
      } else {
        out << s;
      }
      return;
    }
    case Json::value_t::boolean:
      out << (j.get<bool>() ? "true" : "false");
      return;
    case Json::value_t::null:
      out << YAML::Null;
      return;
    default:
      out << j.dump();
      return;
  }
}

}  // namespace

Result<Json> ParseJson(std::string_view text) {
  try {
    auto cb = [](int depth, Json::parse_event_t, Json&) {
      if (depth > kMaxJsonDepth) throw TooDeep();
      return true;
    };
    return Json::parse(text.begin(), text.end(), cb);
  } catch (const TooDeep&) {
    return BadRequest("json: nesting deeper than " + std::to_string(kMaxJsonDepth) + " levels");
  } catch (const Json::exception& e) {
    std::string msg = e.what();
    // "[json.exception.parse_error.101] parse error at line 1, column 2: ..." -> after "] "
    if (auto p = msg.find("] "); p != std::string::npos) msg = msg.substr(p + 2);
    return BadRequest("json: " + msg);
  }
}

Result<Json> ParseYaml(std::string_view text) {
  try {
    YAML::Node node = YAML::Load(std::string(text));
    size_t budget = 0;
    return Convert(node, 0, &budget);
  } catch (const TooDeep&) {
    return BadRequest("yaml: document too deep or too large");
  } catch (const YAML::Exception& e) {
    return BadRequest(std::string("yaml: ") + e.what());
  }
}

Result<std::vector<Json>> ParseYamlStream(std::string_view text) {
  std::vector<Json> docs;
  try {
    auto nodes = YAML::LoadAll(std::string(text));
    size_t budget = 0;
    for (const auto& n : nodes) {
      if (n.IsNull() || !n.IsDefined()) continue;
      docs.push_back(Convert(n, 0, &budget));
    }
  } catch (const TooDeep&) {
    return BadRequest("yaml: document too deep or too large");
  } catch (const YAML::Exception& e) {
    return BadRequest(std::string("yaml: ") + e.what());
  }
  return docs;
}

std::string ToYaml(const Json& j) {
  YAML::Emitter out;
  out.SetIndent(2);
  out.SetSeqFormat(YAML::Block);
  Emit(out, j);
  std::string s = out.c_str();
  if (!s.empty() && s.back() != '\n') s.push_back('\n');
  return s;
}

}  // namespace lintel
