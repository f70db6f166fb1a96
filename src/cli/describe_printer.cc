#include "cli/describe_printer.h"

#include <algorithm>
#include <cctype>
#include <set>
#include <sstream>

#include "cli/tab_writer.h"
#include "cli/text.h"
#include "common/time_format.h"

namespace lintel::cli {

namespace {

constexpr char kLastApplied[] = "kubectl.kubernetes.io/last-applied-configuration";
constexpr size_t kMaxAnnotationLen = 140;

std::string Indent(int level) { return std::string(static_cast<size_t>(level) * 2, ' '); }

enum class CharClass { kLower, kUpper, kDigit, kOther };

CharClass Classify(char c) {
  auto u = static_cast<unsigned char>(c);
  if (std::islower(u)) return CharClass::kLower;
  if (std::isupper(u)) return CharClass::kUpper;
  if (std::isdigit(u)) return CharClass::kDigit;
  return CharClass::kOther;
}

// fatih/camelcase.Split: runs of one character class; an upper-case run
// followed by lower case gives its last letter to the next word
// ("HTTPServer" -> HTTP, Server).
std::vector<std::string> CamelSplit(std::string_view s) {
  std::vector<std::string> runs;
  std::vector<CharClass> classes;
  for (char c : s) {
    CharClass cls = Classify(c);
    if (!classes.empty() && classes.back() == cls) {
      runs.back().push_back(c);
    } else {
      runs.emplace_back(1, c);
      classes.push_back(cls);
    }
  }
  for (size_t i = 0; i + 1 < runs.size(); ++i) {
    if (classes[i] == CharClass::kUpper && classes[i + 1] == CharClass::kLower) {
      runs[i + 1].insert(runs[i + 1].begin(), runs[i].back());
      runs[i].pop_back();
    }
  }
  std::vector<std::string> out;
  for (auto& r : runs) {
    if (!r.empty()) out.push_back(std::move(r));
  }
  return out;
}

// Go's fmt %v for JSON scalars as unstructured objects hold them.
std::string Scalar(const Json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_null()) return "<nil>";
  if (v.is_boolean()) return v.get<bool>() ? "true" : "false";
  if (v.is_number_float()) {
    double d = v.get<double>();
    if (d == static_cast<double>(static_cast<int64_t>(d)) && d < 1e21 && d > -1e21) {
      return std::to_string(static_cast<int64_t>(d));
    }
  }
  return v.dump();
}

std::string Since(const Json& ts, std::chrono::system_clock::time_point now) {
  if (!ts.is_string()) return "<unknown>";
  auto t = ParseRfc3339(ts.get<std::string>());
  if (!t) return "<unknown>";
  return HumanDuration(now - *t);
}

bool IsConditionList(const Json& list) {
  if (!list.is_array() || list.empty()) return false;
  return std::all_of(list.begin(), list.end(), [](const Json& c) {
    return c.is_object() && c.contains("type") && c.contains("status");
  });
}

class Describer {
 public:
  Describer(std::ostream& out, std::chrono::system_clock::time_point now)
      : w_(out, 0, 2), now_(now) {}

  void Line(int level, const std::string& text) { w_.Write(Indent(level) + text); }

  void Header(const Json& obj) {
    const Json& meta = obj.contains("metadata") ? obj["metadata"] : Json::object();
    Line(0, "Name:\t" + Scalar(meta.value("name", Json(""))) + "\n");
    Line(0, "Namespace:\t" + Scalar(meta.value("namespace", Json(""))) + "\n");
    Labels(meta.contains("labels") ? meta["labels"] : Json::object());
    Annotations(meta.contains("annotations") ? meta["annotations"] : Json::object());
  }

  void Labels(const Json& labels) {
    Line(0, "Labels:\t");
    if (!labels.is_object() || labels.empty()) {
      w_.Write("<none>\n");
      return;
    }
    bool first = true;
    for (const auto& [k, v] : labels.items()) {
      if (!first) w_.Write("\t");
      first = false;
      w_.Write(k + "=" + Scalar(v) + "\n");
    }
  }

  void Annotations(const Json& annotations) {
    Line(0, "Annotations:\t");
    std::vector<std::pair<std::string, std::string>> items;
    if (annotations.is_object()) {
      for (const auto& [k, v] : annotations.items()) {
        if (k != kLastApplied) items.emplace_back(k, Scalar(v));
      }
    }
    if (items.empty()) {
      w_.Write("<none>\n");
      return;
    }
    for (size_t i = 0; i < items.size(); ++i) {
      const auto& [key, raw] = items[i];
      if (i != 0) w_.Write("\t");
      std::string value = raw;
      if (EndsWith(value, "\n")) value.pop_back();
      if (value.size() + key.size() + 2 > kMaxAnnotationLen ||
          value.find('\n') != std::string::npos) {
        w_.Write(key + ":\n");
        for (const auto& part : Split(value, '\n')) {
          std::string s = part.size() > kMaxAnnotationLen - 2
                              ? part.substr(0, kMaxAnnotationLen - 2) + "..."
                              : part;
          w_.Write("\t  " + s + "\n");
        }
      } else {
        w_.Write(key + ": " + value + "\n");
      }
    }
  }

