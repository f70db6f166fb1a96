#include "apimachinery/managed_fields.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <functional>
#include <random>
#include <string>
#include <tuple>
#include <vector>

namespace lintel::apimachinery {
namespace {

constexpr std::string_view kVersion = "lintel.dev/v1alpha1";

// The list semantics of the test kind, as the API layer would derive them from its schema.
ListInfo TestLists(std::string_view path) {
  if (path == ".spec.containers") {
    return {ListType::kMap, {"name"}};
  }
  if (path == ".spec.containers.ports") {
    return {ListType::kMap, {"containerPort", "protocol"}};
  }
  if (path == ".metadata.finalizers" || path == ".spec.tags") {
    return {ListType::kSet, {}};
  }
  return {};  // .spec.args and anything else: atomic
}

Schema TestSchema() {
  return Schema(TestLists, [](std::string_view path) { return path == ".spec.nodeSelector"; });
}

Json J(std::string_view text) { return Json::parse(text); }

FieldSet Fields(std::string_view fieldsv1) {
  auto set = FromFieldsV1(J(fieldsv1));
  EXPECT_TRUE(set.ok()) << set.error().message();
  return set.ok() ? *set : FieldSet();
}

Path P(std::initializer_list<PathElement> elements) { return Path(elements); }
PathElement F(std::string name) { return PathElement::Field(std::move(name)); }

ManagedFieldsEntry Entry(std::string manager, std::string_view operation, std::string_view fieldsv1,
                         std::string time = "2024-01-01T00:00:00Z", std::string subresource = "") {
  return ManagedFieldsEntry{std::move(manager), std::string(operation), std::string(kVersion),
                            std::move(time),    std::move(subresource), Fields(fieldsv1)};
}

const ManagedFieldsEntry* FindEntry(const std::vector<ManagedFieldsEntry>& entries,
                                    std::string_view manager, std::string_view operation) {
  for (const ManagedFieldsEntry& e : entries) {
    if (e.manager == manager && e.operation == operation) {
      return &e;
    }
  }
  return nullptr;
}

// Applies and expects success; the harness for the multi-step scenarios below.
struct Object {  // NOLINT(bugprone-exception-escape): nlohmann's moves, as ApplyResult
  Json live;     // null until created
  std::vector<ManagedFieldsEntry> managed;

  ApplyResult Apply(std::string_view config, std::string_view manager, std::string_view now,
                    bool force = false) {
    auto r =
        apimachinery::Apply(live, J(config), manager, force, managed, TestSchema(), kVersion, now);
    EXPECT_TRUE(r.ok()) << r.error().message();
    if (!r.ok()) {
      return {};
    }
    live = r->object;
    managed = r->managed;
    return *r;
  }
  Result<ApplyResult> TryApply(std::string_view config, std::string_view manager,
                               bool force = false) const {
    return apimachinery::Apply(live, J(config), manager, force, managed, TestSchema(), kVersion,
                               "2024-06-01T00:00:00Z");
  }
  // A non-apply write (update, patch, edit) that leaves the object as `mutate` makes it.
  void Update(std::string_view manager, std::string_view now,
              const std::function<void(Json&)>& mutate) {
    Json next = live.is_null() ? Json::object() : live;
    mutate(next);
    managed = UpdateManagedFields(live, next, manager, managed, TestSchema(), kVersion, now);
    live = std::move(next);
    SetManagedFields(live, managed);
  }
  const FieldSet* Owned(std::string_view manager, std::string_view operation) const {
    const ManagedFieldsEntry* e = FindEntry(managed, manager, operation);
    return e ? &e->fields : nullptr;
  }
};

// ---------------------------------------------------------------------------------------------
// Paths and sets

TEST(PathTest, PrintsLikeKube) {
  struct Case {
    const char* name;
    Path path;
    const char* want;
  };
  const std::vector<Case> cases = {
      {"fields", P({F("spec"), F("cpu")}), ".spec.cpu"},
      {"map-list key",
       P({F("spec"), F("containers"), PathElement::Key(J(R"({"name":"web"})")), F("image")}),
       R"(.spec.containers[name="web"].image)"},
      {"multi-key",
       P({F("ports"), PathElement::Key(J(R"({"protocol":"TCP","containerPort":80})"))}),
       R"(.ports[containerPort=80,protocol="TCP"])"},
      {"set value", P({F("metadata"), F("finalizers"), PathElement::Value("a/b")}),
       R"(.metadata.finalizers[="a/b"])"},
      {"index", P({F("args"), PathElement::Index(3)}), ".args[3]"},
      {"dotted label", P({F("metadata"), F("labels"), F("app.kubernetes.io/name")}),
       ".metadata.labels.app.kubernetes.io/name"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(PathToString(c.path), c.want);
  }
}

TEST(FieldSetTest, FromObject) {
  struct Case {
    const char* name;
    const char* object;
    const char* want;  // FieldsV1
  };
  const std::vector<Case> cases = {
      {"nested maps", R"({"metadata":{"labels":{"app":"web"}},"spec":{"cpu":2,"a":{"b":{"c":1}}}})",
       R"({"f:metadata":{"f:labels":{"f:app":{}}},
           "f:spec":{"f:cpu":{},"f:a":{"f:b":{"f:c":{}}}}})"},
      {"map-list by name", R"({"spec":{"containers":[{"name":"web","image":"nginx"}]}})",
       R"({"f:spec":{"f:containers":{"k:{\"name\":\"web\"}":{".":{},"f:image":{},"f:name":{}}}}})"},
      {"multi-key map-list nested in a map-list",
       R"({"spec":{"containers":[{"name":"web","ports":[{"containerPort":80,"protocol":"TCP"}]}]}})",
       R"({"f:spec":{"f:containers":{"k:{\"name\":\"web\"}":{".":{},"f:name":{},"f:ports":{
           "k:{\"containerPort\":80,\"protocol\":\"TCP\"}":{".":{},"f:containerPort":{},
           "f:protocol":{}}}}}}})"},
      {"set", R"({"metadata":{"finalizers":["a","b"]},"spec":{"tags":[1,2]}})",
       R"({"f:metadata":{"f:finalizers":{"v:\"a\"":{},"v:\"b\"":{}}},
           "f:spec":{"f:tags":{"v:1":{},"v:2":{}}}})"},
      {"atomic list is one leaf", R"({"spec":{"args":["x",{"y":1}]}})",
       R"({"f:spec":{"f:args":{}}})"},
      {"atomic map is one leaf", R"({"spec":{"nodeSelector":{"zone":"a","disk":"ssd"}}})",
       R"({"f:spec":{"f:nodeSelector":{}}})"},
      {"empty map and null are leaves", R"({"spec":{"empty":{},"none":null}})",
       R"({"f:spec":{"f:empty":{},"f:none":{}}})"},
      {"empty set and map-list add nothing", R"({"spec":{"containers":[],"tags":[],"cpu":1}})",
       R"({"f:spec":{"f:cpu":{}}})"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    auto set = FieldSet::FromObject(J(c.object), TestSchema());
    ASSERT_TRUE(set.ok()) << set.error().message();
    EXPECT_EQ(ToFieldsV1(*set), J(c.want)) << ToFieldsV1(*set).dump();
  }
}

