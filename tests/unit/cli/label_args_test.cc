#include "cli/label_args.h"

#include <gtest/gtest.h>

namespace lintel::cli {
namespace {

TEST(LabelArgsTest, ResourcesThenChanges) {
  auto a = ParseLabelArgs({"vm", "db-1", "db-2", "env=prod", "tier-"}, MetadataMap::kLabels);
  ASSERT_TRUE(a.ok()) << a.error().message();
  EXPECT_EQ(a->resources, (std::vector<std::string>{"vm", "db-1", "db-2"}));
  EXPECT_EQ(a->changes.set, (std::map<std::string, std::string>{{"env", "prod"}}));
  EXPECT_EQ(a->changes.remove, (std::vector<std::string>{"tier"}));
}

TEST(LabelArgsTest, EmptyValueAndPrefixedKeys) {
  auto a = ParseLabelArgs({"vm/db-1", "example.com/role=", "x-"}, MetadataMap::kLabels);
  ASSERT_TRUE(a.ok()) << a.error().message();
  EXPECT_EQ(a->changes.set.at("example.com/role"), "");
  EXPECT_EQ(a->changes.remove, (std::vector<std::string>{"x"}));
}

TEST(LabelArgsTest, Errors) {
  struct Case {
    std::vector<std::string> args;
    std::string message;
  };
  std::vector<Case> cases = {
      {{"vm", "a=b", "db-1"}, "error: all resources must be specified before label changes: db-1"},
      {{"vm", "db-1", "a=b=c"}, "error: invalid label spec: a=b=c"},
      {{"vm", "db-1", "a=b", "a-"}, "error: can not both modify and remove a label in the same "
                                    "command"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.message);
    auto a = ParseLabelArgs(c.args, MetadataMap::kLabels);
    ASSERT_FALSE(a.ok());
    EXPECT_EQ(a.error().message(), c.message);
  }
  auto bad_value = ParseLabelArgs({"vm", "db-1", "a=not valid"}, MetadataMap::kLabels);
  ASSERT_FALSE(bad_value.ok());
  EXPECT_EQ(bad_value.error().message().rfind("error: invalid label value: \"a=not valid\": ", 0),
            0u);
}

TEST(LabelArgsTest, AnnotationValuesMayHoldAnything) {
  auto a = ParseLabelArgs({"vm", "db-1", "note=a=b c", "url=http://x/?q=1"},
                          MetadataMap::kAnnotations);
  ASSERT_TRUE(a.ok()) << a.error().message();
  EXPECT_EQ(a->changes.set.at("note"), "a=b c");
  EXPECT_EQ(a->changes.set.at("url"), "http://x/?q=1");
  auto bad = ParseLabelArgs({"vm", "db-1", "=x"}, MetadataMap::kAnnotations);
  // "=x" is not a change (it starts with '='), so it ends up as a resource.
  ASSERT_TRUE(bad.ok());
  EXPECT_EQ(bad->resources.size(), 3u);
}

TEST(LabelArgsTest, OverwriteRules) {
  Json current = {{"env", "prod"}, {"app", "db"}};
  MetadataChanges same{{{"env", "prod"}}, {}};
  EXPECT_TRUE(ApplyMetadataChanges(current, same, MetadataMap::kLabels, false, nullptr).ok());

  MetadataChanges change{{{"env", "dev"}}, {}};
  auto refused = ApplyMetadataChanges(current, change, MetadataMap::kLabels, false, nullptr);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().message(),
            "error: 'env' already has a value (prod), and --overwrite is false");
  auto refused_annotation =
      ApplyMetadataChanges(current, change, MetadataMap::kAnnotations, false, nullptr);
  ASSERT_FALSE(refused_annotation.ok());
  EXPECT_EQ(refused_annotation.error().message(),
            "error: --overwrite is false but found the following declared annotation(s): 'env' "
            "already has a value (prod)");

  auto allowed = ApplyMetadataChanges(current, change, MetadataMap::kLabels, true, nullptr);
  ASSERT_TRUE(allowed.ok());
  EXPECT_EQ(*allowed, (Json{{"env", "dev"}, {"app", "db"}}));
}

TEST(LabelArgsTest, RemovalsReportMissingKeys) {
  std::vector<std::string> missing;
  MetadataChanges rm{{}, {"app", "nope"}};
  auto out = ApplyMetadataChanges({{"app", "db"}}, rm, MetadataMap::kLabels, false, &missing);
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(*out, Json::object());
  EXPECT_EQ(missing, (std::vector<std::string>{"nope"}));
}

}  // namespace
}  // namespace lintel::cli
