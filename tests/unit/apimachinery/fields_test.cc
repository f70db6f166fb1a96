#include "apimachinery/fields.h"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

namespace lintel::apimachinery {
namespace {

using FieldMap = std::map<std::string, std::string, std::less<>>;

TEST(FieldSelectorParseTest, Requirements) {
  struct Case {
    std::string input;
    std::vector<FieldRequirement> want;
    std::string canonical;
  };
  const auto eq = FieldOperator::kEquals;
  const auto ne = FieldOperator::kNotEquals;
  const std::vector<Case> cases = {
      {"", {}, ""},
      {",", {}, ""},
      {"metadata.name=web", {{"metadata.name", eq, "web"}}, "metadata.name=web"},
      {"metadata.name==web", {{"metadata.name", eq, "web"}}, "metadata.name=web"},
      {"status.phase!=Running", {{"status.phase", ne, "Running"}}, "status.phase!=Running"},
      {"status.phase!=Running,metadata.name=x",
       {{"metadata.name", eq, "x"}, {"status.phase", ne, "Running"}},
       "metadata.name=x,status.phase!=Running"},
      {"a=", {{"a", eq, ""}}, "a="},
      {"=x", {{"", eq, "x"}}, "=x"},
      {"a=b,", {{"a", eq, "b"}}, "a=b"},
      {"a=x\\,y", {{"a", eq, "x,y"}}, "a=x\\,y"},
      {"a=x\\=y", {{"a", eq, "x=y"}}, "a=x\\=y"},
      {"a=x\\\\y", {{"a", eq, "x\\y"}}, "a=x\\\\y"},
      {"a!=\\,\\=\\\\", {{"a", ne, ",=\\"}}, "a!=\\,\\=\\\\"},
      // Nothing is trimmed: the field is "a " (for the caller to reject), the value " b".
      {"a = b", {{"a ", eq, " b"}}, "a = b"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE("\"" + c.input + "\"");
    auto s = FieldSelector::Parse(c.input);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    EXPECT_EQ(s->requirements(), c.want);
    EXPECT_EQ(s->ToString(), c.canonical);
    EXPECT_EQ(s->Empty(), c.want.empty());
    auto again = FieldSelector::Parse(s->ToString());
    ASSERT_TRUE(again.ok());
    EXPECT_EQ(*again, *s);
  }
}

TEST(FieldSelectorParseTest, Errors) {
  struct Case {
    std::string input;
    std::string message;
  };
  const std::vector<Case> cases = {
      {"metadata.name", "invalid selector: 'metadata.name'; can't understand 'metadata.name'"},
      {"a=b,c", "invalid selector: 'a=b,c'; can't understand 'c'"},
      {"a=b=c", "invalid field selector: unescaped character in value: ="},
      // The first operator wins ("!=" is tried before "=" at each position), leaving "=b".
      {"a!==b", "invalid field selector: unescaped character in value: ="},
      {"a=,b", "invalid selector: 'a=,b'; can't understand 'b'"},
      {"a=b\\", "invalid field selector: invalid escape sequence: \\"},
      {"a=b\\n", "invalid field selector: invalid escape sequence: \\n"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE("\"" + c.input + "\"");
    auto s = FieldSelector::Parse(c.input);
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(s.error().code(), Code::kBadRequest);
    EXPECT_EQ(s.error().message(), c.message);
  }
}

TEST(FieldSelectorMatchTest, Table) {
  struct Case {
    std::string selector;
    FieldMap fields;
    bool want;
  };
  const std::vector<Case> cases = {
      {"", {}, true},
      {"metadata.name=web", {{"metadata.name", "web"}}, true},
      {"metadata.name=web", {{"metadata.name", "db"}}, false},
      {"metadata.name=web", {}, false},
      {"metadata.name!=web", {{"metadata.name", "db"}}, true},
      {"metadata.name!=web", {{"metadata.name", "web"}}, false},
      {"metadata.name!=web", {}, true},
      {"spec.nodeName=", {}, true},  // a missing field reads as ""
      {"spec.nodeName=", {{"spec.nodeName", "n1"}}, false},
      {"spec.nodeName!=", {{"spec.nodeName", "n1"}}, true},
      {"a=x\\,y", {{"a", "x,y"}}, true},
      {"metadata.name=web,status.phase!=Running",
       {{"metadata.name", "web"}, {"status.phase", "Pending"}},
       true},
      {"metadata.name=web,status.phase!=Running",
       {{"metadata.name", "web"}, {"status.phase", "Running"}},
       false},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE("\"" + c.selector + "\"");
    auto s = FieldSelector::Parse(c.selector);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    EXPECT_EQ(s->Matches(c.fields), c.want);
    int calls = 0;
    FieldGetter get = [&](std::string_view field) -> std::optional<std::string_view> {
      ++calls;
      auto it = c.fields.find(field);
      if (it == c.fields.end()) {
        return std::nullopt;
      }
      return std::string_view(it->second);
    };
    EXPECT_EQ(s->Matches(get), c.want);
    EXPECT_LE(calls, static_cast<int>(s->requirements().size()));
  }
}

TEST(FieldSelectorTest, FieldsAreDistinctAndSorted) {
  auto s = FieldSelector::Parse("status.phase!=Running,metadata.name=a,metadata.name!=b");
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->Fields(), (std::vector<std::string>{"metadata.name", "status.phase"}));
}

TEST(FieldSelectorTest, RequiresExactMatch) {
  auto s = FieldSelector::Parse("spec.nodeName==n1,metadata.name!=x");
  ASSERT_TRUE(s.ok());
  auto v = s->RequiresExactMatch("spec.nodeName");
  ASSERT_TRUE(v.has_value());
  EXPECT_EQ(*v, "n1");
  EXPECT_FALSE(s->RequiresExactMatch("metadata.name").has_value());
  EXPECT_FALSE(s->RequiresExactMatch("status.phase").has_value());
}

TEST(FieldSelectorTest, AddBuildsSelectors) {
  FieldSelector s;
  s.Add({"spec.nodeName", FieldOperator::kEquals, "n,1"});
  s.Add({"metadata.namespace", FieldOperator::kNotEquals, "kube-system"});
  EXPECT_EQ(s.ToString(), "metadata.namespace!=kube-system,spec.nodeName=n\\,1");
  EXPECT_TRUE(s.Matches(FieldMap{{"spec.nodeName", "n,1"}, {"metadata.namespace", "default"}}));
}

TEST(FieldValueEscapingTest, RoundTrip) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"", ""},         {"plain", "plain"}, {"a,b", "a\\,b"},
      {"a=b", "a\\=b"}, {"a\\b", "a\\\\b"}, {",=\\", "\\,\\=\\\\"},
  };
  for (const auto& [raw, escaped] : cases) {
    SCOPED_TRACE(raw);
    EXPECT_EQ(EscapeFieldValue(raw), escaped);
    auto back = UnescapeFieldValue(escaped);
    ASSERT_TRUE(back.ok());
    EXPECT_EQ(*back, raw);
  }
  EXPECT_FALSE(UnescapeFieldValue("a,b").ok());
  EXPECT_FALSE(UnescapeFieldValue("\\x").ok());
}

}  // namespace
}  // namespace lintel::apimachinery
