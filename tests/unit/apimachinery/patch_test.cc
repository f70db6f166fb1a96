#include "apimachinery/patch.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace lintel::apimachinery {
namespace {

Json J(std::string_view text) { return Json::parse(text); }

// ---- RFC 7386 ---------------------------------------------------------------------------

TEST(ApplyMergePatchTest, Rfc7386AppendixA) {
  struct Case {
    std::string target;
    std::string patch;
    std::string want;
  };
  const std::vector<Case> cases = {
      {R"({"a":"b"})", R"({"a":"c"})", R"({"a":"c"})"},
      {R"({"a":"b"})", R"({"b":"c"})", R"({"a":"b","b":"c"})"},
      {R"({"a":"b"})", R"({"a":null})", R"({})"},
      {R"({"a":"b","b":"c"})", R"({"a":null})", R"({"b":"c"})"},
      {R"({"a":["b"]})", R"({"a":"c"})", R"({"a":"c"})"},
      {R"({"a":"c"})", R"({"a":["b"]})", R"({"a":["b"]})"},
      {R"({"a":{"b":"c"}})", R"({"a":{"b":"d","c":null}})", R"({"a":{"b":"d"}})"},
      {R"({"a":[{"b":"c"}]})", R"({"a":[1]})", R"({"a":[1]})"},
      {R"(["a","b"])", R"(["c","d"])", R"(["c","d"])"},
      {R"({"a":"b"})", R"(["c"])", R"(["c"])"},
      {R"({"a":"foo"})", R"(null)", R"(null)"},
      {R"({"a":"foo"})", R"("bar")", R"("bar")"},
      {R"({"e":null})", R"({"a":1})", R"({"e":null,"a":1})"},
      {R"([1,2])", R"({"a":"b","c":null})", R"({"a":"b"})"},
      {R"({})", R"({"a":{"bb":{"ccc":null}}})", R"({"a":{"bb":{}}})"},
      // Section 3's example.
      {R"({"title":"Goodbye!","author":{"givenName":"John","familyName":"Doe"},
           "tags":["example","sample"],"content":"This will be unchanged"})",
       R"({"title":"Hello!","phoneNumber":"+01-123-456-7890","author":{"familyName":null},
           "tags":["example"]})",
       R"({"title":"Hello!","author":{"givenName":"John"},"tags":["example"],
           "content":"This will be unchanged","phoneNumber":"+01-123-456-7890"})"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.target + " + " + c.patch);
    const Json target = J(c.target);
    auto got = ApplyMergePatch(target, J(c.patch));
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    EXPECT_EQ(*got, J(c.want)) << got->dump();
    EXPECT_EQ(target, J(c.target));  // inputs are not modified
  }
}

// ---- RFC 6902 ---------------------------------------------------------------------------

