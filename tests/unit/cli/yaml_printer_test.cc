#include "cli/yaml_printer.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "common/fs.h"

namespace lintel::cli {
namespace {

std::string TestData(const std::string& name) {
  auto path = std::filesystem::path(__FILE__).parent_path() / "testdata" / name;
  auto text = ReadFile(path.string());
  EXPECT_TRUE(text.ok()) << path;
  return text.ok() ? *text : "";
}

// kubectl 1.32's `get -o json` and `get -o yaml` of the same objects: an
// object whose annotations exercise go-yaml's quoting, folding and block
// rules, and a List.
TEST(YamlPrinterTest, MatchesKubectlByteForByte) {
  for (const char* name : {"kubectl_yaml", "kubectl_list"}) {
    SCOPED_TRACE(name);
    auto doc = ParseJson(TestData(std::string(name) + ".json"));
    ASSERT_TRUE(doc.ok());
    EXPECT_EQ(KubectlYaml(*doc), TestData(std::string(name) + ".yaml"));
  }
}

TEST(YamlPrinterTest, Scalars) {
  EXPECT_EQ(KubectlYaml(Json::object()), "{}\n");
  EXPECT_EQ(KubectlYaml({{"a", Json::array()}, {"b", nullptr}, {"c", 1.5}, {"d", 2.0},
                         {"e", 1234567.5}, {"f", false}}),
            "a: []\nb: null\nc: 1.5\nd: 2\ne: 1.2345675e+06\nf: false\n");
  EXPECT_EQ(KubectlYaml({{"a", Json::array({Json::array({1, 2}), Json::object()})}}),
            "a:\n- - 1\n  - 2\n- {}\n");
  EXPECT_EQ(KubectlYaml({{"key: with colon", "v"}, {"true", "x"}}),
            "'key: with colon': v\n\"true\": x\n");
}

TEST(YamlPrinterTest, ReadsBackAsTheSameDocument) {
  auto doc = ParseJson(TestData("kubectl_yaml.json"));
  ASSERT_TRUE(doc.ok());
  auto back = ParseYaml(KubectlYaml(*doc));
  ASSERT_TRUE(back.ok()) << back.error().message();
  EXPECT_EQ(*back, *doc);
}

}  // namespace
}  // namespace lintel::cli
