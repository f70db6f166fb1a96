#include "api/schema.h"

#include <gtest/gtest.h>

#include <algorithm>

namespace lintel::api {
namespace {

Schema TestSchema() {
  return Object({
      {"name", String().Required().WithFormat(Format::kDns1123Label)},
      {"cpu", Int().Min(1).Max(64).Default(1)},
      {"memory", QuantityType().Positive().Default("256Mi")},
      {"mode", String().Enum({"a", "b"}).Default("a")},
      {"tags", Array(String()).ListSet()},
      {"disks", Array(Object({{"name", String().Required()}, {"size", QuantityType()}}))
                    .ListMap({"name"})},
      {"labels", StringMap()},
      {"port", IntOrString()},
      {"id", String().Immutable()},
      {"nested", Object({{"flag", Bool().Default(false)}})},
  });
}

std::vector<Cause> Validate(const Json& v, std::vector<std::string>* unknown = nullptr) {
  std::vector<Cause> causes;
  TestSchema().Validate(v, "spec", &causes, unknown);
  return causes;
}

TEST(SchemaTest, ValidObjectHasNoCauses) {
  Json v = {{"name", "web"}, {"cpu", 2}, {"memory", "1Gi"}, {"tags", {"x", "y"}},
            {"disks", {{{"name", "d1"}, {"size", "2Gi"}}}}, {"port", "http"}};
  EXPECT_TRUE(Validate(v).empty());
}

TEST(SchemaTest, CausesCarryKubeFieldPathsAndReasons) {
  struct Case {
    const char* name;
    Json value;
    const char* field;
    const char* reason;
  } cases[] = {
      {"missing required", {{"cpu", 1}}, "spec.name", "FieldValueRequired"},
      {"below minimum", {{"name", "a"}, {"cpu", 0}}, "spec.cpu", "FieldValueInvalid"},
      {"above maximum", {{"name", "a"}, {"cpu", 65}}, "spec.cpu", "FieldValueInvalid"},
      {"wrong type", {{"name", "a"}, {"cpu", "two"}}, "spec.cpu", "FieldValueTypeInvalid"},
      {"fractional int", {{"name", "a"}, {"cpu", 1.5}}, "spec.cpu", "FieldValueTypeInvalid"},
      {"bad enum", {{"name", "a"}, {"mode", "c"}}, "spec.mode", "FieldValueNotSupported"},
      {"bad name", {{"name", "Web_1"}}, "spec.name", "FieldValueInvalid"},
      {"negative quantity", {{"name", "a"}, {"memory", "-1Gi"}}, "spec.memory",
       "FieldValueInvalid"},
      {"zero quantity", {{"name", "a"}, {"memory", "0"}}, "spec.memory", "FieldValueInvalid"},
      {"unparseable quantity", {{"name", "a"}, {"memory", "2GB"}}, "spec.memory",
       "FieldValueInvalid"},
      {"duplicate set item", {{"name", "a"}, {"tags", {"x", "x"}}}, "spec.tags[1]",
       "FieldValueDuplicate"},
      {"duplicate map key", {{"name", "a"}, {"disks", {{{"name", "d"}}, {{"name", "d"}}}}},
       "spec.disks[1].name", "FieldValueDuplicate"},
      {"nested required", {{"name", "a"}, {"disks", {{{"size", "1Gi"}}}}}, "spec.disks[0].name",
       "FieldValueRequired"},
      {"map value type", {{"name", "a"}, {"labels", {{"k", 1}}}}, "spec.labels[k]",
       "FieldValueTypeInvalid"},
      {"int-or-string bool", {{"name", "a"}, {"port", true}}, "spec.port",
       "FieldValueTypeInvalid"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    auto causes = Validate(c.value);
    ASSERT_EQ(causes.size(), 1u) << (causes.empty() ? "" : causes[0].field);
    EXPECT_EQ(causes[0].field, c.field);
    EXPECT_EQ(causes[0].reason, c.reason);
  }
}

TEST(SchemaTest, MessagesQuoteTheValue) {
  auto causes = Validate({{"name", "a"}, {"cpu", 0}});
  ASSERT_EQ(causes.size(), 1u);
  EXPECT_EQ(causes[0].message, "Invalid value: 0: must be greater than or equal to 1");
}

TEST(SchemaTest, UnknownFieldsAreReportedWithPaths) {
  std::vector<std::string> unknown;
  auto causes = Validate({{"name", "a"}, {"memroy", "1Gi"}, {"nested", {{"flg", true}}}},
                         &unknown);
  EXPECT_TRUE(causes.empty());
  std::sort(unknown.begin(), unknown.end());
  EXPECT_EQ(unknown, (std::vector<std::string>{"spec.memroy", "spec.nested.flg"}));
}

TEST(SchemaTest, PruneUnknownDropsOnlyUnknownFields) {
  Json v = {{"name", "a"}, {"bogus", 1}, {"nested", {{"flag", true}, {"x", 2}}}};
  TestSchema().PruneUnknown(&v);
  EXPECT_EQ(v, (Json{{"name", "a"}, {"nested", {{"flag", true}}}}));
}

TEST(SchemaTest, DefaultsFillMissingFieldsRecursively) {
  Json v = {{"name", "a"}, {"nested", Json::object()}};
  TestSchema().ApplyDefaults(&v);
  EXPECT_EQ(v["cpu"], 1);
  EXPECT_EQ(v["memory"], "256Mi");
  EXPECT_EQ(v["mode"], "a");
  EXPECT_EQ(v["nested"]["flag"], false);
  Json keep = {{"name", "a"}, {"cpu", 8}};
  TestSchema().ApplyDefaults(&keep);
  EXPECT_EQ(keep["cpu"], 8);
}

TEST(SchemaTest, ImmutableFieldsMayBeSetOnceButNotChanged) {
  std::vector<Cause> causes;
  TestSchema().CheckImmutable({{"name", "a"}}, {{"name", "a"}, {"id", "x"}}, "spec", &causes);
  EXPECT_TRUE(causes.empty());
  TestSchema().CheckImmutable({{"id", "x"}}, {{"id", "y"}}, "spec", &causes);
  ASSERT_EQ(causes.size(), 1u);
  EXPECT_EQ(causes[0].field, "spec.id");
}

TEST(SchemaTest, OpenApiCarriesTypesDefaultsAndListSemantics) {
  Json o = TestSchema().ToOpenApi();
  EXPECT_EQ(o["type"], "object");
  EXPECT_EQ(o["required"], Json::array({"name"}));
  EXPECT_EQ(o["properties"]["cpu"]["minimum"], 1);
  EXPECT_EQ(o["properties"]["cpu"]["default"], 1);
  EXPECT_EQ(o["properties"]["memory"]["x-kubernetes-int-or-string"], true);
  EXPECT_EQ(o["properties"]["disks"]["x-kubernetes-list-type"], "map");
  EXPECT_EQ(o["properties"]["disks"]["x-kubernetes-list-map-keys"], Json::array({"name"}));
  EXPECT_EQ(o["properties"]["labels"]["additionalProperties"]["type"], "string");
}

TEST(SchemaTest, AtPathStepsThroughArraysAndMaps) {
  Schema s = TestSchema();
  ASSERT_NE(s.AtPath(".disks"), nullptr);
  EXPECT_EQ(s.AtPath(".disks")->list_type(), ListType::kMap);
  ASSERT_NE(s.AtPath(".disks.size"), nullptr);
  EXPECT_EQ(s.AtPath(".disks.size")->type(), Type::kQuantity);
  EXPECT_EQ(s.AtPath(".nope"), nullptr);
}

}  // namespace
}  // namespace lintel::api
