#include "cli/yaml_printer.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdio>
#include <cmath>
#include <regex>
#include <set>
#include <vector>

namespace lintel::cli {

namespace {

constexpr size_t kBestWidth = 80;
constexpr size_t kBestIndent = 2;

// ---- Decoding UTF-8 into code points (invalid bytes pass as themselves).

std::vector<char32_t> Decode(std::string_view s) {
  std::vector<char32_t> out;
  for (size_t i = 0; i < s.size();) {
    auto c = static_cast<unsigned char>(s[i]);
    size_t len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 1;
    if (i + len > s.size()) len = 1;
    char32_t cp = len == 1 ? c : len == 2 ? (c & 0x1F) : len == 3 ? (c & 0x0F) : (c & 0x07);
    for (size_t j = 1; j < len; ++j) cp = (cp << 6) | (static_cast<unsigned char>(s[i + j]) & 0x3F);
    out.push_back(cp);
    i += len;
  }
  return out;
}

void Encode(char32_t cp, std::string* out) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

// libyaml's character classes.
bool IsBreak(char32_t c) { return c == '\r' || c == '\n' || c == 0x85 || c == 0x2028 || c == 0x2029; }
bool IsSpace(char32_t c) { return c == ' '; }
bool IsBlankz(char32_t c) { return c == ' ' || c == '\t' || IsBreak(c) || c == 0; }
bool IsPrintable(char32_t c) {
  return c == 0x0A || (c >= 0x20 && c <= 0x7E) || c == 0x85 || (c >= 0xA0 && c <= 0xD7FF) ||
         (c >= 0xE000 && c <= 0xFFFD && c != 0xFEFF) || (c >= 0x10000 && c <= 0x10FFFF);
}

// ---- go-yaml v2's resolve: would this plain scalar read back as a string?

bool IsTimestamp(const std::string& s) {
  static const std::regex kTimestamp(
      R"(^\d{4}-\d{1,2}-\d{1,2}(([Tt]\d{1,2}:\d{1,2}:\d{1,2}(\.\d*)?(Z|[+-]\d{1,2}(:\d{2})?))|)"
      R"(( \d{1,2}:\d{1,2}:\d{1,2}(\.\d*)?))?$)");
  return std::regex_match(s, kTimestamp);
}

bool IsGoInt(std::string s) {
  // strconv.ParseInt(s, 0, 64) after removing underscores, as go-yaml does.
  s.erase(std::remove(s.begin(), s.end(), '_'), s.end());
  if (!s.empty() && (s[0] == '+' || s[0] == '-')) s.erase(0, 1);
  if (s.empty()) return false;
  auto all = [&](size_t from, auto pred) {
    if (from >= s.size()) return false;
    for (size_t i = from; i < s.size(); ++i) {
      if (!pred(s[i])) return false;
    }
    return true;
  };
  auto dec = [](char c) { return c >= '0' && c <= '9'; };
  auto hex = [](char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; };
  auto oct = [](char c) { return c >= '0' && c <= '7'; };
  auto bin = [](char c) { return c == '0' || c == '1'; };
  if (s.size() > 1 && s[0] == '0') {
    char p = static_cast<char>(std::tolower(static_cast<unsigned char>(s[1])));
    if (p == 'x') return all(2, hex);
    if (p == 'o') return all(2, oct);
    if (p == 'b') return all(2, bin);
    return all(1, oct);
  }
  return all(0, dec);
}

bool ResolvesToString(const std::string& s) {
  static const std::set<std::string> kSpecial = {
      "y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO", "true", "True", "TRUE",
      "false", "False", "FALSE", "on", "On", "ON", "off", "Off", "OFF", "", "~", "null", "Null",
      "NULL", ".nan", ".NaN", ".NAN", ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF", "-.inf",
      "-.Inf", "-.INF"};
  if (kSpecial.count(s)) return false;
  char c = s[0];
  if (c == '.') {
    static const std::regex kDotFloat(R"(^\.[0-9]+([eE][-+]?[0-9]+)?$)");
    return !std::regex_match(s, kDotFloat);
  }
  if (c == '+' || c == '-' || (c >= '0' && c <= '9')) {
    if (IsTimestamp(s)) return false;
    if (IsGoInt(s)) return false;
    std::string plain = s;
    plain.erase(std::remove(plain.begin(), plain.end(), '_'), plain.end());
    static const std::regex kFloat(R"(^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$)");
    if (std::regex_match(plain, kFloat)) return false;
    static const std::regex kBase60(R"(^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$)");
    if (std::regex_match(s, kBase60)) return false;  // go-yaml quotes these for YAML 1.1
  }
  return true;
}

// ---- libyaml's scalar analysis.

struct Analysis {
  bool multiline = false;
  bool block_plain_allowed = true;
  bool single_quoted_allowed = true;
  bool block_allowed = true;
};

Analysis Analyze(const std::vector<char32_t>& s) {
  Analysis a;
  if (s.empty()) return a;
  bool block_indicators = false;
  bool flow_indicators = false;
  bool line_breaks = false;
  bool special = false;
  bool leading_space = false, leading_break = false, trailing_space = false,
       trailing_break = false, break_space = false, space_break = false;
  bool previous_space = false, previous_break = false;
  if (s.size() >= 3 && ((s[0] == '-' && s[1] == '-' && s[2] == '-') ||
                        (s[0] == '.' && s[1] == '.' && s[2] == '.'))) {
    block_indicators = flow_indicators = true;
  }
  bool preceded_by_whitespace = true;
  auto at = [&](size_t i) -> char32_t { return i < s.size() ? s[i] : 0; };
  bool followed_by_whitespace = IsBlankz(at(1));
  for (size_t i = 0; i < s.size(); ++i) {
    char32_t c = s[i];
    if (i == 0) {
      if (std::u32string_view(U"#,[]{}&*!|>'\"%@`").find(c) != std::u32string_view::npos) {
        flow_indicators = block_indicators = true;
      }
      if (c == '?' || c == ':') {
        flow_indicators = true;
        if (followed_by_whitespace) block_indicators = true;
      }
      if (c == '-' && followed_by_whitespace) flow_indicators = block_indicators = true;
    } else {
      if (std::u32string_view(U",?[]{}").find(c) != std::u32string_view::npos) {
        flow_indicators = true;
      }
      if (c == ':') {
        flow_indicators = true;
        if (followed_by_whitespace) block_indicators = true;
      }
      if (c == '#' && preceded_by_whitespace) flow_indicators = block_indicators = true;
    }
    if (!IsPrintable(c)) special = true;
    if (IsBreak(c)) line_breaks = true;
    bool last = i + 1 == s.size();
    if (IsSpace(c)) {
      if (i == 0) leading_space = true;
      if (last) trailing_space = true;
      if (previous_break) break_space = true;
      previous_space = true;
      previous_break = false;
    } else if (IsBreak(c)) {
      if (i == 0) leading_break = true;
      if (last) trailing_break = true;
      if (previous_space) space_break = true;
      previous_break = true;
      previous_space = false;
    } else {
      previous_space = previous_break = false;
    }
    preceded_by_whitespace = IsBlankz(c);
    followed_by_whitespace = IsBlankz(at(i + 2));
  }
  a.multiline = line_breaks;
  if (leading_space || leading_break || trailing_space || trailing_break) {
    a.block_plain_allowed = false;
  }
  if (trailing_space) a.block_allowed = false;
  if (break_space) a.block_plain_allowed = a.single_quoted_allowed = false;
  if (space_break || special) {
    a.block_plain_allowed = a.single_quoted_allowed = a.block_allowed = false;
  }
  if (line_breaks) a.block_plain_allowed = false;
  (void)flow_indicators;  // only block context here
  if (block_indicators) a.block_plain_allowed = false;
  return a;
}

enum class Style { kPlain, kSingle, kDouble, kLiteral };

Style ChooseStyle(const std::string& s, const std::vector<char32_t>& cps, bool simple_key) {
  Style style;
  if (s.find('\n') != std::string::npos) {
    style = Style::kLiteral;
  } else if (!ResolvesToString(s)) {
    style = Style::kDouble;
  } else {
    style = Style::kPlain;
  }
  Analysis a = Analyze(cps);
  if (style == Style::kPlain) {
    if (!a.block_plain_allowed) style = Style::kSingle;
    if (cps.empty() && simple_key) style = Style::kSingle;
  }
  if (style == Style::kSingle && !a.single_quoted_allowed) style = Style::kDouble;
  if (style == Style::kLiteral && (!a.block_allowed || simple_key)) style = Style::kDouble;
  return style;
}

// ---- Writing.

class Emitter {
 public:
  std::string out;