  // kubectl's printUnstructuredContent, with conditions as a table.
  void Content(int level, const Json& content, const std::string& prefix,
               const std::set<std::string>& skip) {
    for (const auto& [field, value] : content.items()) {
      std::string path = prefix + "." + field;
      if (skip.count(path)) continue;
      if (value.is_object()) {
        Line(level, SmartLabel(field) + ":\n");
        Content(level + 1, value, path, skip);
      } else if (value.is_array()) {
        Line(level, SmartLabel(field) + ":\n");
        if (IsConditionList(value)) {
          Conditions(level + 1, value);
          continue;
        }
        for (const auto& child : value) {
          if (child.is_object()) {
            Content(level + 1, child, path, skip);
          } else {
            Line(level + 1, Scalar(child) + "\n");
          }
        }
      } else {
        Line(level, SmartLabel(field) + ":\t" + Scalar(value) + "\n");
      }
    }
  }

  void Conditions(int level, const Json& conditions) {
    w_.Flush();
    Line(level, "Type\tStatus\tReason\tAge\tMessage\n");
    Line(level, "----\t------\t------\t---\t-------\n");
    for (const auto& c : conditions) {
      std::string age = c.contains("lastTransitionTime") ? Since(c["lastTransitionTime"], now_)
                                                          : "<unknown>";
      Line(level, Scalar(c["type"]) + "\t" + Scalar(c["status"]) + "\t" +
                      Scalar(c.value("reason", Json(""))) + "\t" + age + "\t" +
                      std::string(TrimSpace(Scalar(c.value("message", Json(""))))) + "\n");
    }
    w_.Flush();
  }

  // kubectl's DescribeEvents.
  void Events(std::vector<Json> events) {
    if (events.empty()) {
      Line(0, "Events:\t<none>\n");
      return;
    }
    w_.Flush();
    std::stable_sort(events.begin(), events.end(), [](const Json& a, const Json& b) {
      auto ta = ParseRfc3339(StringAt(a, "/lastTimestamp"));
      auto tb = ParseRfc3339(StringAt(b, "/lastTimestamp"));
      return ta.value_or(std::chrono::system_clock::time_point{}) <
             tb.value_or(std::chrono::system_clock::time_point{});
    });
    Line(0, "Events:\n");
    Line(1, "Type\tReason\tAge\tFrom\tMessage\n");
    Line(1, "----\t------\t----\t----\t-------\n");
    for (const auto& e : events) {
      std::string first = StringAt(e, "/eventTime").empty()
                              ? Since(e.value("firstTimestamp", Json()), now_)
                              : Since(e["eventTime"], now_);
      int64_t count = e.contains("count") && e["count"].is_number() ? e["count"].get<int64_t>()
                                                                     : 0;
      std::string interval = first;
      if (count > 1) {
        interval = Since(e.value("lastTimestamp", Json()), now_) + " (x" +
                   std::to_string(count) + " over " + first + ")";
      }
      std::string source = StringAt(e, "/source/component");
      if (source.empty()) source = StringAt(e, "/reportingComponent");
      std::string message(TrimSpace(StringAt(e, "/message")));
      Line(1, StringAt(e, "/type") + "\t" + StringAt(e, "/reason") + "\t" + interval + "\t" +
                  source + "\t" + message + "\n");
    }
  }

  void Flush() { w_.Flush(); }

 private:
  TabWriter w_;
  std::chrono::system_clock::time_point now_;
};

}  // namespace

std::string SmartLabel(std::string_view field) {
  bool plain = std::all_of(field.begin(), field.end(), [](char c) {
    return std::isalpha(static_cast<unsigned char>(c)) || c == '-';
  });
  if (!plain) return std::string(field);
  static const std::set<std::string> kAcronyms = {"API", "URL", "UID", "OSB", "GUID"};
  std::vector<std::string> parts;
  for (auto& part : CamelSplit(field)) {
    if (part == "_") continue;
    std::string upper = ToUpper(part);
    if (kAcronyms.count(upper)) {
      part = upper;
    } else {
      part[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(part[0])));
    }
    parts.push_back(std::move(part));
  }
  return Join(parts, " ");
}

std::string DescribeObject(const Json& obj, const std::vector<Json>& events, bool show_events,
                           std::chrono::system_clock::time_point now) {
  std::ostringstream out;
  {
    Describer d(out, now);
    d.Header(obj);
    d.Content(0, obj.is_object() ? obj : Json::object(), "",
              {".metadata.managedFields", ".metadata.name", ".metadata.namespace",
               ".metadata.labels", ".metadata.annotations"});
    if (show_events) d.Events(events);
    d.Flush();
  }
  return out.str();
}

}  // namespace lintel::cli
