#include "cli/manifest.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "support/temp_dir.h"

namespace lintel::cli {
namespace {

void Write(const std::string& path, const std::string& text) { std::ofstream(path) << text; }

TEST(ManifestTest, MultiDocumentYamlSkipsEmptyDocuments) {
  auto m = ParseManifests(R"(---
apiVersion: lintel.dev/v1alpha1
kind: VirtualMachine
metadata: {name: a}
---
# only a comment
---
apiVersion: lintel.dev/v1alpha1
kind: Deployment
metadata: {name: b}
)",
                          "x.yaml");
  ASSERT_TRUE(m.ok()) << m.error().message();
  ASSERT_EQ(m->size(), 2u);
  EXPECT_EQ((*m)[0].object["metadata"]["name"], "a");
  EXPECT_EQ((*m)[1].object["kind"], "Deployment");
  EXPECT_EQ((*m)[1].source, "x.yaml");
}

TEST(ManifestTest, JsonDocument) {
  auto m = ParseManifests(R"({"apiVersion":"lintel.dev/v1alpha1","kind":"Host",
                              "metadata":{"name":"h1"}})",
                          "h.json");
  ASSERT_TRUE(m.ok()) << m.error().message();
  ASSERT_EQ(m->size(), 1u);
  EXPECT_EQ((*m)[0].object["kind"], "Host");
}

TEST(ManifestTest, ListsStandForTheirItems) {
  auto m = ParseManifests(R"(
apiVersion: v1
kind: List
items:
- apiVersion: lintel.dev/v1alpha1
  kind: VirtualMachine
  metadata: {name: a}
- apiVersion: lintel.dev/v1alpha1
  kind: VirtualMachine
  metadata: {name: b}
)",
                          "list.yaml");
  ASSERT_TRUE(m.ok()) << m.error().message();
  ASSERT_EQ(m->size(), 2u);
  EXPECT_EQ((*m)[1].object["metadata"]["name"], "b");
}

TEST(ManifestTest, TypedListItemsGetTheirType) {
  auto m = ParseManifests(R"({"apiVersion":"lintel.dev/v1alpha1","kind":"VirtualMachineList",
                              "items":[{"metadata":{"name":"a"}}]})",
                          "l.json");
  ASSERT_TRUE(m.ok()) << m.error().message();
  ASSERT_EQ(m->size(), 1u);
  EXPECT_EQ((*m)[0].object["kind"], "VirtualMachine");
  EXPECT_EQ((*m)[0].object["apiVersion"], "lintel.dev/v1alpha1");
}

TEST(ManifestTest, MissingKindIsAnError) {
  auto m = ParseManifests("metadata: {name: a}\n", "bad.yaml");
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.error().message(),
            "error validating \"bad.yaml\": error validating data: [apiVersion not set, kind not "
            "set]");
}

TEST(ManifestTest, MalformedYamlNamesTheSource) {
  auto m = ParseManifests("a: [1, 2\n", "broken.yaml");
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.error().message().find("broken.yaml"), std::string::npos);
}

TEST(ManifestTest, DirectoryIsReadInNameOrderNonRecursively) {
  lintel::testing::TempDir dir;
  auto doc = [](const char* name) {
    return std::string("apiVersion: lintel.dev/v1alpha1\nkind: VirtualMachine\nmetadata: {name: ") +
           name + "}\n";
  };
  Write(dir.File("b.yaml"), doc("b"));
  Write(dir.File("a.yml"), doc("a"));
  Write(dir.File("c.json"), R"({"apiVersion":"lintel.dev/v1alpha1","kind":"VirtualMachine",
                                "metadata":{"name":"c"}})");
  Write(dir.File("notes.txt"), "not a manifest");
  std::filesystem::create_directory(dir.File("sub"));
  Write(dir.File("sub/d.yaml"), doc("d"));
  std::istringstream in;
  auto m = ReadManifests({dir.path()}, in);
  ASSERT_TRUE(m.ok()) << m.error().message();
  ASSERT_EQ(m->size(), 3u);
  EXPECT_EQ((*m)[0].object["metadata"]["name"], "a");
  EXPECT_EQ((*m)[1].object["metadata"]["name"], "b");
  EXPECT_EQ((*m)[2].object["metadata"]["name"], "c");
  EXPECT_EQ((*m)[0].source, dir.File("a.yml"));

  auto r = ReadManifests({dir.path()}, in, /*recursive=*/true);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->size(), 4u);
}

TEST(ManifestTest, StdinAndFilesInOrder) {
  lintel::testing::TempDir dir;
  Write(dir.File("f.yaml"), "apiVersion: lintel.dev/v1alpha1\nkind: Host\nmetadata: {name: f}\n");
  std::istringstream in("apiVersion: lintel.dev/v1alpha1\nkind: Host\nmetadata: {name: s}\n");
  auto m = ReadManifests({"-", dir.File("f.yaml")}, in);
  ASSERT_TRUE(m.ok()) << m.error().message();
  ASSERT_EQ(m->size(), 2u);
  EXPECT_EQ((*m)[0].source, "STDIN");
  EXPECT_EQ((*m)[0].object["metadata"]["name"], "s");
  EXPECT_EQ((*m)[1].object["metadata"]["name"], "f");
}

TEST(ManifestTest, MissingPath) {
  std::istringstream in;
  auto m = ReadManifests({"/nonexistent/x.yaml"}, in);
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.error().message(), "the path \"/nonexistent/x.yaml\" does not exist");
}

}  // namespace
}  // namespace lintel::cli