TEST(ApplyJsonPatchTest, Rfc6902AppendixA) {
  struct Case {
    std::string name;
    std::string target;
    std::string patch;
    std::string want;  // "" when the patch must fail
  };
  const std::vector<Case> cases = {
      {"A.1 adding an object member", R"({"foo":"bar"})",
       R"([{"op":"add","path":"/baz","value":"qux"}])", R"({"baz":"qux","foo":"bar"})"},
      {"A.2 adding an array element", R"({"foo":["bar","baz"]})",
       R"([{"op":"add","path":"/foo/1","value":"qux"}])", R"({"foo":["bar","qux","baz"]})"},
      {"A.3 removing an object member", R"({"baz":"qux","foo":"bar"})",
       R"([{"op":"remove","path":"/baz"}])", R"({"foo":"bar"})"},
      {"A.4 removing an array element", R"({"foo":["bar","qux","baz"]})",
       R"([{"op":"remove","path":"/foo/1"}])", R"({"foo":["bar","baz"]})"},
      {"A.5 replacing a value", R"({"baz":"qux","foo":"bar"})",
       R"([{"op":"replace","path":"/baz","value":"boo"}])", R"({"baz":"boo","foo":"bar"})"},
      {"A.6 moving a value", R"({"foo":{"bar":"baz","waldo":"fred"},"qux":{"corge":"grault"}})",
       R"([{"op":"move","from":"/foo/waldo","path":"/qux/thud"}])",
       R"({"foo":{"bar":"baz"},"qux":{"corge":"grault","thud":"fred"}})"},
      {"A.7 moving an array element", R"({"foo":["all","grass","cows","eat"]})",
       R"([{"op":"move","from":"/foo/1","path":"/foo/3"}])",
       R"({"foo":["all","cows","eat","grass"]})"},
      {"A.8 testing a value: success", R"({"baz":"qux","foo":["a",2,"c"]})",
       R"([{"op":"test","path":"/baz","value":"qux"},{"op":"test","path":"/foo/1","value":2}])",
       R"({"baz":"qux","foo":["a",2,"c"]})"},
      {"A.9 testing a value: error", R"({"baz":"qux"})",
       R"([{"op":"test","path":"/baz","value":"bar"}])", ""},
      {"A.10 adding a nested member object", R"({"foo":"bar"})",
       R"([{"op":"add","path":"/child","value":{"grandchild":{}}}])",
       R"({"foo":"bar","child":{"grandchild":{}}})"},
      {"A.11 ignoring unrecognized elements", R"({"foo":"bar"})",
       R"([{"op":"add","path":"/baz","value":"qux","xyz":123}])", R"({"foo":"bar","baz":"qux"})"},
      {"A.12 adding to a nonexistent target", R"({"foo":"bar"})",
       R"([{"op":"add","path":"/baz/bat","value":"qux"}])", ""},
      {"A.14 ~ escape ordering", R"({"/":9,"~1":10})",
       R"([{"op":"test","path":"/~01","value":10}])", R"({"/":9,"~1":10})"},
      {"A.15 comparing strings and numbers", R"({"/":9,"~1":10})",
       R"([{"op":"test","path":"/~01","value":"10"}])", ""},
      {"A.16 adding an array value", R"({"foo":["bar"]})",
       R"([{"op":"add","path":"/foo/-","value":["abc","def"]}])",
       R"({"foo":["bar",["abc","def"]]})"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    auto got = ApplyJsonPatch(J(c.target), J(c.patch));
    if (c.want.empty()) {
      ASSERT_FALSE(got.ok()) << got->dump();
      EXPECT_EQ(got.error().code(), Code::kInvalid);
      continue;
    }
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    EXPECT_EQ(*got, J(c.want)) << got->dump();
  }
}

TEST(ApplyJsonPatchTest, MoreOperations) {
  struct Case {
    std::string name;
    std::string target;
    std::string patch;
    std::string want;
  };
  const std::vector<Case> cases = {
      {"empty patch", R"({"a":1})", R"([])", R"({"a":1})"},
      {"add replaces an existing member", R"({"a":1})", R"([{"op":"add","path":"/a","value":2}])",
       R"({"a":2})"},
      {"add at the end index", R"([1,2])", R"([{"op":"add","path":"/2","value":3}])", R"([1,2,3])"},
      {"add at the front", R"([1,2])", R"([{"op":"add","path":"/0","value":0}])", R"([0,1,2])"},
      {"add the whole document", R"({"a":1})", R"([{"op":"add","path":"","value":[1]}])", R"([1])"},
      {"add null", R"({})", R"([{"op":"add","path":"/a","value":null}])", R"({"a":null})"},
      {"add with an empty key", R"({})", R"([{"op":"add","path":"/","value":1}])", R"({"":1})"},
      {"replace the whole document", R"({"a":1})", R"([{"op":"replace","path":"","value":{}}])",
       R"({})"},
      {"replace an array element", R"([1,2])", R"([{"op":"replace","path":"/1","value":5}])",
       R"([1,5])"},
      {"copy", R"({"a":{"b":[1]}})", R"([{"op":"copy","from":"/a/b","path":"/c"}])",
       R"({"a":{"b":[1]},"c":[1]})"},
      {"copy into an array", R"({"a":[1,2]})", R"([{"op":"copy","from":"/a/0","path":"/a/-"}])",
       R"({"a":[1,2,1]})"},
      {"move to itself", R"({"a":1})", R"([{"op":"move","from":"/a","path":"/a"}])", R"({"a":1})"},
      {"move to a sibling with the same prefix", R"({"a":1})",
       R"([{"op":"move","from":"/a","path":"/ab"}])", R"({"ab":1})"},
      {"test numbers numerically", R"({"a":1})", R"([{"op":"test","path":"/a","value":1.0}])",
       R"({"a":1})"},
      {"test objects regardless of order", R"({"a":{"x":1,"y":2}})",
       R"([{"op":"test","path":"/a","value":{"y":2,"x":1}}])", R"({"a":{"x":1,"y":2}})"},
      {"test null", R"({"a":null})", R"([{"op":"test","path":"/a","value":null}])",
       R"({"a":null})"},
      {"kubectl-style label edit", R"({"metadata":{"labels":{"app":"web"}}})",
       R"([{"op":"test","path":"/metadata/labels/app","value":"web"},
           {"op":"add","path":"/metadata/labels/app.kubernetes.io~1name","value":"web"},
           {"op":"remove","path":"/metadata/labels/app"}])",
       R"({"metadata":{"labels":{"app.kubernetes.io/name":"web"}}})"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    auto got = ApplyJsonPatch(J(c.target), J(c.patch));
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    EXPECT_EQ(*got, J(c.want)) << got->dump();
  }
}