TEST(FieldSetTest, FromObjectRejectsMalformedLists) {
  struct Case {
    const char* name;
    const char* object;
    const char* message;
  };
  const std::vector<Case> cases = {
      {"missing key", R"({"spec":{"containers":[{"name":"a"},{"image":"x"}]}})",
       R"(.spec.containers: element 1: associative list with keys has an element that omits key field "name")"},
      {"missing one of two keys",
       R"({"spec":{"containers":[{"name":"a","ports":[{"containerPort":80}]}]}})",
       R"(.spec.containers[name="a"].ports: element 0: associative list with keys has an element that omits key field "protocol")"},
      {"duplicate key", R"({"spec":{"containers":[{"name":"web"},{"name":"web"}]}})",
       R"(.spec.containers: duplicate entries for key [name="web"])"},
      {"duplicate set value", R"({"metadata":{"finalizers":["a","a"]}})",
       R"(.metadata.finalizers: duplicate entries for key [="a"])"},
      {"item not an object", R"({"spec":{"containers":["web"]}})",
       ".spec.containers: element 0: associative list with keys has an element that is not an "
       "object"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    auto set = FieldSet::FromObject(J(c.object), TestSchema());
    ASSERT_FALSE(set.ok());
    EXPECT_EQ(set.error().code(), Code::kBadRequest);
    EXPECT_EQ(set.error().message(), c.message);
  }
}

TEST(FieldSetTest, SetOperations) {
  const FieldSet a = Fields(R"({"f:spec":{"f:cpu":{},"f:memory":{},"f:c":{".":{},"f:d":{}}}})");
  const FieldSet b = Fields(R"({"f:spec":{"f:cpu":{},"f:disk":{},"f:c":{}}})");
  struct Case {
    const char* name;
    FieldSet got;
    const char* want;
  };
  const std::vector<Case> cases = {
      {"union", a.Union(b),
       R"({"f:spec":{"f:cpu":{},"f:memory":{},"f:disk":{},"f:c":{".":{},"f:d":{}}}})"},
      {"intersection", a.Intersection(b), R"({"f:spec":{"f:cpu":{},"f:c":{}}})"},
      {"difference keeps children of removed members", a.Difference(b),
       R"({"f:spec":{"f:memory":{},"f:c":{"f:d":{}}}})"},
      {"recursive difference drops them", a.RecursiveDifference(b),
       R"({"f:spec":{"f:memory":{}}})"},
      {"difference with itself", a.Difference(a), "{}"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(ToFieldsV1(c.got), J(c.want)) << ToFieldsV1(c.got).dump();
  }
  EXPECT_TRUE(a.Contains(P({F("spec"), F("cpu")})));
  EXPECT_TRUE(a.Contains(P({F("spec"), F("c")})));
  EXPECT_FALSE(a.Contains(P({F("spec")})));
  EXPECT_TRUE(a.ContainsPrefix(P({F("spec")})));
  EXPECT_FALSE(a.ContainsPrefix(P({F("status")})));
  EXPECT_EQ(a.Size(), 4u);
  EXPECT_TRUE(FieldSet().Empty());
  EXPECT_FALSE(a.Empty());
  EXPECT_TRUE(a.Union(b).Intersection(a) == a);
  // kube's iteration order: a level's members first, then its children.
  EXPECT_EQ(Fields(R"({"f:z":{},"f:a":{"f:b":{}},"f:m":{".":{},"f:n":{}}})").ToString(),
            ".m\n.z\n.a.b\n.m.n\n");
}

TEST(FieldSetTest, InsertAndContains) {
  FieldSet s;
  const Path image =
      P({F("spec"), F("containers"), PathElement::Key(J(R"({"name":"web"})")), F("image")});
  s.Insert(image);
  EXPECT_TRUE(s.Contains(image));
  EXPECT_FALSE(s.Contains(P({F("spec"), F("containers")})));
  EXPECT_EQ(ToFieldsV1(s),
            J(R"({"f:spec":{"f:containers":{"k:{\"name\":\"web\"}":{"f:image":{}}}}})"));
  s.Insert({});  // the root is never a member
  EXPECT_EQ(s.Size(), 1u);
}

// ---------------------------------------------------------------------------------------------
// FieldsV1

TEST(FieldsV1Test, RoundTrips) {
  struct Case {
    const char* name;
    const char* fieldsv1;
  };
  const std::vector<Case> cases = {
      {"empty", "{}"},
      {"fields", R"({"f:metadata":{"f:labels":{"f:app":{}}},"f:spec":{"f:cpu":{}}})"},
      {"entry with fields", R"({"f:spec":{"f:containers":{"k:{\"name\":\"web\"}":{
           ".":{},"f:image":{},"f:name":{}}}}})"},
      {"multi-key map-list", R"({"f:ports":{"k:{\"containerPort\":80,\"protocol\":\"TCP\"}":{
           ".":{},"f:containerPort":{},"f:protocol":{}},
           "k:{\"containerPort\":443,\"protocol\":\"UDP\"}":{}}})"},
      {"special characters in keys",
       R"({"f:spec":{"f:containers":{"k:{\"name\":\"a\\\"b\\\\c\\u003cd\\u003e\\u0026 é\"}":{}}}})"},
      {"label keys with dots and slashes",
       R"({"f:metadata":{"f:labels":{"f:app.kubernetes.io/name":{},"f:a b":{}}}})"},
      {"set values", R"({"f:finalizers":{"v:\"x\"":{},"v:3":{},"v:true":{},"v:null":{}}})"},
      {"index", R"({"f:args":{"i:0":{},"i:12":{}}})"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    auto set = FromFieldsV1(J(c.fieldsv1));
    ASSERT_TRUE(set.ok()) << set.error().message();
    EXPECT_EQ(ToFieldsV1(*set), J(c.fieldsv1)) << ToFieldsV1(*set).dump();
    auto again = FromFieldsV1(ToFieldsV1(*set));
    ASSERT_TRUE(again.ok());
    EXPECT_TRUE(*again == *set);
  }
}

TEST(FieldsV1Test, EncodesKeysAsKube) {
  // Keys are JSON with sorted names and Go's escaping (HTML-safe <, >, &).
  auto set = FieldSet::FromObject(J(R"({"spec":{"containers":[{"name":"a\"<b>&","ports":[
           {"protocol":"TCP","containerPort":8080}]}]}})"),
                                  TestSchema());
  ASSERT_TRUE(set.ok()) << set.error().message();
  const Json fieldsv1 = ToFieldsV1(*set);
  const Json& containers = fieldsv1["f:spec"]["f:containers"];
  const std::string key = R"(k:{"name":"a\"\u003cb\u003e\u0026"})";
  ASSERT_TRUE(containers.contains(key)) << containers.dump();
  EXPECT_TRUE(containers[key]["f:ports"].contains(R"(k:{"containerPort":8080,"protocol":"TCP"})"))
      << containers.dump();
}

TEST(FieldsV1Test, RejectsMalformed) {
  struct Case {
    const char* name;
    const char* fieldsv1;
  };
  const std::vector<Case> cases = {
      {"not an object", "[]"},
      {"leaf not an object", R"({"f:spec":{"f:cpu":1}})"},
      {"key not JSON", R"({"k:{name":{}})"},
      {"key not an object", R"({"k:[1]":{}})"},
      {"index not a number", R"({"f:args":{"i:x":{}}})"},
      {"too short", R"({"f":{}})"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    auto set = FromFieldsV1(J(c.fieldsv1));
    ASSERT_FALSE(set.ok());
    EXPECT_EQ(set.error().code(), Code::kBadRequest);
  }
  // Unknown element types are skipped, as kube does, so newer writers do not break us.
  auto set = FromFieldsV1(J(R"({"f:a":{},"z:future":{"f:b":{}}})"));
  ASSERT_TRUE(set.ok());
  EXPECT_EQ(ToFieldsV1(*set), J(R"({"f:a":{}})"));
}

// ---------------------------------------------------------------------------------------------
// metadata.managedFields

TEST(ManagedFieldsTest, ParseAndSerializeRoundTrip) {
  const Json wire = J(R"([
    {"manager":"kubectl","operation":"Apply","apiVersion":"lintel.dev/v1alpha1",
     "time":"2024-01-01T00:00:00Z","fieldsType":"FieldsV1",
     "fieldsV1":{"f:spec":{"f:cpu":{}}}},
    {"manager":"lintel-agent","operation":"Update","apiVersion":"lintel.dev/v1alpha1",
     "time":"2024-01-02T00:00:00Z","fieldsType":"FieldsV1",
     "fieldsV1":{"f:status":{".":{},"f:phase":{}}},"subresource":"status"}])");
  auto entries = ParseManagedFields(wire);
  ASSERT_TRUE(entries.ok()) << entries.error().message();
  ASSERT_EQ(entries->size(), 2u);
  EXPECT_EQ((*entries)[1].manager, "lintel-agent");
  EXPECT_EQ((*entries)[1].operation, "Update");
  EXPECT_EQ((*entries)[1].subresource, "status");
  EXPECT_TRUE((*entries)[1].fields.Contains(P({F("status"), F("phase")})));
  EXPECT_EQ(ManagedFieldsToJson(*entries), wire);

  auto none = ParseManagedFields(Json());
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());

  Json obj = J(R"({"metadata":{"name":"a"}})");
  SetManagedFields(obj, *entries);
  EXPECT_EQ(obj["metadata"]["managedFields"], wire);
  SetManagedFields(obj, {});
  EXPECT_EQ(obj, J(R"({"metadata":{"name":"a"}})"));
}