  size_t Column() const {
    size_t nl = out.rfind('\n');
    size_t start = nl == std::string::npos ? 0 : nl + 1;
    size_t n = 0;
    for (size_t i = start; i < out.size(); ++i) {
      if ((static_cast<unsigned char>(out[i]) & 0xC0) != 0x80) ++n;
    }
    return n;
  }

  void Indent(size_t indent) { out.append(indent, ' '); }

  // A scalar string at the current position; `indent` is where folded and
  // block lines continue. Ends without a newline unless the scalar itself
  // ends a line (literal blocks keeping their final break).
  void String(const std::string& s, size_t indent, bool simple_key) {
    std::vector<char32_t> cps = Decode(s);
    switch (ChooseStyle(s, cps, simple_key)) {
      case Style::kPlain:
        Plain(cps, indent, !simple_key);
        break;
      case Style::kSingle:
        Single(cps, indent, !simple_key);
        break;
      case Style::kDouble:
        Double(cps, indent, !simple_key);
        break;
      case Style::kLiteral:
        Literal(cps, indent);
        break;
    }
  }

 private:
  void Break(size_t indent, size_t* column) {
    out += '\n';
    Indent(indent);
    *column = indent;
  }

  void Put(char32_t c, size_t* column) {
    Encode(c, &out);
    ++*column;
  }

