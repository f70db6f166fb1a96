#include "controllers/gc/garbage_collector.h"

#include <thread>

#include "controllers/namespace/namespace_controller.h"
#include "server/local_client.h"
#include "server_fixture.h"

namespace lintel::controllers {
namespace {

GraphNode Node(std::vector<std::string> owners, bool deleting = false,
               std::vector<std::string> finalizers = {}) {
  GraphNode n;
  n.uid = "self";
  for (auto& o : owners) n.owners.push_back(OwnerRef{"lintel.dev/v1alpha1", "Deployment", o, o});
  n.deleting = deleting;
  n.finalizers = std::move(finalizers);
  return n;
}

TEST(GcPlanTest, DecidesFromOwnersAndFinalizers) {
  struct Case {
    const char* name;
    GraphNode node;
    std::set<std::string> existing;
    std::vector<std::string> dependents;
    bool delete_object;
    std::vector<std::string> dangling, del_deps, orphan_deps;
    std::string remove_finalizer;
  } cases[] = {
      {"no owners", Node({}), {}, {}, false, {}, {}, {}, ""},
      {"owner present", Node({"o1"}), {"o1"}, {}, false, {}, {}, {}, ""},
      {"sole owner gone", Node({"o1"}), {}, {}, true, {}, {}, {}, ""},
      {"one of two gone", Node({"o1", "o2"}), {"o2"}, {}, false, {"o1"}, {}, {}, ""},
      {"foreground with dependents", Node({}, true, {"foregroundDeletion"}), {}, {"d1", "d2"},
       false, {}, {"d1", "d2"}, {}, ""},
      {"foreground done", Node({}, true, {"foregroundDeletion"}), {}, {}, false, {}, {}, {},
       "foregroundDeletion"},
      {"orphan with dependents", Node({}, true, {"orphan"}), {}, {"d1"}, false, {}, {}, {"d1"}, ""},
      {"orphan done", Node({}, true, {"orphan"}), {}, {}, false, {}, {}, {}, "orphan"},
      {"deleting dependent is left alone", Node({"o1"}, true), {}, {}, false, {}, {}, {}, ""},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    GcPlan p = PlanFor(c.node, c.existing, c.dependents);
    EXPECT_EQ(p.delete_object, c.delete_object);
    EXPECT_EQ(p.dangling_owners, c.dangling);
    EXPECT_EQ(p.delete_dependents, c.del_deps);
    EXPECT_EQ(p.orphan_dependents, c.orphan_deps);
    EXPECT_EQ(p.remove_finalizer, c.remove_finalizer);
  }
}

class ControllersTest : public server::testing::ServerFixture {
 protected:
  void SetUp() override {
    ServerFixture::SetUp();
    client_ = std::make_shared<server::LocalClient>(resources_.get());
    gc_ = std::make_unique<GarbageCollector>(client_, registry());
    ns_ = std::make_unique<NamespaceController>(client_, registry());
    ASSERT_TRUE(gc_->Start().ok());
    ASSERT_TRUE(ns_->Start().ok());
  }
  void TearDown() override {
    gc_->Stop();
    ns_->Stop();
    ServerFixture::TearDown();
  }

  Json Deployment(const std::string& name) {
    return {{"apiVersion", "lintel.dev/v1alpha1"},
            {"kind", "Deployment"},
            {"metadata", {{"name", name}}},
            {"spec",
             {{"selector", {{"matchLabels", {{"app", name}}}}},
              {"template",
               {{"metadata", {{"labels", {{"app", name}}}}},
                {"spec", {{"containers", {{{"name", "m"}, {"image", "busybox"}}}}}}}}}}};
  }
  Json PodOwnedBy(const std::string& name, const Json& owner) {
    return {{"apiVersion", "lintel.dev/v1alpha1"},
            {"kind", "Pod"},
            {"metadata",
             {{"name", name},
              {"ownerReferences",
               {{{"apiVersion", "lintel.dev/v1alpha1"},
                 {"kind", "Deployment"},
                 {"name", owner["metadata"]["name"]},
                 {"uid", owner["metadata"]["uid"]},
                 {"controller", true},
                 {"blockOwnerDeletion", true}}}}}},
            {"spec", {{"containers", {{{"name", "m"}, {"image", "busybox"}}}}}}};
  }
  bool Eventually(const std::function<bool()>& cond) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < deadline) {
      if (cond()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return cond();
  }
  bool Exists(const char* kind, const std::string& name, const std::string& ns = "default") {
    return resources_->Get(Kind(kind), ns, name).ok();
  }

  std::shared_ptr<server::LocalClient> client_;
  std::unique_ptr<GarbageCollector> gc_;
  std::unique_ptr<NamespaceController> ns_;
};

TEST_F(ControllersTest, BackgroundDeletionRemovesDependents) {
  Json d = MustCreate(Deployment("api"), "default", "deployments");
  MustCreate(PodOwnedBy("api-1", d), "default", "pods");
  MustCreate(PodOwnedBy("api-2", d), "default", "pods");
  ASSERT_TRUE(resources_->Delete(Kind("deployments"), "default", "api", {}).ok());
  EXPECT_TRUE(Eventually([&] { return !Exists("pods", "api-1") && !Exists("pods", "api-2"); }));
}

TEST_F(ControllersTest, DependentsOfAMissingOwnerAreCollected) {
  Json fake = {{"metadata", {{"name", "ghost"}, {"uid", "00000000-0000-4000-8000-000000000000"}}}};
  MustCreate(PodOwnedBy("orphaned", fake), "default", "pods");
  EXPECT_TRUE(Eventually([&] { return !Exists("pods", "orphaned"); }));
}

TEST_F(ControllersTest, ForegroundDeletesDependentsBeforeTheOwner) {
  Json d = MustCreate(Deployment("fg"), "default", "deployments");
  MustCreate(PodOwnedBy("fg-1", d), "default", "pods");
  server::DeleteOptions o;
  o.propagation_policy = "Foreground";
  ASSERT_TRUE(resources_->Delete(Kind("deployments"), "default", "fg", o).ok());
  EXPECT_TRUE(Eventually([&] { return !Exists("deployments", "fg"); }));
  EXPECT_FALSE(Exists("pods", "fg-1"));
}

TEST_F(ControllersTest, OrphanKeepsDependentsAndUnlinksThem) {
  Json d = MustCreate(Deployment("or"), "default", "deployments");
  MustCreate(PodOwnedBy("or-1", d), "default", "pods");
  server::DeleteOptions o;
  o.propagation_policy = "Orphan";
  ASSERT_TRUE(resources_->Delete(Kind("deployments"), "default", "or", o).ok());
  EXPECT_TRUE(Eventually([&] { return !Exists("deployments", "or"); }));
  ASSERT_TRUE(Exists("pods", "or-1"));
  Json pod = MustGet("or-1", "default", "pods");
  EXPECT_TRUE(!pod["metadata"].contains("ownerReferences") ||
              pod["metadata"]["ownerReferences"].empty());
}

TEST_F(ControllersTest, DeletingANamespaceEmptiesItFirst) {
  MustCreate(Vm("x"), "other");
  MustCreate(Vm("y"), "other");
  ASSERT_TRUE(resources_->Delete(Kind("namespaces"), "", "other", {}).ok());
  EXPECT_TRUE(Eventually([&] { return !Exists("namespaces", "other", ""); }));
  EXPECT_FALSE(Exists("vm", "x", "other"));
  EXPECT_TRUE(Exists("namespaces", "default", ""));
}

}  // namespace
}  // namespace lintel::controllers