TEST(ManagedFieldsTest, ValidationErrorsAreInvalidCauses) {
  const std::string valid = R"("manager":"m","apiVersion":"v1","fieldsV1":{})";
  struct Case {
    const char* name;
    std::string json;
    Cause want;
  };
  const std::vector<Case> cases = {
      {"not an array",
       R"({"a":1})",
       {"FieldValueTypeInvalid", "metadata.managedFields",
        R"(Invalid value: {"a":1}: must be an array of managed fields entries)"}},
      {"entry not an object",
       "[1]",
       {"FieldValueTypeInvalid", "metadata.managedFields[0]",
        "Invalid value: 1: must be an object"}},
      {"bad operation",
       "[{" + valid + R"(,"operation":"Patch","fieldsType":"FieldsV1"}])",
       {"FieldValueInvalid", "metadata.managedFields[0].operation",
        "Invalid value: \"Patch\": must be `Apply` or `Update`"}},
      {"missing apiVersion",
       R"([{"manager":"m","operation":"Update","fieldsType":"FieldsV1","fieldsV1":{}}])",
       {"FieldValueRequired", "metadata.managedFields[0].apiVersion", "Required value"}},
      {"bad fieldsType",
       "[{" + valid + R"(,"operation":"Apply","fieldsType":"FieldsV2"}])",
       {"FieldValueInvalid", "metadata.managedFields[0].fieldsType",
        "Invalid value: \"FieldsV2\": must be `FieldsV1`"}},
      {"bad time",
       "[{" + valid + R"(,"operation":"Apply","fieldsType":"FieldsV1","time":"yesterday"}])",
       {"FieldValueInvalid", "metadata.managedFields[0].time",
        "Invalid value: \"yesterday\": must be an RFC 3339 timestamp"}},
      {"malformed fieldsV1",
       R"([{"manager":"m","operation":"Apply","apiVersion":"v1","fieldsType":"FieldsV1",
            "fieldsV1":{"f:a":1}}])",
       {"FieldValueInvalid", "metadata.managedFields[0].fieldsV1",
        "Invalid value: malformed fieldsV1 at .a: expected an object"}},
      {"manager too long",
       "[{\"manager\":\"" + std::string(129, 'm') +
           R"(","operation":"Apply","apiVersion":"v1","fieldsType":"FieldsV1"}])",
       {"FieldValueTooLong", "metadata.managedFields[0].manager",
        "Too long: may not be more than 128 bytes"}},
      {"manager not a string",
       R"([{"manager":7,"operation":"Apply","apiVersion":"v1"}])",
       {"FieldValueTypeInvalid", "metadata.managedFields[0].manager",
        "Invalid value: 7: must be a string"}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    auto r = ParseManagedFields(J(c.json));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code(), Code::kInvalid);
    ASSERT_EQ(r.error().causes().size(), 1u) << r.error().message();
    EXPECT_EQ(r.error().causes()[0], c.want) << r.error().causes()[0].message;
    EXPECT_EQ(r.error().message(), c.want.field + ": " + c.want.message);
  }
}

TEST(ManagedFieldsTest, ForWriteFollowsDecodeLiveOrNew) {
  const Json entry = J(R"({"manager":"m","operation":"Update","apiVersion":"v1",
                           "fieldsType":"FieldsV1","fieldsV1":{"f:spec":{"f:a":{}}}})");
  const Json other = J(R"({"manager":"other","operation":"Update","apiVersion":"v1",
                           "fieldsType":"FieldsV1","fieldsV1":{"f:spec":{"f:b":{}}}})");
  Json live = {{"metadata", {{"managedFields", Json::array({entry})}}}};
  auto request = [](Json managed_fields) {
    Json r = {{"metadata", Json::object()}};
    if (!managed_fields.is_null()) {
      r["metadata"]["managedFields"] = std::move(managed_fields);
    }
    return r;
  };
  struct Case {
    const char* name;
    Json request;
    bool ignore_request;
    std::vector<std::string> want_managers;
  };
  const std::vector<Case> cases = {
      {"absent keeps live", request(Json()), false, {"m"}},
      {"empty list resets", request(Json::array()), false, {}},
      {"[{}] resets", request(J("[{}]")), false, {}},
      {"valid entries replace", request(Json::array({other})), false, {"other"}},
      {"invalid entries keep live", request(J(R"([{"operation":"Nope"}])")), false, {"m"}},
      {"subresource writes keep live", request(Json::array({other})), true, {"m"}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    std::vector<std::string> got;
    for (const ManagedFieldsEntry& e : ManagedFieldsForWrite(live, c.request, c.ignore_request)) {
      got.push_back(e.manager);
    }
    EXPECT_EQ(got, c.want_managers);
  }
}

// ---------------------------------------------------------------------------------------------
// Apply

TEST(ApplyTest, CreatesObjectAndOwnsItsFields) {
  Object o;
  ApplyResult r = o.Apply(R"({"apiVersion":"lintel.dev/v1alpha1","kind":"VirtualMachine",
      "metadata":{"name":"vm","namespace":"default","labels":{"app":"web"}},
      "spec":{"cpu":2,"containers":[{"name":"web","image":"nginx"}]}})",
                          "kubectl", "2024-01-01T00:00:00Z");
  EXPECT_TRUE(r.object_changed);
  EXPECT_EQ(r.object["spec"], J(R"({"cpu":2,"containers":[{"name":"web","image":"nginx"}]})"));
  ASSERT_EQ(r.managed.size(), 1u);
  EXPECT_EQ(ManagedFieldsToJson(r.managed), J(R"([{"manager":"kubectl","operation":"Apply",
      "apiVersion":"lintel.dev/v1alpha1","time":"2024-01-01T00:00:00Z","fieldsType":"FieldsV1",
      "fieldsV1":{"f:metadata":{"f:labels":{"f:app":{}}},"f:spec":{"f:cpu":{},"f:containers":{
        "k:{\"name\":\"web\"}":{".":{},"f:image":{},"f:name":{}}}}}}])"));
  EXPECT_EQ(r.object["metadata"]["managedFields"], ManagedFieldsToJson(r.managed));
}

TEST(ApplyTest, ReapplyWithChangedValue) {
  Object o;
  o.Apply(R"({"spec":{"cpu":1,"memory":"1Gi"}})", "kubectl", "2024-01-01T00:00:00Z");
  ApplyResult r =
      o.Apply(R"({"spec":{"cpu":2,"memory":"1Gi"}})", "kubectl", "2024-01-02T00:00:00Z");
  EXPECT_TRUE(r.object_changed);
  EXPECT_EQ(r.object["spec"], J(R"({"cpu":2,"memory":"1Gi"})"));
  ASSERT_EQ(r.managed.size(), 1u);
  EXPECT_EQ(r.managed[0].time, "2024-01-02T00:00:00Z");
  EXPECT_TRUE(r.managed[0].fields == Fields(R"({"f:spec":{"f:cpu":{},"f:memory":{}}})"));
}

