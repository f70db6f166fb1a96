#include "apimachinery/labels.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <new>
#include <string>
#include <utility>
#include <vector>

// Counts allocations so that a test can assert that matching makes none. Forwards to
// malloc/free, which the sanitizers still track.
namespace {
std::atomic<long> g_allocations{0};
}  // namespace

// GCC cannot see that these replacements pair malloc with free and warns when it inlines them.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
void* operator new(std::size_t size) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(size == 0 ? 1 : size)) {
    return p;
  }
  throw std::bad_alloc();
}
void* operator new(std::size_t size, const std::nothrow_t&) noexcept {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  return std::malloc(size == 0 ? 1 : size);
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
#pragma GCC diagnostic pop

namespace lintel::apimachinery {
namespace {

using Pairs = std::vector<std::pair<std::string, std::string>>;

// Parses or fails the test.
LabelSelector MustParse(std::string_view text) {
  auto s = LabelSelector::Parse(text);
  EXPECT_TRUE(s.ok()) << text << ": " << s.status().ToString();
  return s.ok() ? *s : LabelSelector::Nothing();
}

TEST(LabelSelectorParseTest, CanonicalForms) {
  struct Case {
    std::string input;
    std::string canonical;
  };
  const std::vector<Case> cases = {
      {"", ""},
      {"   ", ""},
      {"x=a", "x=a"},
      {"x==a", "x==a"},
      {"x!=a", "x!=a"},
      {"x", "x"},
      {"!x", "!x"},
      {"x in (a)", "x in (a)"},
      {"x in (b,a)", "x in (a,b)"},
      {"x notin (b,a,b)", "x notin (a,b)"},
      {"x>1", "x>1"},
      {"  x = a ,  y  !=  b  ", "x=a,y!=b"},
      {"y=b,x=a", "x=a,y=b"},
      {"x in(a,b),y", "x in (a,b),y"},
      {"x in ( a , b )", "x in (a,b)"},
      {"x=", "x="},
      {"x=,y=b", "x=,y=b"},
      {"x in ()", "x in ()"},
      {"x in (,a)", "x in (,a)"},
      {"x in (a,)", "x in (,a)"},
      {"x in (a,,b)", "x in (,a,b)"},
      {"in in (in),notin notin (notin)", "in in (in),notin notin (notin)"},
      {"example.com/app=web", "example.com/app=web"},
      {"x=a,x!=b", "x=a,x!=b"},
      {"\tx\n=\ra", "x=a"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE("\"" + c.input + "\"");
    auto s = LabelSelector::Parse(c.input);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    EXPECT_EQ(s->ToString(), c.canonical);
    // The canonical form parses back to the same selector.
    auto again = LabelSelector::Parse(s->ToString());
    ASSERT_TRUE(again.ok());
    EXPECT_EQ(*again, *s);
  }
}

TEST(LabelSelectorParseTest, Errors) {
  const std::string key_error =
      "unable to parse requirement: key: Invalid value: \"a/b/c\": a qualified name must consist "
      "of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric "
      "character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is "
      "'([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain prefix and '/' "
      "(e.g. 'example.com/MyName')";
  struct Case {
    std::string input;
    std::string message;
  };
  const std::vector<Case> cases = {
      {"x y", "unable to parse requirement: found 'y', expected: in, notin, =, ==, !=, gt, lt"},
      {"x=a y", "found 'y', expected: ',' or 'end of string'"},
      {"x=a,", "found '', expected: identifier after ','"},
      {"x=a,,y", "found ',', expected: identifier after ','"},
      {",x", "found ',', expected: !, identifier, or 'end of string'"},
      {"=a", "found '=', expected: !, identifier, or 'end of string'"},
      {"!x=a", "found '=', expected: ',' or 'end of string'"},
      {"!", "unable to parse requirement: found '', expected: identifier"},
      {"!=a", "found '!=', expected: !, identifier, or 'end of string'"},
      {"x in a", "unable to parse requirement: found 'a' expected: '('"},
      {"x in (a", "unable to parse requirement: found '', expected: ',' or ')'"},
      {"x in (a b)", "unable to parse requirement: found 'b', expected: ',' or ')'"},
      {"x in (=)", "unable to parse requirement: found '=', expected: ',', ')' or identifier"},
      {"x in (a,=)", "unable to parse requirement: found '=', expected: ',', or identifier"},
      {"x==(a)", "unable to parse requirement: found '(', expected: identifier"},
      {"x=a=b", "found '=', expected: ',' or 'end of string'"},
      {"x>a",
       "unable to parse requirement: values[0]: Invalid value: \"a\": for 'Gt', 'Lt' operators, "
       "the value must be an integer"},
      {"x=a b", "found 'b', expected: ',' or 'end of string'"},
      {"x=-a",
       "unable to parse requirement: values[0][x]: Invalid value: \"-a\": a valid label must be an "
       "empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and "
       "end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex "
       "used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"},
      {"a/b/c=x", key_error},
      // Gt/Lt operands are label values too, so a negative bound is refused, as in kube.
      {"x<-1",
       "unable to parse requirement: values[0][x]: Invalid value: \"-1\": a valid label must be an "
       "empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and "
       "end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex "
       "used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE("\"" + c.input + "\"");
    auto s = LabelSelector::Parse(c.input);
    ASSERT_FALSE(s.ok()) << s->ToString();
    EXPECT_EQ(s.error().code(), Code::kBadRequest);
    EXPECT_EQ(s.error().message(), c.message);
  }
}

TEST(LabelSelectorMatchTest, Table) {
  struct Case {
    std::string selector;
    Pairs labels;
    bool want;
  };
  const std::vector<Case> cases = {
      {"", {}, true},
      {"", {{"a", "b"}}, true},
      {"x=a", {{"x", "a"}}, true},
      {"x=a", {{"x", "b"}}, false},
      {"x=a", {}, false},
      {"x==a", {{"x", "a"}, {"y", "z"}}, true},
      {"x!=a", {{"x", "b"}}, true},
      {"x!=a", {{"x", "a"}}, false},
      {"x!=a", {}, true},  // absent labels satisfy !=
      {"x=", {{"x", ""}}, true},
      {"x=", {}, false},
      {"x in (a,b)", {{"x", "b"}}, true},
      {"x in (a,b)", {{"x", "c"}}, false},
      {"x in (a,b)", {}, false},
      {"x notin (a,b)", {{"x", "c"}}, true},
      {"x notin (a,b)", {{"x", "a"}}, false},
      {"x notin (a,b)", {}, true},
      {"x in ()", {{"x", ""}}, true},
      {"x", {{"x", ""}}, true},
      {"x", {{"y", "x"}}, false},
      {"!x", {{"y", "x"}}, true},
      {"!x", {{"x", "a"}}, false},
      {"x>1", {{"x", "2"}}, true},
      {"x>1", {{"x", "1"}}, false},
      {"x>1", {{"x", "abc"}}, false},
      {"x>1", {}, false},
      {"x<10", {{"x", "-3"}}, true},
      {"x<10", {{"x", "+9"}}, true},
      {"x<10", {{"x", "10"}}, false},
      {"x=a,y=b", {{"y", "b"}, {"x", "a"}}, true},
      {"x=a,y=b", {{"x", "a"}}, false},
      {"x=a,!z", {{"x", "a"}, {"z", ""}}, false},
      {"x=a,x!=a", {{"x", "a"}}, false},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE("\"" + c.selector + "\"");
    auto s = LabelSelector::Parse(c.selector);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    EXPECT_EQ(s->Matches(c.labels), c.want);
    Json object = Json::object();
    for (const auto& [k, v] : c.labels) {
      object[k] = v;
    }
    EXPECT_EQ(s->Matches(object), c.want) << object.dump();
  }
}

TEST(LabelSelectorMatchTest, MatchingDoesNotAllocate) {
  auto s = MustParse("app=web,tier in (fe,be),!canary,zone notin (z1),replicas>2,env");
  const Pairs pairs = {
      {"zone", "z2"}, {"env", "prod"}, {"app", "web"}, {"tier", "fe"}, {"replicas", "3"}};
  Json object = Json::object();
  for (const auto& [k, v] : pairs) {
    object[k] = v;
  }
  const long before = g_allocations.load();
  bool all = true;
  for (int i = 0; i < 100; ++i) {
    all = all && s.Matches(pairs) && s.Matches(object);
  }
  EXPECT_EQ(g_allocations.load() - before, 0);
  EXPECT_TRUE(all);
}

TEST(LabelSelectorMatchTest, JsonEdgeCases) {
  auto s = MustParse("x=a");
  EXPECT_FALSE(s.Matches(Json()));              // no labels
  EXPECT_FALSE(s.Matches(Json::array({"x"})));  // not an object
  EXPECT_FALSE(s.Matches(Json{{"x", 1}}));      // non-string counts as absent
  EXPECT_TRUE(MustParse("!x").Matches(Json{{"x", 1}}));
  EXPECT_TRUE(LabelSelector::Everything().Matches(Json()));
}

TEST(LabelSelectorTest, EverythingAndNothing) {
  EXPECT_TRUE(LabelSelector().Empty());
  EXPECT_TRUE(MustParse("").Empty());
  EXPECT_FALSE(MustParse("x").Empty());
  LabelSelector nothing = LabelSelector::Nothing();
  EXPECT_FALSE(nothing.Empty());
  EXPECT_TRUE(nothing.IsNothing());
  EXPECT_FALSE(nothing.Matches(Json::object()));
  EXPECT_FALSE(nothing.Matches(Pairs{}));
  EXPECT_EQ(nothing.ToString(), "");
  EXPECT_FALSE(nothing == LabelSelector::Everything());
}

TEST(LabelSelectorTest, RequiresExactMatch) {
  struct Case {
    std::string selector;
    std::string key;
    std::optional<std::string> want;
  };
  const std::vector<Case> cases = {
      {"app=web", "app", "web"},         {"app==web", "app", "web"},
      {"app in (web)", "app", "web"},    {"app in (web,db)", "app", std::nullopt},
      {"app!=web", "app", std::nullopt}, {"app", "app", std::nullopt},
      {"tier=db,app=web", "app", "web"}, {"app=web", "tier", std::nullopt},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.selector + " / " + c.key);
    LabelSelector s = MustParse(c.selector);  // the view points into it
    auto got = s.RequiresExactMatch(c.key);
    if (c.want) {
      ASSERT_TRUE(got.has_value());
      EXPECT_EQ(*got, *c.want);
    } else {
      EXPECT_FALSE(got.has_value());
    }
  }
}

TEST(LabelSelectorTest, AddKeepsKeyOrder) {
  LabelSelector s;
  s.Add(*LabelRequirement::Make("b", SelectorOperator::kExists, {}));
  s.Add(*LabelRequirement::Make("a", SelectorOperator::kIn, {"y", "x"}));
  s.Add(*LabelRequirement::Make("c", SelectorOperator::kNotEquals, {"z"}));
  EXPECT_EQ(s.ToString(), "a in (x,y),b,c!=z");
  EXPECT_TRUE(s.Matches(Pairs{{"a", "x"}, {"b", ""}}));
}

TEST(LabelRequirementTest, MakeValidation) {
  struct Case {
    std::string name;
    std::string key;
    SelectorOperator op;
    std::vector<std::string> values;
    std::vector<std::string> fields;  // of the causes; empty means valid
  };
  const std::vector<Case> cases = {
      {"in needs values", "x", SelectorOperator::kIn, {}, {"values"}},
      {"notin needs values", "x", SelectorOperator::kNotIn, {}, {"values"}},
      {"equals needs one", "x", SelectorOperator::kEquals, {"a", "b"}, {"values"}},
      {"not equals needs one", "x", SelectorOperator::kNotEquals, {}, {"values"}},
      {"exists takes none", "x", SelectorOperator::kExists, {"a"}, {"values"}},
      {"does not exist takes none", "x", SelectorOperator::kDoesNotExist, {"a"}, {"values"}},
      {"gt needs an integer", "x", SelectorOperator::kGreaterThan, {"a"}, {"values[0]"}},
      {"lt needs one", "x", SelectorOperator::kLessThan, {"1", "2"}, {"values"}},
      {"bad key", "-x", SelectorOperator::kExists, {}, {"key"}},
      {"bad value", "x", SelectorOperator::kIn, {"ok", "not ok"}, {"values[1][x]"}},
      {"valid in", "x", SelectorOperator::kIn, {"a", "b"}, {}},
      {"valid gt", "x", SelectorOperator::kGreaterThan, {"7"}, {}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    auto r = LabelRequirement::Make(c.key, c.op, c.values);
    if (c.fields.empty()) {
      EXPECT_TRUE(r.ok()) << r.status().ToString();
      continue;
    }
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code(), Code::kInvalid);
    std::vector<std::string> fields;
    for (const auto& cause : r.error().causes()) {
      fields.push_back(cause.field);
    }
    EXPECT_EQ(fields, c.fields);
  }
}

TEST(LabelSelectorFromJsonTest, Valid) {
  struct Case {
    std::string name;
    Json selector;
    std::string canonical;
    bool empty;
  };
  const std::vector<Case> cases = {
      {"empty object selects everything", Json::object(), "", true},
      {"empty lists select everything",
       {{"matchLabels", Json::object()}, {"matchExpressions", Json::array()}},
       "",
       true},
      {"match labels",
       {{"matchLabels", {{"app", "web"}, {"tier", "fe"}}}},
       "app=web,tier=fe",
       false},
      {"expressions",
       {{"matchExpressions",
         {{{"key", "env"}, {"operator", "In"}, {"values", {"prod", "dev"}}},
          {{"key", "canary"}, {"operator", "DoesNotExist"}},
          {{"key", "zone"}, {"operator", "NotIn"}, {"values", {"a"}}},
          {{"key", "gpu"}, {"operator", "Exists"}, {"values", Json::array()}}}}},
       "!canary,env in (dev,prod),gpu,zone notin (a)",
       false},
      {"both, sorted by key",
       {{"matchLabels", {{"z", "1"}}},
        {"matchExpressions", {{{"key", "a"}, {"operator", "Exists"}}}}},
       "a,z=1",
       false},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    auto s = LabelSelector::FromJson(c.selector);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    EXPECT_EQ(s->ToString(), c.canonical);
    EXPECT_EQ(s->Empty(), c.empty);
  }
}

TEST(LabelSelectorFromJsonTest, NullSelectsNothing) {
  auto s = LabelSelector::FromJson(nullptr);
  ASSERT_TRUE(s.ok());
  EXPECT_TRUE(s->IsNothing());
  EXPECT_FALSE(s->Matches(Json{{"app", "web"}}));
}

TEST(LabelSelectorFromJsonTest, Matching) {
  auto s = LabelSelector::FromJson(
      {{"matchLabels", {{"app", "web"}}},
       {"matchExpressions", {{{"key", "env"}, {"operator", "NotIn"}, {"values", {"dev"}}}}}});
  ASSERT_TRUE(s.ok());
  EXPECT_TRUE(s->Matches(Json{{"app", "web"}}));
  EXPECT_TRUE(s->Matches(Json{{"app", "web"}, {"env", "prod"}}));
  EXPECT_FALSE(s->Matches(Json{{"app", "web"}, {"env", "dev"}}));
  EXPECT_FALSE(s->Matches(Json{{"env", "prod"}}));
}

TEST(LabelSelectorFromJsonTest, Invalid) {
  struct Case {
    std::string name;
    Json selector;
    std::vector<Cause> want;
  };
  const std::string supported = "supported values: \"In\", \"NotIn\", \"Exists\", \"DoesNotExist\"";
  const std::vector<Case> cases = {
      {"not an object",
       "app=web",
       {{"FieldValueTypeInvalid", "spec.selector",
         "Invalid value: \"app=web\": must be of type object, not string"}}},
      {"bad matchLabels value",
       {{"matchLabels", {{"app", "a b"}}}},
       {{"FieldValueInvalid", "spec.selector.matchLabels",
         "Invalid value: \"a b\": a valid label must be an empty string or consist of "
         "alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric "
         "character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is "
         "'(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"}}},
      {"unknown operator",
       {{"matchExpressions", {{{"key", "a"}, {"operator", "Equals"}, {"values", {"x"}}}}}},
       {{"FieldValueNotSupported", "spec.selector.matchExpressions[0].operator",
         "Unsupported value: \"Equals\": " + supported}}},
      {"missing operator",
       {{"matchExpressions", {{{"key", "a"}}}}},
       {{"FieldValueNotSupported", "spec.selector.matchExpressions[0].operator",
         "Unsupported value: \"\": " + supported}}},
      {"In without values",
       {{"matchExpressions", {{{"key", "a"}, {"operator", "In"}}}}},
       {{"FieldValueRequired", "spec.selector.matchExpressions[0].values",
         "Required value: must be specified when `operator` is 'In' or 'NotIn'"}}},
      {"Exists with values",
       {{"matchExpressions", {{{"key", "a"}, {"operator", "Exists"}, {"values", {"x"}}}}}},
       {{"FieldValueForbidden", "spec.selector.matchExpressions[0].values",
         "Forbidden: may not be specified when `operator` is 'Exists' or 'DoesNotExist'"}}},
      {"bad key and value in the second expression",
       {{"matchExpressions",
         {{{"key", "a"}, {"operator", "Exists"}},
          {{"key", "a/b/c"}, {"operator", "In"}, {"values", {"ok", "-bad"}}}}}},
       {{"FieldValueInvalid", "spec.selector.matchExpressions[1].key",
         "Invalid value: \"a/b/c\": a qualified name must consist of alphanumeric characters, "
         "'-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName', "
         " or 'my.name',  or '123-abc', regex used for validation is "
         "'([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain prefix and "
         "'/' (e.g. 'example.com/MyName')"},
        {"FieldValueInvalid", "spec.selector.matchExpressions[1].values[1]",
         "Invalid value: \"-bad\": a valid label must be an empty string or consist of "
         "alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric "
         "character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is "
         "'(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"}}},
      {"wrong shapes",
       {{"matchLabels", Json::array()}, {"matchExpressions", {1}}},
       {{"FieldValueTypeInvalid", "spec.selector.matchLabels",
         "Invalid value: []: must be of type object, not array"},
        {"FieldValueTypeInvalid", "spec.selector.matchExpressions[0]",
         "Invalid value: 1: must be of type object, not integer"}}},
      {"non-string value",
       {{"matchExpressions", {{{"key", "a"}, {"operator", "In"}, {"values", {1}}}}}},
       {{"FieldValueTypeInvalid", "spec.selector.matchExpressions[0].values[0]",
         "Invalid value: 1: must be of type string, not integer"}}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    auto s = LabelSelector::FromJson(c.selector, "spec.selector");
    ASSERT_FALSE(s.ok()) << s->ToString();
    EXPECT_EQ(s.error().code(), Code::kInvalid);
    EXPECT_EQ(s.error().causes(), c.want);
    // The message aggregates the causes as kube prints a field.ErrorList.
    std::string want = "invalid label selector: ";
    want += c.want.size() > 1 ? "[" : "";
    for (size_t i = 0; i < c.want.size(); ++i) {
      want += (i > 0 ? ", " : "") + c.want[i].field + ": " + c.want[i].message;
    }
    want += c.want.size() > 1 ? "]" : "";
    EXPECT_EQ(s.error().message(), want);
  }
}

TEST(LabelSelectorFromJsonTest, CausesAreRelativeWithoutFieldPath) {
  auto s = LabelSelector::FromJson({{"matchExpressions", {{{"key", "a"}, {"operator", "In"}}}}});
  ASSERT_FALSE(s.ok());
  ASSERT_EQ(s.error().causes().size(), 1u);
  EXPECT_EQ(s.error().causes()[0].field, "matchExpressions[0].values");
}

TEST(LabelSelectorFromMapTest, Table) {
  auto s = LabelSelector::FromMap({{"app", "web"}, {"tier", "fe"}});
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->ToString(), "app=web,tier=fe");
  EXPECT_TRUE(s->Matches(Pairs{{"tier", "fe"}, {"app", "web"}, {"x", "y"}}));
  EXPECT_FALSE(s->Matches(Pairs{{"app", "web"}}));

  auto empty = LabelSelector::FromMap(nullptr);
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->Empty());

  auto bad = LabelSelector::FromMap({{"a b", "x"}}, "spec.selector");
  ASSERT_FALSE(bad.ok());
  ASSERT_EQ(bad.error().causes().size(), 1u);
  EXPECT_EQ(bad.error().causes()[0].field, "spec.selector");
}

}  // namespace
}  // namespace lintel::apimachinery