TEST(ApplyJsonPatchTest, Errors) {
  struct Case {
    std::string name;
    std::string target;
    std::string patch;
    Code code;
    std::string message;
  };
  const std::vector<Case> cases = {
      {"not an array", R"({})", R"({"op":"add"})", Code::kBadRequest,
       "json patch must be an array of operations, not object"},
      {"operation not an object", R"({})", R"([{"op":"test","path":"","value":{}},1])",
       Code::kBadRequest, "json patch operation 1 must be an object, not number"},
      {"missing op", R"({})", R"([{"path":"/a"}])", Code::kInvalid,
       "jsonpatch operation 0: missing \"op\" (a string)"},
      {"unknown op", R"({})", R"([{"op":"delete","path":"/a"}])", Code::kInvalid,
       "jsonpatch operation 0: unknown op \"delete\": must be one of add, remove, replace, move, "
       "copy, test"},
      {"missing path", R"({})", R"([{"op":"add","value":1}])", Code::kInvalid,
       "jsonpatch operation 0: \"add\" is missing \"path\" (a string)"},
      {"missing value", R"({})", R"([{"op":"add","path":"/a"}])", Code::kInvalid,
       "jsonpatch operation 0: \"add\" is missing \"value\""},
      {"missing from", R"({"a":1})", R"([{"op":"move","path":"/b"}])", Code::kInvalid,
       "jsonpatch operation 0: \"move\" is missing \"from\" (a string)"},
      {"pointer without slash", R"({})", R"([{"op":"add","path":"a","value":1}])", Code::kInvalid,
       "jsonpatch operation 0: invalid JSON pointer \"a\": must be empty or start with '/'"},
      {"bad escape", R"({})", R"([{"op":"add","path":"/a~2","value":1}])", Code::kInvalid,
       "jsonpatch operation 0: invalid JSON pointer \"/a~2\": '~' must be followed by '0' or '1'"},
      {"test mismatch", R"({"spec":{"replicas":3}})",
       R"([{"op":"add","path":"/x","value":1},{"op":"test","path":"/spec/replicas","value":2}])",
       Code::kInvalid,
       "jsonpatch test operation does not apply: operation 1, path \"/spec/replicas\": value is "
       "3, expected 2"},
      {"test missing path", R"({})", R"([{"op":"test","path":"/a","value":null}])", Code::kInvalid,
       "jsonpatch test operation does not apply: operation 0, path \"/a\": doc is missing path "
       "\"/a\""},
      {"remove missing member", R"({"a":{}})", R"([{"op":"remove","path":"/a/b"}])", Code::kInvalid,
       "jsonpatch remove operation does not apply: operation 0, path \"/a/b\": doc is missing "
       "path \"/a/b\""},
      {"remove past the end", R"([1])", R"([{"op":"remove","path":"/1"}])", Code::kInvalid,
       "jsonpatch remove operation does not apply: operation 0, path \"/1\": doc is missing path "
       "\"/1\""},
      {"remove the document", R"({})", R"([{"op":"remove","path":""}])", Code::kInvalid,
       "jsonpatch remove operation does not apply: operation 0, path \"\": cannot remove the "
       "whole document"},
      {"replace missing", R"({})", R"([{"op":"replace","path":"/a","value":1}])", Code::kInvalid,
       "jsonpatch replace operation does not apply: operation 0, path \"/a\": doc is missing path "
       "\"/a\""},
      {"add past the end", R"([1])", R"([{"op":"add","path":"/2","value":1}])", Code::kInvalid,
       "jsonpatch add operation does not apply: operation 0, path \"/2\": index 2 is out of "
       "bounds for an array of 1"},
      {"add with a leading zero", R"([1])", R"([{"op":"add","path":"/01","value":1}])",
       Code::kInvalid,
       "jsonpatch add operation does not apply: operation 0, path \"/01\": invalid array index "
       "\"01\""},
      {"add with a negative index", R"([1])", R"([{"op":"add","path":"/-1","value":1}])",
       Code::kInvalid,
       "jsonpatch add operation does not apply: operation 0, path \"/-1\": invalid array index "
       "\"-1\""},
      {"add below a scalar", R"({"a":1})", R"([{"op":"add","path":"/a/b","value":1}])",
       Code::kInvalid,
       "jsonpatch add operation does not apply: operation 0, path \"/a/b\": parent \"/a\" is "
       "neither an object nor an array"},
      {"add below a missing parent", R"({})", R"([{"op":"add","path":"/a/b","value":1}])",
       Code::kInvalid,
       "jsonpatch add operation does not apply: operation 0, path \"/a/b\": doc is missing path "
       "\"/a\""},
      {"move from missing", R"({})", R"([{"op":"move","from":"/x","path":"/y"}])", Code::kInvalid,
       "jsonpatch move operation does not apply: operation 0, path \"/y\": doc is missing from "
       "path \"/x\""},
      {"move into a child", R"({"a":{"b":{}}})", R"([{"op":"move","from":"/a","path":"/a/b/c"}])",
       Code::kInvalid,
       "jsonpatch move operation does not apply: operation 0, path \"/a/b/c\": cannot move \"/a\" "
       "into one of its children"},
      {"copy from missing", R"({})", R"([{"op":"copy","from":"/x","path":"/y"}])", Code::kInvalid,
       "jsonpatch copy operation does not apply: operation 0, path \"/y\": doc is missing from "
       "path \"/x\""},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    auto got = ApplyJsonPatch(J(c.target), J(c.patch));
    ASSERT_FALSE(got.ok()) << got->dump();
    EXPECT_EQ(got.error().code(), c.code);
    EXPECT_EQ(got.error().message(), c.message);
  }
}