TEST(ApplyTest, ReapplyingTheSameConfigIsANoOp) {
  Object o;
  o.Apply(R"({"spec":{"cpu":1}})", "kubectl", "2024-01-01T00:00:00Z");
  ApplyResult r = o.Apply(R"({"spec":{"cpu":1}})", "kubectl", "2024-01-02T00:00:00Z");
  EXPECT_FALSE(r.object_changed);
  ASSERT_EQ(r.managed.size(), 1u);
  EXPECT_EQ(r.managed[0].time, "2024-01-01T00:00:00Z");
}

TEST(ApplyTest, DroppedFieldIsRemoved) {
  struct Case {
    const char* name;
    const char* first;
    const char* second;
    const char* want_spec;
  };
  const std::vector<Case> cases = {
      {"scalar", R"({"spec":{"cpu":1,"memory":"1Gi"}})", R"({"spec":{"cpu":1}})", R"({"cpu":1})"},
      {"map-list entry",
       R"({"spec":{"cpu":1,"containers":[{"name":"a","image":"x"},{"name":"b","image":"y"}]}})",
       R"({"spec":{"cpu":1,"containers":[{"name":"b","image":"y"}]}})",
       R"({"cpu":1,"containers":[{"name":"b","image":"y"}]})"},
      {"field of a kept entry",
       R"({"spec":{"containers":[{"name":"a","image":"x","command":"run"}]}})",
       R"({"spec":{"containers":[{"name":"a","image":"x"}]}})",
       R"({"containers":[{"name":"a","image":"x"}]})"},
      {"set value", R"({"spec":{"cpu":1,"tags":["x","y"]}})", R"({"spec":{"cpu":1,"tags":["y"]}})",
       R"({"cpu":1,"tags":["y"]})"},
      {"emptied containers go too", R"({"spec":{"cpu":1,"extra":{"a":{"b":1}},"tags":["x"]}})",
       R"({"spec":{"cpu":1}})", R"({"cpu":1})"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    Object o;
    o.Apply(c.first, "kubectl", "2024-01-01T00:00:00Z");
    ApplyResult r = o.Apply(c.second, "kubectl", "2024-01-02T00:00:00Z");
    EXPECT_EQ(r.object["spec"], J(c.want_spec));
    auto want_set = FieldSet::FromObject(J(c.second), TestSchema());
    ASSERT_TRUE(want_set.ok());
    ASSERT_EQ(r.managed.size(), 1u);
    EXPECT_TRUE(r.managed[0].fields == *want_set) << r.managed[0].fields.ToString();
  }
}

TEST(ApplyTest, DroppedFieldCoOwnedByAnotherManagerIsKept) {
  Object o;
  o.Apply(R"({"spec":{"cpu":1,"memory":"1Gi"}})", "alice", "2024-01-01T00:00:00Z");
  o.Apply(R"({"spec":{"memory":"1Gi"}})", "bob", "2024-01-02T00:00:00Z");  // shares memory
  ApplyResult r = o.Apply(R"({"spec":{"cpu":1}})", "alice", "2024-01-03T00:00:00Z");
  EXPECT_EQ(r.object["spec"], J(R"({"cpu":1,"memory":"1Gi"})"));
  ASSERT_NE(o.Owned("alice", "Apply"), nullptr);
  EXPECT_TRUE(*o.Owned("alice", "Apply") == Fields(R"({"f:spec":{"f:cpu":{}}})"));
  ASSERT_NE(o.Owned("bob", "Apply"), nullptr);
  EXPECT_TRUE(*o.Owned("bob", "Apply") == Fields(R"({"f:spec":{"f:memory":{}}})"));

  // Owned by an updater also counts.
  Object u;
  u.Update("kubectl-create", "2024-01-01T00:00:00Z",
           [](Json& obj) { obj = J(R"({"spec":{"cpu":1,"memory":"1Gi"}})"); });
  u.Apply(R"({"spec":{"cpu":1,"memory":"1Gi"}})", "alice", "2024-01-02T00:00:00Z");
  ApplyResult r2 = u.Apply(R"({"spec":{"cpu":1}})", "alice", "2024-01-03T00:00:00Z");
  EXPECT_EQ(r2.object["spec"], J(R"({"cpu":1,"memory":"1Gi"})"));
}

TEST(ApplyTest, ConflictWithUpdateManagerThenForce) {
  Object o;
  o.Apply(R"({"spec":{"cpu":1}})", "kubectl", "2024-01-01T00:00:00Z");
  o.Update("kubectl-patch", "2024-01-02T00:00:00Z", [](Json& obj) { obj["spec"]["cpu"] = 2; });

  auto r = o.TryApply(R"({"spec":{"cpu":3}})", "kubectl");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), Code::kConflict);
  EXPECT_EQ(r.error().message(),
            "Apply failed with 1 conflict: conflict with \"kubectl-patch\" using "
            "lintel.dev/v1alpha1: .spec.cpu");
  ASSERT_EQ(r.error().causes().size(), 1u);
  EXPECT_EQ(r.error().causes()[0],
            (Cause{"FieldManagerConflict", ".spec.cpu",
                   "conflict with \"kubectl-patch\" using lintel.dev/v1alpha1"}));

  ApplyResult forced = o.Apply(R"({"spec":{"cpu":3}})", "kubectl", "2024-01-03T00:00:00Z",
                               /*force=*/true);
  EXPECT_EQ(forced.object["spec"]["cpu"], 3);
  EXPECT_EQ(o.Owned("kubectl-patch", "Update"), nullptr);  // left with nothing: dropped
  ASSERT_NE(o.Owned("kubectl", "Apply"), nullptr);
  EXPECT_TRUE(o.Owned("kubectl", "Apply")->Contains(P({F("spec"), F("cpu")})));
}

TEST(ApplyTest, ConflictMessages) {
  struct Case {
    const char* name;
    std::vector<ManagedFieldsEntry> managed;
    const char* message;
    std::vector<Cause> causes;
  };
  const char* live = R"({"spec":{"cpu":1,"memory":"1Gi","disk":"10Gi"}})";
  const char* config = R"({"spec":{"cpu":2,"memory":"2Gi","disk":"20Gi"}})";
  const std::vector<Case> cases = {
      {"another applier has no version",
       {Entry("other", kOperationApply, R"({"f:spec":{"f:cpu":{},"f:memory":{},"f:disk":{}}})")},
       "Apply failed with 3 conflicts: conflicts with \"other\":\n- .spec.cpu\n- .spec.disk\n"
       "- .spec.memory",
       {{"FieldManagerConflict", ".spec.cpu", "conflict with \"other\""},
        {"FieldManagerConflict", ".spec.disk", "conflict with \"other\""},
        {"FieldManagerConflict", ".spec.memory", "conflict with \"other\""}}},
      {"several managers, grouped and sorted",
       {Entry("zed", kOperationUpdate, R"({"f:spec":{"f:cpu":{}}})"),
        Entry("amy", kOperationUpdate, R"({"f:spec":{"f:memory":{},"f:disk":{}}})")},
       "Apply failed with 3 conflicts: conflicts with \"amy\" using lintel.dev/v1alpha1:\n"
       "- .spec.disk\n- .spec.memory\nconflicts with \"zed\" using lintel.dev/v1alpha1:\n"
       "- .spec.cpu",
       {{"FieldManagerConflict", ".spec.disk", "conflict with \"amy\" using lintel.dev/v1alpha1"},
        {"FieldManagerConflict", ".spec.memory", "conflict with \"amy\" using lintel.dev/v1alpha1"},
        {"FieldManagerConflict", ".spec.cpu", "conflict with \"zed\" using lintel.dev/v1alpha1"}}},
      {"subresource is named",
       {Entry("agent", kOperationUpdate, R"({"f:spec":{"f:cpu":{}}})", "2024-01-01T00:00:00Z",
              "scale")},
       "Apply failed with 1 conflict: conflict with \"agent\" with subresource \"scale\" using "
       "lintel.dev/v1alpha1: .spec.cpu",
       {{"FieldManagerConflict", ".spec.cpu",
         "conflict with \"agent\" with subresource \"scale\" using lintel.dev/v1alpha1"}}},
      {"same value is shared, not a conflict",
       {Entry("other", kOperationApply, R"({"f:spec":{"f:cpu":{},"f:memory":{},"f:disk":{}}})")},
       nullptr,
       {}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    auto r = Apply(J(live), J(c.message ? config : live), "kubectl", false, c.managed, TestSchema(),
                   kVersion, "2024-06-01T00:00:00Z");
    if (c.message == nullptr) {
      ASSERT_TRUE(r.ok()) << r.error().message();
      EXPECT_FALSE(r->object_changed);
      ASSERT_EQ(r->managed.size(), 2u);
      EXPECT_TRUE(r->managed[0].fields == r->managed[1].fields);
      continue;
    }
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code(), Code::kConflict);
    EXPECT_EQ(r.error().message(), c.message);
    EXPECT_EQ(r.error().causes(), c.causes);
  }
}

