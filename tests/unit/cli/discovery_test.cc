#include "cli/discovery.h"

#include <gtest/gtest.h>

#include "cli/resource_args.h"

namespace lintel::cli {
namespace {

// What the server answers at /apis/lintel.dev/v1alpha1 (abridged).
Discovery Lintel() {
  Json list = Json::parse(R"({
    "kind": "APIResourceList", "apiVersion": "v1", "groupVersion": "lintel.dev/v1alpha1",
    "resources": [
      {"name": "virtualmachines", "singularName": "virtualmachine", "namespaced": true,
       "kind": "VirtualMachine", "verbs": ["get", "list"], "shortNames": ["vm", "vms"],
       "categories": ["all"]},
      {"name": "virtualmachines/status", "singularName": "", "namespaced": true,
       "kind": "VirtualMachine", "verbs": ["get"]},
      {"name": "deployments", "singularName": "deployment", "namespaced": true,
       "kind": "Deployment", "verbs": ["get"], "shortNames": ["deploy"], "categories": ["all"]},
      {"name": "deployments/scale", "singularName": "", "namespaced": true, "group": "autoscaling",
       "version": "v1", "kind": "Scale", "verbs": ["get", "patch"]},
      {"name": "hosts", "singularName": "host", "namespaced": false, "kind": "Host",
       "verbs": ["get"], "shortNames": ["ho"]},
      {"name": "events", "singularName": "event", "namespaced": true, "kind": "Event",
       "verbs": ["get"], "shortNames": ["ev"]}]})");
  auto d = Discovery::FromResourceLists({list});
  EXPECT_TRUE(d.ok());
  return d.ok() ? *d : Discovery();
}

TEST(DiscoveryTest, ReadsResourcesAndSubresources) {
  Discovery d = Lintel();
  ASSERT_EQ(d.resources().size(), 4u);
  const ApiResource& vm = d.resources()[0];
  EXPECT_EQ(vm.group, "lintel.dev");
  EXPECT_EQ(vm.version, "v1alpha1");
  EXPECT_EQ(vm.kind, "VirtualMachine");
  EXPECT_TRUE(vm.namespaced);
  EXPECT_TRUE(vm.HasSubresource("status"));
  EXPECT_FALSE(vm.HasSubresource("scale"));
  EXPECT_TRUE(d.resources()[1].HasSubresource("scale"));
  EXPECT_FALSE(d.resources()[2].namespaced);
  EXPECT_EQ(vm.GroupResource(), "virtualmachines.lintel.dev");
  EXPECT_EQ(vm.KindGroup(), "virtualmachine.lintel.dev");
}

TEST(DiscoveryTest, ResolvesWhatUsersType) {
  Discovery d = Lintel();
  for (const char* name : {"vm", "vms", "VM", "virtualmachines", "virtualmachine",
                           "VirtualMachine", "virtualmachines.lintel.dev", "vm.lintel.dev",
                           "virtualmachines.v1alpha1.lintel.dev"}) {
    SCOPED_TRACE(name);
    auto r = d.Resolve(name);
    ASSERT_TRUE(r.ok()) << r.error().message();
    EXPECT_EQ(r->name, "virtualmachines");
  }
  EXPECT_EQ(d.Resolve("ho")->name, "hosts");
  auto bad = d.Resolve("foo");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().message(), "the server doesn't have a resource type \"foo\"");
  EXPECT_FALSE(d.Resolve("vm.example.com").ok());
  EXPECT_FALSE(d.Resolve("virtualmachines/status").ok());
}

TEST(DiscoveryTest, CategoriesExpandInServerOrder) {
  Discovery d = Lintel();
  auto all = d.ResolveWithCategories("all");
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].name, "virtualmachines");
  EXPECT_EQ((*all)[1].name, "deployments");
  auto one = d.ResolveWithCategories("deploy");
  ASSERT_TRUE(one.ok());
  ASSERT_EQ(one->size(), 1u);
}

TEST(DiscoveryTest, ForKind) {
  Discovery d = Lintel();
  auto r = d.ForKind("lintel.dev/v1alpha1", "Host");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->name, "hosts");
  auto bad = d.ForKind("lintel.dev/v2", "Host");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().message(), "no matches for kind \"Host\" in version \"lintel.dev/v2\"");
}

TEST(DiscoveryTest, PreferredVersionComesFirst) {
  Json v1 = {{"groupVersion", "example.com/v1"},
             {"resources", Json::array({{{"name", "widgets"}, {"kind", "Widget"},
                                         {"namespaced", true}}})}};
  Json v2 = {{"groupVersion", "example.com/v2"},
             {"resources", Json::array({{{"name", "widgets"}, {"kind", "Widget"},
                                         {"namespaced", true}}})}};
  auto d = Discovery::FromResourceLists({v2, v1});
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->Resolve("widgets")->version, "v2");
  EXPECT_EQ(d->Resolve("widget")->version, "v2");  // singular defaults to the lower-case kind
  EXPECT_EQ(d->Resolve("widgets.v1.example.com")->version, "v1");
  EXPECT_EQ(d->Preferred().size(), 1u);
  EXPECT_EQ(d->ForKind("example.com/v1", "Widget")->version, "v1");
}

TEST(ResourceArgsTest, TypeAndNames) {
  auto r = ParseResourceArgs(Lintel(), {"vm", "a", "b"}, true);
  ASSERT_TRUE(r.ok()) << r.error().message();
  ASSERT_EQ(r->size(), 1u);
  EXPECT_EQ((*r)[0].resource.name, "virtualmachines");
  EXPECT_EQ((*r)[0].names, (std::vector<std::string>{"a", "b"}));
}

TEST(ResourceArgsTest, CommaSeparatedTypesAndCategories) {
  auto r = ParseResourceArgs(Lintel(), {"all,ho"}, true);
  ASSERT_TRUE(r.ok()) << r.error().message();
  ASSERT_EQ(r->size(), 3u);
  EXPECT_EQ((*r)[2].resource.name, "hosts");
  EXPECT_TRUE((*r)[0].names.empty());
  auto no_categories = ParseResourceArgs(Lintel(), {"all"}, false);
  EXPECT_FALSE(no_categories.ok());
}

TEST(ResourceArgsTest, SlashForm) {
  auto r = ParseResourceArgs(Lintel(), {"vm/a", "vm/b", "deploy/api", "vm/c"}, true);
  ASSERT_TRUE(r.ok()) << r.error().message();
  ASSERT_EQ(r->size(), 3u);
  EXPECT_EQ((*r)[0].names, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ((*r)[1].resource.name, "deployments");
  EXPECT_EQ((*r)[2].names, (std::vector<std::string>{"c"}));
}

TEST(ResourceArgsTest, Errors) {
  auto mixed = ParseResourceArgs(Lintel(), {"vm", "vm/a"}, true);
  ASSERT_FALSE(mixed.ok());
  EXPECT_NE(mixed.error().message().find("there is no need to specify a resource type"),
            std::string::npos);
  auto empty_name = ParseResourceArgs(Lintel(), {"vm/"}, true);
  ASSERT_FALSE(empty_name.ok());
  EXPECT_EQ(empty_name.error().message(),
            "error: arguments in resource/name form must have a single resource and name");
  auto unknown = ParseResourceArgs(Lintel(), {"nope"}, true);
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().message(), "error: the server doesn't have a resource type \"nope\"");
  EXPECT_FALSE(ParseResourceArgs(Lintel(), {}, true).ok());
}

}  // namespace
}  // namespace lintel::cli