TEST(ApplyJsonPatchTest, TooManyOperations) {
  Json patch = Json::array();
  for (size_t i = 0; i <= kMaxJsonPatchOperations; ++i) {
    patch.push_back({{"op", "test"}, {"path", ""}, {"value", Json::object()}});
  }
  auto got = ApplyJsonPatch(Json::object(), patch);
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.error().code(), Code::kRequestEntityTooLarge);
  EXPECT_EQ(got.error().message(),
            "The allowed maximum operations in a JSON patch is 10000, got 10001");
  patch.erase(patch.size() - 1);
  EXPECT_TRUE(ApplyJsonPatch(Json::object(), patch).ok());
}

TEST(ApplyJsonPatchTest, AllOrNothing) {
  const Json target = J(R"({"a":1})");
  auto got = ApplyJsonPatch(target, J(R"([{"op":"replace","path":"/a","value":2},
                                         {"op":"remove","path":"/missing"}])"));
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(target, J(R"({"a":1})"));
}

TEST(SplitJsonPointerTest, Table) {
  struct Case {
    std::string pointer;
    std::vector<std::string> want;
  };
  const std::vector<Case> cases = {
      {"", {}},           {"/", {""}},      {"/a/b", {"a", "b"}},      {"/a~1b", {"a/b"}},
      {"/m~0n", {"m~n"}}, {"/~01", {"~1"}}, {"/a//b", {"a", "", "b"}}, {"/a/", {"a", ""}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.pointer);
    auto got = SplitJsonPointer(c.pointer);
    ASSERT_TRUE(got.ok());
    EXPECT_EQ(*got, c.want);
  }
  for (const char* bad : {"a", "/~", "/~2", "/a~"}) {
    SCOPED_TRACE(bad);
    EXPECT_FALSE(SplitJsonPointer(bad).ok());
  }
}

// ---- CreateMergePatch ----------------------------------------------------------------------