TEST(ApplyTest, TwoAppliersWithDisjointFieldsCoexist) {
  Object o;
  o.Apply(R"({"metadata":{"name":"vm"},"spec":{"cpu":1}})", "alice", "2024-01-01T00:00:00Z");
  o.Apply(R"({"metadata":{"name":"vm","labels":{"team":"x"}},"spec":{"memory":"1Gi"}})", "bob",
          "2024-01-02T00:00:00Z");
  ApplyResult r =
      o.Apply(R"({"metadata":{"name":"vm"},"spec":{"cpu":2}})", "alice", "2024-01-03T00:00:00Z");
  EXPECT_EQ(r.object["spec"], J(R"({"cpu":2,"memory":"1Gi"})"));
  EXPECT_EQ(r.object["metadata"]["labels"], J(R"({"team":"x"})"));
  ASSERT_EQ(r.managed.size(), 2u);
  // Sorted as kube sorts: operation, then time.
  EXPECT_EQ(r.managed[0].manager, "bob");
  EXPECT_EQ(r.managed[0].time, "2024-01-02T00:00:00Z");
  EXPECT_EQ(r.managed[1].manager, "alice");
  EXPECT_EQ(r.managed[1].time, "2024-01-03T00:00:00Z");
  EXPECT_TRUE(r.managed[1].fields == Fields(R"({"f:spec":{"f:cpu":{}}})"));
}

TEST(ApplyTest, EditTakesOwnershipSoTheNextApplyConflicts) {
  Object o;
  o.Apply(R"({"spec":{"cpu":1,"memory":"1Gi"}})", "kubectl", "2024-01-01T00:00:00Z");
  o.Update("kubectl-edit", "2024-01-02T00:00:00Z", [](Json& obj) { obj["spec"]["cpu"] = 4; });
  ASSERT_NE(o.Owned("kubectl-edit", "Update"), nullptr);
  EXPECT_TRUE(*o.Owned("kubectl-edit", "Update") == Fields(R"({"f:spec":{"f:cpu":{}}})"));
  EXPECT_TRUE(*o.Owned("kubectl", "Apply") == Fields(R"({"f:spec":{"f:memory":{}}})"));

  auto r = o.TryApply(R"({"spec":{"cpu":1,"memory":"1Gi"}})", "kubectl");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message(),
            "Apply failed with 1 conflict: conflict with \"kubectl-edit\" using "
            "lintel.dev/v1alpha1: .spec.cpu");
  // Applying the edited value instead shares it.
  auto shared = o.TryApply(R"({"spec":{"cpu":4,"memory":"1Gi"}})", "kubectl");
  ASSERT_TRUE(shared.ok()) << shared.error().message();
  EXPECT_FALSE(shared->object_changed);
}

TEST(ApplyTest, MapListMergeKeepsEntriesOwnedByOthers) {
  Object o;
  o.Apply(R"({"spec":{"containers":[{"name":"web","image":"nginx:1"}]}})", "alice",
          "2024-01-01T00:00:00Z");
  o.Apply(R"({"spec":{"containers":[{"name":"sidecar","image":"envoy"}]}})", "bob",
          "2024-01-02T00:00:00Z");
  EXPECT_EQ(o.live["spec"]["containers"],
            J(R"([{"name":"web","image":"nginx:1"},{"name":"sidecar","image":"envoy"}])"));

  // Alice changes her entry and adds one: live order kept, new entries appended.
  ApplyResult r = o.Apply(R"({"spec":{"containers":[{"name":"db","image":"pg"},
      {"name":"web","image":"nginx:2"}]}})",
                          "alice", "2024-01-03T00:00:00Z");
  EXPECT_EQ(r.object["spec"]["containers"],
            J(R"([{"name":"web","image":"nginx:2"},{"name":"sidecar","image":"envoy"},
                  {"name":"db","image":"pg"}])"));

  // Alice drops hers: only bob's entry remains.
  r = o.Apply(R"({"spec":{"containers":[]}})", "alice", "2024-01-04T00:00:00Z");
  EXPECT_EQ(r.object["spec"]["containers"], J(R"([{"name":"sidecar","image":"envoy"}])"));
  EXPECT_EQ(o.Owned("alice", "Apply"), nullptr);  // owns nothing any more

  // A field bob adds to an entry merges into it without touching alice's fields.
  Object m;
  m.Apply(R"({"spec":{"containers":[{"name":"web","image":"nginx"}]}})", "alice",
          "2024-01-01T00:00:00Z");
  m.Apply(R"({"spec":{"containers":[{"name":"web","command":"serve"}]}})", "bob",
          "2024-01-02T00:00:00Z");
  EXPECT_EQ(m.live["spec"]["containers"],
            J(R"([{"name":"web","image":"nginx","command":"serve"}])"));
  // Alice drops the entry, but bob still owns it: it stays with bob's fields and the key.
  r = m.Apply(R"({"spec":{"cpu":1}})", "alice", "2024-01-03T00:00:00Z");
  EXPECT_EQ(r.object["spec"]["containers"], J(R"([{"name":"web","command":"serve"}])"));
}

TEST(ApplyTest, SetsMergeByValueAndAtomicListsReplace) {
  Object o;
  o.Apply(R"({"spec":{"tags":["a","b"],"args":["x","y"]}})", "alice", "2024-01-01T00:00:00Z");
  ApplyResult r = o.Apply(R"({"spec":{"tags":["c","a"]}})", "bob", "2024-01-02T00:00:00Z");
  EXPECT_EQ(r.object["spec"]["tags"], J(R"(["a","b","c"])"));
  EXPECT_TRUE(*o.Owned("bob", "Apply") ==
              Fields(R"({"f:spec":{"f:tags":{"v:\"a\"":{},"v:\"c\"":{}}}})"));

  // An atomic list is one field: another applier's different list conflicts as a whole.
  auto conflict = o.TryApply(R"({"spec":{"args":["z"]}})", "bob");
  ASSERT_FALSE(conflict.ok());
  EXPECT_EQ(conflict.error().causes()[0].field, ".spec.args");
  r = o.Apply(R"({"spec":{"tags":["c","a"],"args":["z"]}})", "bob", "2024-01-03T00:00:00Z",
              /*force=*/true);
  EXPECT_EQ(r.object["spec"]["args"], J(R"(["z"])"));

  // Alice drops "b" (only hers) and "a" (shared with bob): only "b" goes.
  r = o.Apply(R"({"spec":{"tags":[]}})", "alice", "2024-01-04T00:00:00Z");
  EXPECT_EQ(r.object["spec"]["tags"], J(R"(["a","c"])"));
}