  void Plain(const std::vector<char32_t>& s, size_t indent, bool allow_breaks) {
    size_t column = Column();
    bool spaces = false;
    for (size_t i = 0; i < s.size(); ++i) {
      if (IsSpace(s[i])) {
        bool next_space = i + 1 < s.size() && IsSpace(s[i + 1]);
        if (allow_breaks && !spaces && column > kBestWidth && !next_space) {
          Break(indent, &column);
        } else {
          Put(s[i], &column);
        }
        spaces = true;
      } else {
        Put(s[i], &column);
        spaces = false;
      }
    }
  }

  void Single(const std::vector<char32_t>& s, size_t indent, bool allow_breaks) {
    size_t column = Column();
    Put('\'', &column);
    bool spaces = false;
    for (size_t i = 0; i < s.size(); ++i) {
      if (IsSpace(s[i])) {
        bool next_space = i + 1 < s.size() && IsSpace(s[i + 1]);
        if (allow_breaks && !spaces && column > kBestWidth && i != 0 && i + 1 != s.size() &&
            !next_space) {
          Break(indent, &column);
        } else {
          Put(s[i], &column);
        }
        spaces = true;
      } else {
        if (s[i] == '\'') Put('\'', &column);
        Put(s[i], &column);
        spaces = false;
      }
    }
    Put('\'', &column);
  }

  void Double(const std::vector<char32_t>& s, size_t indent, bool allow_breaks) {
    size_t column = Column();
    Put('"', &column);
    bool spaces = false;
    for (size_t i = 0; i < s.size(); ++i) {
      char32_t c = s[i];
      if (!IsPrintable(c) || c == 0xFEFF || IsBreak(c) || c == '"' || c == '\\') {
        std::string esc;
        switch (c) {
          case 0x00: esc = "\\0"; break;
          case 0x07: esc = "\\a"; break;
          case 0x08: esc = "\\b"; break;
          case 0x09: esc = "\\t"; break;
          case 0x0A: esc = "\\n"; break;
          case 0x0B: esc = "\\v"; break;
          case 0x0C: esc = "\\f"; break;
          case 0x0D: esc = "\\r"; break;
          case 0x1B: esc = "\\e"; break;
          case '"': esc = "\\\""; break;
          case '\\': esc = "\\\\"; break;
          case 0x85: esc = "\\N"; break;
          case 0xA0: esc = "\\_"; break;
          case 0x2028: esc = "\\L"; break;
          case 0x2029: esc = "\\P"; break;
          default: {
            char buf[16];
            if (c <= 0xFF) {
              std::snprintf(buf, sizeof(buf), "\\x%02X", static_cast<unsigned>(c));
            } else if (c <= 0xFFFF) {
              std::snprintf(buf, sizeof(buf), "\\u%04X", static_cast<unsigned>(c));
            } else {
              std::snprintf(buf, sizeof(buf), "\\U%08X", static_cast<unsigned>(c));
            }
            esc = buf;
          }
        }
        out += esc;
        column += esc.size();
        spaces = false;
      } else if (IsSpace(c)) {
        if (allow_breaks && !spaces && column > kBestWidth && i != 0 && i + 1 != s.size()) {
          Break(indent, &column);
          if (i + 1 < s.size() && IsSpace(s[i + 1])) Put('\\', &column);
        } else {
          Put(c, &column);
        }
        spaces = true;
      } else {
        Put(c, &column);
        spaces = false;
      }
    }
    Put('"', &column);
  }