TEST(CreateMergePatchTest, Table) {
  struct Case {
    std::string name;
    std::string original;
    std::string modified;
    std::string want;
  };
  const std::vector<Case> cases = {
      {"equal", R"({"a":1,"b":{"c":[1]}})", R"({"a":1,"b":{"c":[1]}})", R"({})"},
      {"empty", R"({})", R"({})", R"({})"},
      {"changed scalar", R"({"a":1})", R"({"a":2})", R"({"a":2})"},
      {"added member", R"({"a":1})", R"({"a":1,"b":"x"})", R"({"b":"x"})"},
      {"removed member", R"({"a":1,"b":2})", R"({"a":1})", R"({"b":null})"},
      {"nested change", R"({"s":{"x":1,"y":2}})", R"({"s":{"x":1,"y":3}})", R"({"s":{"y":3}})"},
      {"nested removal", R"({"s":{"x":1,"y":2}})", R"({"s":{"x":1}})", R"({"s":{"y":null}})"},
      {"array replaced whole", R"({"l":[1,2,3]})", R"({"l":[1,2]})", R"({"l":[1,2]})"},
      {"array of objects replaced whole", R"({"l":[{"a":1}]})", R"({"l":[{"a":2}]})",
       R"({"l":[{"a":2}]})"},
      {"object to scalar", R"({"a":{"b":1}})", R"({"a":1})", R"({"a":1})"},
      {"scalar to object", R"({"a":1})", R"({"a":{"b":1}})", R"({"a":{"b":1}})"},
      {"to empty object", R"({"a":{"b":1}})", R"({"a":{}})", R"({"a":{"b":null}})"},
      {"numbers compare numerically", R"({"a":1})", R"({"a":1.0})", R"({})"},
      {"set to null means delete", R"({"a":1})", R"({"a":null})", R"({"a":null})"},
      {"non-object modified replaces", R"({"a":1})", R"([1])", R"([1])"},
      {"non-object original replaces", R"([1])", R"({"a":1})", R"({"a":1})"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    Json original = J(c.original);
    Json modified = J(c.modified);
    Json patch = CreateMergePatch(original, modified);
    EXPECT_EQ(patch, J(c.want)) << patch.dump();
    // Applying the patch gives back `modified` (except members set to null, which RFC 7386
    // cannot express and which come out deleted).
    auto applied = ApplyMergePatch(original, patch);
    ASSERT_TRUE(applied.ok());
    Json expected = modified;
    if (expected.is_object()) {
      for (auto it = expected.begin(); it != expected.end();) {
        it = it->is_null() ? expected.erase(it) : std::next(it);
      }
    }
    EXPECT_EQ(*applied, expected) << applied->dump();
  }
}

// ---- CreateThreeWayMergePatch ---------------------------------------------------------------

TEST(CreateThreeWayMergePatchTest, Table) {
  struct Case {
    std::string name;
    std::string original;  // last applied
    std::string modified;  // new manifest
    std::string current;   // live
    std::string want_patch;
    std::string want_result;  // current after the patch
  };
  const std::vector<Case> cases = {
      {"nothing changed", R"({"spec":{"replicas":1}})", R"({"spec":{"replicas":1}})",
       R"({"spec":{"replicas":1},"status":{"ready":1}})", R"({})",
       R"({"spec":{"replicas":1},"status":{"ready":1}})"},
      {"user removed a field", R"({"spec":{"replicas":1,"paused":true}})",
       R"({"spec":{"replicas":1}})", R"({"spec":{"replicas":1,"paused":true},"status":{}})",
       R"({"spec":{"paused":null}})", R"({"spec":{"replicas":1},"status":{}})"},
      {"another actor added a field: left alone",
       R"({"metadata":{"labels":{"app":"web"}},"spec":{"replicas":1}})",
       R"({"metadata":{"labels":{"app":"web"}},"spec":{"replicas":1}})",
       R"({"metadata":{"labels":{"app":"web"},"annotations":{"ctl":"x"}},
           "spec":{"replicas":1,"nodeName":"n1"}})",
       R"({})",
       R"({"metadata":{"labels":{"app":"web"},"annotations":{"ctl":"x"}},
           "spec":{"replicas":1,"nodeName":"n1"}})"},
      {"list replaced whole", R"({"spec":{"ports":[80]}})", R"({"spec":{"ports":[80,443]}})",
       R"({"spec":{"ports":[80],"clusterIP":"10.0.0.1"}})", R"({"spec":{"ports":[80,443]}})",
       R"({"spec":{"ports":[80,443],"clusterIP":"10.0.0.1"}})"},
      {"list edited by someone else is put back", R"({"spec":{"args":["a"]}})",
       R"({"spec":{"args":["a"]}})", R"({"spec":{"args":["a","b"]}})", R"({"spec":{"args":["a"]}})",
       R"({"spec":{"args":["a"]}})"},
      {"user changed a field someone else changed too: the manifest wins",
       R"({"spec":{"replicas":1}})", R"({"spec":{"replicas":3}})", R"({"spec":{"replicas":5}})",
       R"({"spec":{"replicas":3}})", R"({"spec":{"replicas":3}})"},
      {"live already matches the new manifest", R"({"spec":{"replicas":1}})",
       R"({"spec":{"replicas":3}})", R"({"spec":{"replicas":3}})", R"({})",
       R"({"spec":{"replicas":3}})"},
      {"removed from the manifest after someone changed it: still deleted", R"({"spec":{"a":1}})",
       R"({"spec":{}})", R"({"spec":{"a":2,"b":1}})", R"({"spec":{"a":null}})",
       R"({"spec":{"b":1}})"},
      {"removed from the manifest and already gone", R"({"a":1,"b":1})", R"({"b":1})", R"({"b":1})",
       R"({"a":null})", R"({"b":1})"},
      {"nested label removed, others kept",
       R"({"spec":{"template":{"metadata":{"labels":{"app":"web","tier":"fe"}}}}})",
       R"({"spec":{"template":{"metadata":{"labels":{"app":"web"}}}}})",
       R"({"spec":{"template":{"metadata":{"labels":{"app":"web","tier":"fe","hash":"1"}}}}})",
       R"({"spec":{"template":{"metadata":{"labels":{"tier":null}}}}})",
       R"({"spec":{"template":{"metadata":{"labels":{"app":"web","hash":"1"}}}}})"},
      {"first apply (no last-applied): only additions", R"(null)", R"({"a":1,"b":{"c":2}})",
       R"({"a":1,"status":{"x":1}})", R"({"b":{"c":2}})",
       R"({"a":1,"b":{"c":2},"status":{"x":1}})"},
      {"scalar becomes an object", R"({})", R"({"a":{"b":1}})", R"({"a":"x"})", R"({"a":{"b":1}})",
       R"({"a":{"b":1}})"},
      {"explicitly empty object is a value", R"({})", R"({"spec":{"selector":{}}})",
       R"({"spec":{}})", R"({"spec":{"selector":{}}})", R"({"spec":{"selector":{}}})"},
      {"additions and deletions together",
       R"({"metadata":{"labels":{"a":"1","b":"2"}},"spec":{"x":1}})",
       R"({"metadata":{"labels":{"a":"1","c":"3"}},"spec":{"x":2}})",
       R"({"metadata":{"labels":{"a":"1","b":"2","d":"4"}},"spec":{"x":1,"y":1}})",
       R"({"metadata":{"labels":{"b":null,"c":"3"}},"spec":{"x":2}})",
       R"({"metadata":{"labels":{"a":"1","c":"3","d":"4"}},"spec":{"x":2,"y":1}})"},
      {"field set to null in the manifest is deleted", R"({"a":1})", R"({"a":null})", R"({"a":1})",
       R"({"a":null})", R"({})"},
      {"null current counts as empty", R"({})", R"({"a":1})", R"(null)", R"({"a":1})",
       R"({"a":1})"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    Json current = J(c.current);
    Json patch = CreateThreeWayMergePatch(J(c.original), J(c.modified), current);
    EXPECT_EQ(patch, J(c.want_patch)) << patch.dump();
    auto result = ApplyMergePatch(current.is_null() ? Json::object() : current, patch);
    ASSERT_TRUE(result.ok());
    EXPECT_EQ(*result, J(c.want_result)) << result->dump();
  }
}

TEST(CreateThreeWayMergePatchTest, NonObjectManifestReplaces) {
  EXPECT_EQ(CreateThreeWayMergePatch(J("{}"), J("[1]"), J(R"({"a":1})")), J("[1]"));
  EXPECT_EQ(CreateThreeWayMergePatch(J("{}"), J("null"), J(R"({"a":1})")), J("{}"));
}

}  // namespace
}  // namespace lintel::apimachinery