TEST(ApplyTest, AtomicMapsAreReplacedWhole) {
  Object o;
  o.Apply(R"({"spec":{"nodeSelector":{"zone":"a","disk":"ssd"}}})", "alice",
          "2024-01-01T00:00:00Z");
  ApplyResult r =
      o.Apply(R"({"spec":{"nodeSelector":{"zone":"b"}}})", "alice", "2024-01-02T00:00:00Z");
  EXPECT_EQ(r.object["spec"]["nodeSelector"], J(R"({"zone":"b"})"));
  EXPECT_TRUE(*o.Owned("alice", "Apply") == Fields(R"({"f:spec":{"f:nodeSelector":{}}})"));
}

TEST(ApplyTest, MergeRules) {
  struct Case {
    const char* name;
    const char* live;
    const char* config;
    const char* want;
  };
  const std::vector<Case> cases = {
      {"maps merge per field", R"({"spec":{"a":1,"m":{"x":1}}})", R"({"spec":{"m":{"y":2}}})",
       R"({"spec":{"a":1,"m":{"x":1,"y":2}}})"},
      {"scalars and type changes take the config", R"({"spec":{"a":1,"b":{"c":1}}})",
       R"({"spec":{"a":"one","b":5}})", R"({"spec":{"a":"one","b":5}})"},
      {"atomic lists are replaced", R"({"spec":{"args":["a","b"]}})", R"({"spec":{"args":["c"]}})",
       R"({"spec":{"args":["c"]}})"},
      {"map-list entries merge per key, nested ones too",
       R"({"spec":{"containers":[{"name":"web","image":"a","ports":[
           {"containerPort":80,"protocol":"TCP","name":"http"}]}]}})",
       R"({"spec":{"containers":[{"name":"web","ports":[
           {"containerPort":80,"protocol":"TCP","hostPort":8080},
           {"containerPort":80,"protocol":"UDP"}]}]}})",
       R"({"spec":{"containers":[{"name":"web","image":"a","ports":[
           {"containerPort":80,"protocol":"TCP","name":"http","hostPort":8080},
           {"containerPort":80,"protocol":"UDP"}]}]}})"},
      {"sets take the union, live order first", R"({"spec":{"tags":["b","a"]}})",
       R"({"spec":{"tags":["c","a"]}})", R"({"spec":{"tags":["b","a","c"]}})"},
      {"null against a live map keeps its entries", R"({"spec":{"m":{"x":1}}})",
       R"({"spec":{"m":null}})", R"({"spec":{"m":{"x":1}}})"},
      {"null replaces a scalar", R"({"spec":{"a":1}})", R"({"spec":{"a":null}})",
       R"({"spec":{"a":null}})"},
      {"unkeyable legacy entries are kept, not an error",
       R"({"spec":{"containers":[{"image":"old"},{"name":"a","image":"x"}]}})",
       R"({"spec":{"containers":[{"name":"a","image":"y"},{"name":"b"}]}})",
       R"({"spec":{"containers":[{"image":"old"},{"name":"a","image":"y"},{"name":"b"}]}})"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    auto r = Apply(J(c.live), J(c.config), "kubectl", false, {}, TestSchema(), kVersion,
                   "2024-06-01T00:00:00Z");
    ASSERT_TRUE(r.ok()) << r.error().message();
    Json got = r->object;
    got.erase("metadata");
    EXPECT_EQ(got, J(c.want)) << got.dump();
  }
}

TEST(ApplyTest, IgnoredPathsAreNeverManaged) {
  const Json live = J(R"({"apiVersion":"lintel.dev/v1alpha1","kind":"VirtualMachine",
      "metadata":{"name":"vm","uid":"u1","resourceVersion":"7","generation":2,
                  "creationTimestamp":"2024-01-01T00:00:00Z"},
      "spec":{"cpu":1},"status":{"phase":"Running"}})");
  const Json config = J(R"({"apiVersion":"lintel.dev/v1alpha1","kind":"VirtualMachine",
      "metadata":{"name":"vm","uid":"u1","resourceVersion":"7","labels":{"a":"b"}},
      "spec":{"cpu":2},"status":{"phase":"Failed"}})");
  auto r = Apply(live, config, "kubectl", false, {}, TestSchema(), kVersion, "2024-06-01T00:00:00Z",
                 "", {".status"});
  ASSERT_TRUE(r.ok()) << r.error().message();
  ASSERT_EQ(r->managed.size(), 1u);
  EXPECT_EQ(ToFieldsV1(r->managed[0].fields),
            J(R"({"f:metadata":{"f:labels":{"f:a":{}}},"f:spec":{"f:cpu":{}}})"));
  EXPECT_EQ(r->object["status"], J(R"({"phase":"Running"})"));  // the config's status dropped
  EXPECT_EQ(r->object["spec"]["cpu"], 2);

  // Nor does an update take them.
  Json next = live;
  next["status"]["phase"] = "Failed";
  next["metadata"]["resourceVersion"] = "8";
  next["spec"]["cpu"] = 3;
  auto managed = UpdateManagedFields(live, next, "lintel-agent", {}, TestSchema(), kVersion,
                                     "2024-06-01T00:00:00Z", "", {".status"});
  ASSERT_EQ(managed.size(), 1u);
  EXPECT_EQ(ToFieldsV1(managed[0].fields), J(R"({"f:spec":{"f:cpu":{}}})"));
  // The status subresource ignores the rest instead.
  managed = UpdateManagedFields(live, next, "lintel-agent", {}, TestSchema(), kVersion,
                                "2024-06-01T00:00:00Z", "status", {".spec", ".metadata"});
  ASSERT_EQ(managed.size(), 1u);
  EXPECT_EQ(managed[0].subresource, "status");
  EXPECT_EQ(ToFieldsV1(managed[0].fields), J(R"({"f:status":{"f:phase":{}}})"));
}

TEST(ApplyTest, RejectsBadConfigurations) {
  struct Case {
    const char* name;
    const char* config;
    const char* message;
  };
  const std::vector<Case> cases = {
      {"not an object", "[1]", "apply configuration must be a JSON object"},
      {"sets managedFields", R"({"metadata":{"managedFields":[]}})",
       "metadata.managedFields must be nil"},
      {"other version", R"({"apiVersion":"lintel.dev/v1"})",
       "Incorrect version specified in apply patch. Specified patch version: lintel.dev/v1, "
       "expected: lintel.dev/v1alpha1"},
      {"entry without key", R"({"spec":{"containers":[{"image":"x"}]}})",
       R"(.spec.containers: element 0: associative list with keys has an element that omits key field "name")"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    auto r = Apply(Json(), J(c.config), "kubectl", false, {}, TestSchema(), kVersion,
                   "2024-06-01T00:00:00Z");
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code(), Code::kBadRequest);
    EXPECT_EQ(r.error().message(), c.message);
  }
}

TEST(ApplyTest, WorksWithAPlainSchemaOracle) {
  SchemaOracle oracle = TestLists;
  auto r = Apply(Json(), J(R"({"spec":{"containers":[{"name":"a"}]}})"), "m", false, {}, oracle,
                 kVersion, "2024-06-01T00:00:00Z");
  ASSERT_TRUE(r.ok()) << r.error().message();
  EXPECT_TRUE(r->managed[0].fields.Contains(
      P({F("spec"), F("containers"), PathElement::Key(J(R"({"name":"a"})"))})));
}

// ---------------------------------------------------------------------------------------------
// UpdateManagedFields

