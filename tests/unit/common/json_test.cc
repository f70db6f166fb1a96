#include "common/json.h"

#include <gtest/gtest.h>

namespace lintel {
namespace {

TEST(JsonTest, ParseReportsPositionOnError) {
  auto r = ParseJson("{\"a\": ");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), Code::kBadRequest);
  EXPECT_NE(r.error().message().find("line 1"), std::string::npos) << r.error().message();
}

TEST(JsonTest, RefusesDeepNesting) {
  std::string deep(kMaxJsonDepth + 5, '[');
  deep += std::string(kMaxJsonDepth + 5, ']');
  auto r = ParseJson(deep);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message().find("nesting"), std::string::npos);
  std::string ok(10, '[');
  ok += std::string(10, ']');
  EXPECT_TRUE(ParseJson(ok).ok());
}

TEST(JsonTest, YamlScalarsAreTypedLikeYaml12Core) {
  auto r = ParseYaml("a: 1\nb: '1'\nc: true\nd: \"true\"\ne: 1.5\nf: null\ng: 500m\nh: ~\ni: 0x10\n");
  ASSERT_TRUE(r.ok()) << r.error().message();
  const Json& j = *r;
  EXPECT_EQ(j["a"], 1);
  EXPECT_EQ(j["b"], "1");
  EXPECT_EQ(j["c"], true);
  EXPECT_EQ(j["d"], "true");
  EXPECT_DOUBLE_EQ(j["e"].get<double>(), 1.5);
  EXPECT_TRUE(j["f"].is_null());
  EXPECT_EQ(j["g"], "500m");
  EXPECT_TRUE(j["h"].is_null());
  EXPECT_EQ(j["i"], 16);
}

TEST(JsonTest, YamlStreamSkipsEmptyDocuments) {
  auto r = ParseYamlStream("---\na: 1\n---\n---\nb: 2\n");
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->size(), 2u);
  EXPECT_EQ((*r)[1]["b"], 2);
}

TEST(JsonTest, YamlErrorsAreBadRequest) {
  auto r = ParseYaml("a: [1, 2\n");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), Code::kBadRequest);
}

TEST(JsonTest, ToYamlRoundTripsAmbiguousStrings) {
  Json j = {{"s", "true"}, {"n", "123"}, {"e", ""}, {"m", "a\nb\n"}, {"x", 5},
            {"l", Json::array({"y", 1})}, {"o", Json::object()}};
  std::string y = ToYaml(j);
  auto back = ParseYaml(y);
  ASSERT_TRUE(back.ok()) << y;
  EXPECT_EQ(*back, j) << y;
}

}  // namespace
}  // namespace lintel