  void Literal(const std::vector<char32_t>& s, size_t indent) {
    out += '|';
    if (!s.empty() && (IsSpace(s[0]) || IsBreak(s[0]))) out += std::to_string(kBestIndent);
    if (s.empty() || !IsBreak(s.back())) {
      out += '-';
    } else if (s.size() == 1 || IsBreak(s[s.size() - 2])) {
      out += '+';
    }
    out += '\n';
    bool breaks = true;
    for (char32_t c : s) {
      if (IsBreak(c)) {
        out += '\n';
        breaks = true;
      } else {
        if (breaks) Indent(indent);
        Encode(c, &out);
        breaks = false;
      }
    }
  }
};

// Go's strconv.FormatFloat(f, 'g', -1, 64), as go-yaml writes floats.
std::string GoFloat(double d) {
  if (std::isnan(d)) return ".nan";
  if (std::isinf(d)) return d > 0 ? ".inf" : "-.inf";
  if (d == 0) return std::signbit(d) ? "-0" : "0";
  // JSON writes integral floats as integers, and go-yaml reads them back so.
  if (std::fabs(d) < 1e21 && d == std::trunc(d)) return std::to_string(static_cast<int64_t>(d));
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof(buf), d, std::chars_format::scientific);
  std::string sci(buf, r.ptr);
  size_t e = sci.find('e');
  std::string mant = sci.substr(0, e);
  int exp = std::stoi(sci.substr(e + 1));
  if (exp < -4 || exp >= 6) {
    // %e with Go's at-least-two-digit exponent, as to_chars writes it.
    return sci;
  }
  auto f = std::to_chars(buf, buf + sizeof(buf), d, std::chars_format::fixed);
  return std::string(buf, f.ptr);
}

void EmitNode(Emitter& e, const Json& v, size_t indent, bool positioned);

// A scalar or empty collection after "key: " or "- ".
void EmitScalar(Emitter& e, const Json& v, size_t indent) {
  if (v.is_string()) {
    e.String(v.get<std::string>(), indent, false);
  } else if (v.is_null()) {
    e.out += "null";
  } else if (v.is_boolean()) {
    e.out += v.get<bool>() ? "true" : "false";
  } else if (v.is_number_float()) {
    e.out += GoFloat(v.get<double>());
  } else if (v.is_number()) {
    e.out += v.dump();
  } else if (v.is_object()) {
    e.out += "{}";
  } else {
    e.out += "[]";
  }
  if (e.out.empty() || e.out.back() != '\n') e.out += '\n';
}

bool IsCollection(const Json& v) {
  return (v.is_object() || v.is_array()) && !v.empty();
}

// A mapping at `indent`; with `positioned` the first key goes where the
// cursor is (after "- ").
void EmitMapping(Emitter& e, const Json& obj, size_t indent, bool positioned) {
  bool first = true;
  for (const auto& [key, value] : obj.items()) {
    if (!(first && positioned)) e.Indent(indent);
    first = false;
    e.String(key, indent + kBestIndent, /*simple_key=*/true);
    e.out += ':';
    if (IsCollection(value)) {
      e.out += '\n';
      EmitNode(e, value, value.is_array() ? indent : indent + kBestIndent, false);
    } else {
      e.out += ' ';
      EmitScalar(e, value, indent + kBestIndent);
    }
  }
}

void EmitSequence(Emitter& e, const Json& arr, size_t indent, bool positioned) {
  bool first = true;
  for (const auto& item : arr) {
    if (!(first && positioned)) e.Indent(indent);
    first = false;
    e.out += "- ";
    if (IsCollection(item)) {
      EmitNode(e, item, indent + kBestIndent, true);
    } else {
      EmitScalar(e, item, indent + kBestIndent);
    }
  }
}

void EmitNode(Emitter& e, const Json& v, size_t indent, bool positioned) {
  if (v.is_object() && !v.empty()) {
    EmitMapping(e, v, indent, positioned);
  } else if (v.is_array() && !v.empty()) {
    EmitSequence(e, v, indent, positioned);
  } else {
    EmitScalar(e, v, indent);
  }
}

}  // namespace

std::string KubectlYaml(const Json& doc) {
  Emitter e;
  EmitNode(e, doc, 0, false);
  return e.out;
}

}  // namespace lintel::cli