TEST(UpdateManagedFieldsTest, CreateOwnsEverythingItSets) {
  const Json created = J(R"({"apiVersion":"lintel.dev/v1alpha1","kind":"VirtualMachine",
      "metadata":{"name":"vm","labels":{"app":"web"}},
      "spec":{"cpu":1,"containers":[{"name":"web","image":"nginx"}]}})");
  auto managed = UpdateManagedFields(Json(), created, "kubectl-create", {}, TestSchema(), kVersion,
                                     "2024-01-01T00:00:00Z");
  ASSERT_EQ(managed.size(), 1u);
  // Maps and entries the write created are owned too (".") as kube shows for custom resources.
  EXPECT_EQ(ManagedFieldsToJson(managed), J(R"([{"manager":"kubectl-create","operation":"Update",
      "apiVersion":"lintel.dev/v1alpha1","time":"2024-01-01T00:00:00Z","fieldsType":"FieldsV1",
      "fieldsV1":{"f:metadata":{"f:labels":{".":{},"f:app":{}}},"f:spec":{".":{},"f:cpu":{},
        "f:containers":{".":{},"k:{\"name\":\"web\"}":{".":{},"f:image":{},"f:name":{}}}}}}])"));
}

TEST(UpdateManagedFieldsTest, TakesChangedFieldsAndKeepsOtherTimes) {
  const Json old_obj = J(R"({"spec":{"cpu":1,"memory":"1Gi","disk":"1G"}})");
  const std::vector<ManagedFieldsEntry> managed = {
      Entry("alice", kOperationApply, R"({"f:spec":{"f:cpu":{},"f:memory":{}}})",
            "2024-01-01T00:00:00Z"),
      Entry("bob", kOperationUpdate, R"({"f:spec":{"f:disk":{}}})", "2024-01-02T00:00:00Z"),
      Entry("carol", kOperationUpdate, R"({"f:spec":{"f:gpu":{}}})", "2024-01-03T00:00:00Z"),
  };
  struct Case {
    const char* name;
    const char* new_obj;
    const char* manager;
    // manager -> FieldsV1 (and time) expected after the write, in sorted order
    std::vector<std::tuple<std::string, std::string, std::string>> want;
  };
  const std::vector<Case> cases = {
      {"change one field",
       R"({"spec":{"cpu":2,"memory":"1Gi","disk":"1G"}})",
       "kubectl-patch",
       {{"alice", R"({"f:spec":{"f:memory":{}}})", "2024-01-01T00:00:00Z"},
        {"bob", R"({"f:spec":{"f:disk":{}}})", "2024-01-02T00:00:00Z"},
        {"carol", R"({"f:spec":{"f:gpu":{}}})", "2024-01-03T00:00:00Z"},
        {"kubectl-patch", R"({"f:spec":{"f:cpu":{}}})", "2024-06-01T00:00:00Z"}}},
      {"merges with the writer's entry; emptied entries go",
       R"({"spec":{"cpu":1,"memory":"1Gi","disk":"2G","net":"x"}})",
       "carol",
       {{"alice", R"({"f:spec":{"f:cpu":{},"f:memory":{}}})", "2024-01-01T00:00:00Z"},
        {"carol", R"({"f:spec":{"f:gpu":{},"f:disk":{},"f:net":{}}})", "2024-06-01T00:00:00Z"}}},
      {"removal takes nothing and stamps nothing",
       R"({"spec":{"cpu":1,"disk":"1G"}})",
       "kubectl-patch",
       {{"alice", R"({"f:spec":{"f:cpu":{}}})", "2024-01-01T00:00:00Z"},
        {"bob", R"({"f:spec":{"f:disk":{}}})", "2024-01-02T00:00:00Z"},
        {"carol", R"({"f:spec":{"f:gpu":{}}})", "2024-01-03T00:00:00Z"}}},
      {"no change",
       R"({"spec":{"cpu":1,"memory":"1Gi","disk":"1G"}})",
       "bob",
       {{"alice", R"({"f:spec":{"f:cpu":{},"f:memory":{}}})", "2024-01-01T00:00:00Z"},
        {"bob", R"({"f:spec":{"f:disk":{}}})", "2024-01-02T00:00:00Z"},
        {"carol", R"({"f:spec":{"f:gpu":{}}})", "2024-01-03T00:00:00Z"}}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    auto got = UpdateManagedFields(old_obj, J(c.new_obj), c.manager, managed, TestSchema(),
                                   kVersion, "2024-06-01T00:00:00Z");
    ASSERT_EQ(got.size(), c.want.size());
    for (size_t i = 0; i < got.size(); ++i) {
      SCOPED_TRACE(got[i].manager);
      EXPECT_EQ(got[i].manager, std::get<0>(c.want[i]));
      EXPECT_EQ(ToFieldsV1(got[i].fields), J(std::get<1>(c.want[i])))
          << ToFieldsV1(got[i].fields).dump();
      EXPECT_EQ(got[i].time, std::get<2>(c.want[i]));
    }
  }
}

TEST(UpdateManagedFieldsTest, ListChanges) {
  Object o;
  o.Apply(R"({"spec":{"containers":[{"name":"web","image":"nginx"},{"name":"db","image":"pg"}],
      "tags":["a"]}})",
          "alice", "2024-01-01T00:00:00Z");
  // A patch that changes one entry's field, removes another entry and adds a set value.
  o.Update("kubectl-patch", "2024-01-02T00:00:00Z", [](Json& obj) {
    obj["spec"]["containers"] = J(R"([{"name":"web","image":"nginx:2"}])");
    obj["spec"]["tags"].push_back("b");
  });
  EXPECT_EQ(ToFieldsV1(*o.Owned("kubectl-patch", "Update")),
            J(R"({"f:spec":{"f:containers":{"k:{\"name\":\"web\"}":{"f:image":{}}},
                             "f:tags":{"v:\"b\"":{}}}})"));
  EXPECT_EQ(ToFieldsV1(*o.Owned("alice", "Apply")),
            J(R"({"f:spec":{"f:containers":{"k:{\"name\":\"web\"}":{".":{},"f:name":{}}},
                             "f:tags":{"v:\"a\"":{}}}})"));
}

TEST(UpdateManagedFieldsTest, TypeChangeTakesTheNodeAndDropsWhatWasBelow) {
  const std::vector<ManagedFieldsEntry> managed = {
      Entry("alice", kOperationApply, R"({"f:spec":{"f:x":{"f:a":{}},"f:y":{}}})")};
  auto got =
      UpdateManagedFields(J(R"({"spec":{"x":{"a":1},"y":1}})"), J(R"({"spec":{"x":5,"y":1}})"),
                          "bob", managed, TestSchema(), kVersion, "2024-06-01T00:00:00Z");
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(ToFieldsV1(got[0].fields), J(R"({"f:spec":{"f:y":{}}})"));
  EXPECT_EQ(got[1].manager, "bob");
  EXPECT_EQ(ToFieldsV1(got[1].fields), J(R"({"f:spec":{"f:x":{}}})"));
}

TEST(UpdateManagedFieldsTest, SubresourceAndVersionAreSeparateEntries) {
  const Json a = J(R"({"spec":{"cpu":1},"status":{"phase":"Pending"}})");
  const Json b = J(R"({"spec":{"cpu":1},"status":{"phase":"Running"}})");
  auto managed = UpdateManagedFields(
      a, b, "agent", {Entry("agent", kOperationUpdate, R"({"f:spec":{"f:cpu":{}}})")}, TestSchema(),
      kVersion, "2024-06-01T00:00:00Z", "status");
  ASSERT_EQ(managed.size(), 2u);
  EXPECT_EQ(managed[0].subresource, "");
  EXPECT_EQ(managed[1].subresource, "status");
  EXPECT_EQ(ToFieldsV1(managed[1].fields), J(R"({"f:status":{"f:phase":{}}})"));

  managed = UpdateManagedFields(a, b, "agent", managed, TestSchema(), "lintel.dev/v1",
                                "2024-06-02T00:00:00Z", "status");
  ASSERT_EQ(managed.size(), 2u);  // the v1alpha1 status entry lost phase to the v1 one
  EXPECT_EQ(managed[1].api_version, "lintel.dev/v1");
}

TEST(UpdateManagedFieldsTest, CapsUpdateEntries) {
  std::vector<ManagedFieldsEntry> managed;
  Json obj = J(R"({"spec":{}})");
  for (int i = 0; i < 12; ++i) {
    Json next = obj;
    next["spec"]["f" + std::to_string(i)] = i;
    char when[32];
    std::snprintf(when, sizeof(when), "2024-01-%02dT00:00:00Z", i + 1);
    managed = UpdateManagedFields(obj, next, "m" + std::to_string(i), managed, TestSchema(),
                                  kVersion, when);
    obj = next;
  }
  ASSERT_EQ(managed.size(), kMaxUpdateManagers);
  const ManagedFieldsEntry* ancient = FindEntry(managed, kAncientChangesManager, "Update");
  ASSERT_NE(ancient, nullptr);
  // The three oldest merged, with the newest of their times.
  EXPECT_EQ(ToFieldsV1(ancient->fields), J(R"({"f:spec":{"f:f0":{},"f:f1":{},"f:f2":{}}})"));
  EXPECT_EQ(ancient->time, "2024-01-03T00:00:00Z");
  EXPECT_EQ(FindEntry(managed, "m0", "Update"), nullptr);
  EXPECT_NE(FindEntry(managed, "m3", "Update"), nullptr);
}

// ---------------------------------------------------------------------------------------------
// Randomized properties

// A random object of the test kind: nested maps, a map-list, a set and an atomic list.
Json RandomObject(std::mt19937& rng) {
  auto coin = [&] { return std::uniform_int_distribution<int>(0, 1)(rng) == 1; };
  auto pick = [&](int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng); };
  Json spec = Json::object();
  if (coin()) {
    spec["cpu"] = pick(4);
  }
  if (coin()) {
    spec["m"] = {{"x", pick(3)}, {"n", {{"y", coin()}}}};
  }
  if (coin()) {
    spec["args"] = Json::array({pick(3), pick(3)});
  }
  if (coin()) {
    Json containers = Json::array();
    for (const char* name : {"web", "db", "cache"}) {
      if (!coin()) {
        continue;
      }
      Json c = {{"name", name}};
      if (coin()) {
        c["image"] = "img" + std::to_string(pick(3));
      }
      if (coin()) {
        c["ports"] = Json::array({{{"containerPort", 80}, {"protocol", "TCP"}}});
      }
      containers.push_back(std::move(c));
    }
    spec["containers"] = std::move(containers);
  }
  if (coin()) {
    Json tags = Json::array();
    for (const char* t : {"p", "q", "r"}) {
      if (coin()) {
        tags.push_back(t);
      }
    }
    spec["tags"] = std::move(tags);
  }
  return {{"apiVersion", std::string(kVersion)}, {"metadata", {{"name", "o"}}}, {"spec", spec}};
}

// What `path` names in `object`, or null.
const Json* Find(const Json& object, const Path& path) {
  const Json* node = &object;
  for (const PathElement& pe : path) {
    const Json* next = nullptr;
    if (pe.kind() == PathElement::Kind::kField && node->is_object()) {
      auto it = node->find(pe.text());
      next = it == node->end() ? nullptr : &*it;
    } else if (node->is_array()) {
      for (const Json& item : *node) {
        bool match = pe.kind() == PathElement::Kind::kValue ? item == pe.json() : item.is_object();
        if (pe.kind() == PathElement::Kind::kKey) {
          for (const auto& [k, v] : pe.json().items()) {
            match = match && item.contains(k) && item[k] == v;
          }
        }
        if (match) {
          next = &item;
          break;
        }
      }
    }
    if (next == nullptr) {
      return nullptr;
    }
    node = next;
  }
  return node;
}

TEST(ManagedFieldsPropertyTest, RandomApplies) {
  const uint32_t seed = std::random_device{}();
  SCOPED_TRACE("seed " + std::to_string(seed));
  RecordProperty("seed", std::to_string(seed));
  std::mt19937 rng(seed);
  for (int round = 0; round < 200; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    const Json a = RandomObject(rng);
    const Json b = RandomObject(rng);

    // FieldsV1 round-trips whatever FromObject makes.
    auto set = FieldSet::FromObject(a, TestSchema());
    ASSERT_TRUE(set.ok()) << set.error().message();
    auto back = FromFieldsV1(ToFieldsV1(*set));
    ASSERT_TRUE(back.ok());
    EXPECT_TRUE(*back == *set) << a.dump();

    // Alice creates, bob force-applies over it.
    Object o;
    o.Apply(a.dump(), "alice", "2024-01-01T00:00:00Z");
    o.Apply(b.dump(), "bob", "2024-01-02T00:00:00Z", /*force=*/true);
    // Bob owns exactly his configuration, less the fields nobody owns.
    auto bob_set = FieldSet::FromObject(b, TestSchema());
    ASSERT_TRUE(bob_set.ok());
    const FieldSet want_bob =
        bob_set->Difference(Fields(R"({"f:apiVersion":{},"f:metadata":{"f:name":{}}})"));
    const FieldSet* bob = o.Owned("bob", "Apply");
    EXPECT_TRUE((bob == nullptr && want_bob.Empty()) || (bob != nullptr && *bob == want_bob))
        << a.dump() << "\n"
        << b.dump();
    // Every owned field is in the object.
    for (const ManagedFieldsEntry& e : o.managed) {
      for (const Path& p : e.fields.Paths()) {
        EXPECT_NE(Find(o.live, p), nullptr)
            << e.manager << " owns " << PathToString(p) << " in " << o.live.dump();
      }
    }
    // A non-apply write to yet another object: still only existing fields are owned, and the
    // writer owns what it changed.
    Object u = o;
    const Json c = RandomObject(rng);
    u.Update("editor", "2024-01-03T00:00:00Z", [&](Json& obj) {
      Json md = obj["metadata"];
      obj = c;
      obj["metadata"] = md;
    });
    for (const ManagedFieldsEntry& e : u.managed) {
      for (const Path& p : e.fields.Paths()) {
        EXPECT_NE(Find(u.live, p), nullptr)
            << e.manager << " owns " << PathToString(p) << " in " << u.live.dump();
      }
    }
    // The writer owns every leaf it added or changed.
    auto new_set = FieldSet::FromObject(u.live, TestSchema());
    ASSERT_TRUE(new_set.ok());
    const FieldSet* editor = u.Owned("editor", "Update");
    for (const Path& p : new_set->Paths()) {
      if (p[0].text() != "spec") {
        continue;
      }
      const Json* before = Find(o.live, p);
      const Json* after = Find(u.live, p);
      bool changed_leaf = before == nullptr || (!before->is_structured() &&
                                                !after->is_structured() && *before != *after);
      if (changed_leaf) {
        EXPECT_TRUE(editor != nullptr && editor->Contains(p))
            << "editor should own " << PathToString(p) << " in " << u.live.dump();
      }
    }
    // Re-applying the same configuration is a no-op.
    const std::vector<ManagedFieldsEntry> before = o.managed;
    auto again = o.TryApply(b.dump(), "bob");
    ASSERT_TRUE(again.ok()) << again.error().message();
    EXPECT_FALSE(again->object_changed) << o.live.dump() << "\n" << b.dump();
    auto stamped = again->managed;
    for (auto& e : stamped) {
      if (e.manager == "bob") {
        e.time = FindEntry(before, "bob", "Apply")->time;
      }
    }
    EXPECT_TRUE(stamped == before);
  }
}

}  // namespace
}  // namespace lintel::apimachinery
