#include "server/resources.h"

#include "server/object_codec.h"
#include "server_fixture.h"

#include <thread>

namespace lintel::server {
namespace {

using testing::ServerFixture;

class ResourcesTest : public ServerFixture {};

TEST_F(ResourcesTest, CreateSetsServerFieldsAndDropsStatus) {
  Json vm = Vm("a");
  vm["status"] = {{"phase", "Running"}};
  vm["metadata"]["uid"] = "forged";
  Json got = MustCreate(vm);
  EXPECT_NE(got["metadata"]["uid"], "forged");
  EXPECT_EQ(got["metadata"]["uid"].get<std::string>().size(), 36u);
  EXPECT_EQ(got["metadata"]["generation"], 1);
  EXPECT_EQ(got["metadata"]["namespace"], "default");
  EXPECT_EQ(got["metadata"]["creationTimestamp"], "2026-01-01T00:00:00Z");
  EXPECT_FALSE(got.contains("status"));
  EXPECT_EQ(got["spec"]["runStrategy"], "Always");  // defaulted
  EXPECT_EQ(MustGet("a")["metadata"]["resourceVersion"], got["metadata"]["resourceVersion"]);
}

TEST_F(ResourcesTest, GenerateNameAddsASuffix) {
  Json vm = Vm("");
  vm["metadata"].erase("name");
  vm["metadata"]["generateName"] = "web-";
  Json got = MustCreate(vm);
  std::string name = got["metadata"]["name"];
  EXPECT_EQ(name.rfind("web-", 0), 0u);
  EXPECT_EQ(name.size(), 9u);
}

TEST_F(ResourcesTest, BadInputIsRefusedAndChangesNothing) {
  auto rev_before = store_->CurrentRevision();
  struct Case {
    const char* name;
    Json obj;
    std::string ns;
    Code code;
  } cases[] = {
      {"duplicate", Vm("dup"), "default", Code::kAlreadyExists},
      {"missing namespace", Vm("x"), "nowhere", Code::kNotFound},
      {"bad name", Vm("Bad_Name"), "default", Code::kInvalid},
      {"negative cpu", [] { Json v = Vm("c"); v["spec"]["cpu"] = -1; return v; }(), "default",
       Code::kInvalid},
      {"unknown field (strict)", [] { Json v = Vm("u"); v["spec"]["memroy"] = "1Gi"; return v; }(),
       "default", Code::kBadRequest},
      {"wrong kind", [] { Json v = Vm("k"); v["kind"] = "Pod"; return v; }(), "default",
       Code::kBadRequest},
      {"wrong group", [] { Json v = Vm("g"); v["apiVersion"] = "apps/v1"; return v; }(), "default",
       Code::kBadRequest},
      {"namespace mismatch",
       [] { Json v = Vm("n"); v["metadata"]["namespace"] = "other"; return v; }(), "default",
       Code::kBadRequest},
      {"not an object", Json::array({1, 2}), "default", Code::kBadRequest},
  };
  MustCreate(Vm("dup"));
  rev_before = store_->CurrentRevision();
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    auto r = resources_->Create(Kind("vm"), c.ns, c.obj, Opts());
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code(), c.code) << r.error().ToString();
  }
  EXPECT_EQ(*store_->CurrentRevision(), *rev_before);
}

TEST_F(ResourcesTest, InvalidErrorsCarryCausesAndKubeMessage) {
  Json v = Vm("c");
  v["spec"]["cpu"] = 0;
  auto r = resources_->Create(Kind("vm"), "default", v, Opts());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message(),
            "VirtualMachine.lintel.dev \"c\" is invalid: spec.cpu: Invalid value: 0: must be "
            "greater than or equal to 1");
  ASSERT_EQ(r.error().causes().size(), 1u);
  EXPECT_EQ(r.error().causes()[0].field, "spec.cpu");
}

TEST_F(ResourcesTest, WarnModePrunesUnknownFieldsAndWarns) {
  Json v = Vm("w");
  v["spec"]["memroy"] = "1Gi";
  auto r = resources_->Create(Kind("vm"), "default", v, Opts(FieldValidation::kWarn));
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->warnings.size(), 1u);
  EXPECT_EQ(r->warnings[0], "unknown field \"spec.memroy\"");
  EXPECT_FALSE(MustGet("w")["spec"].contains("memroy"));
}

TEST_F(ResourcesTest, UpdateNeedsCurrentResourceVersionAndBumpsGenerationOnSpecOnly) {
  Json cur = MustCreate(Vm("u"));
  Json next = cur;
  next["metadata"].erase("resourceVersion");
  auto r = resources_->Update(Kind("vm"), "default", "u", next, Opts());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), Code::kInvalid);

  next = cur;
  next["metadata"]["labels"]["x"] = "y";
  auto labeled = resources_->Update(Kind("vm"), "default", "u", next, Opts());
  ASSERT_TRUE(labeled.ok()) << labeled.error().ToString();
  Json after_label = *ParseJson(labeled->json);
  EXPECT_EQ(after_label["metadata"]["generation"], 1);

  // The old resourceVersion is now stale.
  next["spec"]["cpu"] = 2;
  auto stale = resources_->Update(Kind("vm"), "default", "u", next, Opts());
  ASSERT_FALSE(stale.ok());
  EXPECT_EQ(stale.error().code(), Code::kConflict);

  after_label["spec"]["cpu"] = 2;
  auto spec = resources_->Update(Kind("vm"), "default", "u", after_label, Opts());
  ASSERT_TRUE(spec.ok());
  EXPECT_EQ((*ParseJson(spec->json))["metadata"]["generation"], 2);
}

TEST_F(ResourcesTest, NoOpUpdateKeepsResourceVersion) {
  Json cur = MustCreate(Vm("n"));
  auto r = resources_->Update(Kind("vm"), "default", "n", cur, Opts());
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*ParseJson(r->json))["metadata"]["resourceVersion"],
            cur["metadata"]["resourceVersion"]);
}

TEST_F(ResourcesTest, StatusSubresourceIsolatesStatusFromSpec) {
  Json cur = MustCreate(Vm("s"));
  Json w = cur;
  w["status"] = {{"phase", "Running"}};
  w["spec"]["cpu"] = 9;
  auto r = resources_->Update(Kind("vm"), "default", "s", w, Opts(), Subresource::kStatus);
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  Json got = MustGet("s");
  EXPECT_EQ(got["status"]["phase"], "Running");
  EXPECT_EQ(got["spec"]["cpu"], 1);  // spec ignored on /status
  got["status"]["phase"] = "Stopped";
  got["spec"]["cpu"] = 2;
  ASSERT_TRUE(resources_->Update(Kind("vm"), "default", "s", got, Opts()).ok());
  Json after = MustGet("s");
  EXPECT_EQ(after["status"]["phase"], "Running");  // status ignored on the main resource
  EXPECT_EQ(after["spec"]["cpu"], 2);
}

TEST_F(ResourcesTest, PatchesApplyAndStaleResourceVersionConflicts) {
  Json cur = MustCreate(Vm("p"));
  auto merge = resources_->Patch(Kind("vm"), "default", "p", PatchType::kMerge,
                                 R"({"spec":{"cpu":4}})", Opts());
  ASSERT_TRUE(merge.ok()) << merge.error().ToString();
  EXPECT_EQ(MustGet("p")["spec"]["cpu"], 4);
  auto json = resources_->Patch(Kind("vm"), "default", "p", PatchType::kJson,
                                R"([{"op":"replace","path":"/spec/cpu","value":5}])", Opts());
  ASSERT_TRUE(json.ok()) << json.error().ToString();
  EXPECT_EQ(MustGet("p")["spec"]["cpu"], 5);
  std::string stale = R"({"metadata":{"resourceVersion":")" +
                      cur["metadata"]["resourceVersion"].get<std::string>() +
                      R"("},"spec":{"cpu":6}})";
  auto conflict = resources_->Patch(Kind("vm"), "default", "p", PatchType::kMerge, stale, Opts());
  ASSERT_FALSE(conflict.ok());
  EXPECT_EQ(conflict.error().code(), Code::kConflict);
  auto failed_test = resources_->Patch(Kind("vm"), "default", "p", PatchType::kJson,
                                       R"([{"op":"test","path":"/spec/cpu","value":1}])", Opts());
  EXPECT_FALSE(failed_test.ok());
  auto rename = resources_->Patch(Kind("vm"), "default", "p", PatchType::kMerge,
                                  R"({"metadata":{"name":"q"}})", Opts());
  ASSERT_FALSE(rename.ok());
  EXPECT_EQ(rename.error().code(), Code::kBadRequest);
  auto invalid = resources_->Patch(Kind("vm"), "default", "p", PatchType::kMerge,
                                   R"({"spec":{"cpu":0}})", Opts());
  ASSERT_FALSE(invalid.ok());
  EXPECT_EQ(invalid.error().code(), Code::kInvalid);
  EXPECT_EQ(MustGet("p")["spec"]["cpu"], 5);
}

TEST_F(ResourcesTest, ServerSideApplyCreatesThenDetectsConflicts) {
  std::string config = R"({"apiVersion":"lintel.dev/v1alpha1","kind":"VirtualMachine",
    "metadata":{"name":"ssa"},"spec":{"image":"tiny","cpu":2}})";
  WriteOptions a = Opts();
  a.field_manager = "alice";
  auto created = resources_->Patch(Kind("vm"), "default", "ssa", PatchType::kApply, config, a);
  ASSERT_TRUE(created.ok()) << created.error().ToString();
  EXPECT_TRUE(created->created);
  WriteOptions b = Opts();
  b.field_manager = "bob";
  ASSERT_TRUE(resources_->Patch(Kind("vm"), "default", "ssa", PatchType::kMerge,
                                R"({"spec":{"cpu":3}})", b).ok());
  auto conflict = resources_->Patch(Kind("vm"), "default", "ssa", PatchType::kApply, config, a);
  ASSERT_FALSE(conflict.ok());
  EXPECT_EQ(conflict.error().code(), Code::kConflict);
  EXPECT_NE(conflict.error().message().find("conflict with \"bob\""), std::string::npos)
      << conflict.error().message();
  a.force = true;
  ASSERT_TRUE(resources_->Patch(Kind("vm"), "default", "ssa", PatchType::kApply, config, a).ok());
  EXPECT_EQ(MustGet("ssa")["spec"]["cpu"], 2);
}

TEST_F(ResourcesTest, FinalizersHoldDeletionUntilRemoved) {
  Json v = Vm("f");
  v["metadata"]["finalizers"] = {"example.com/hold"};
  MustCreate(v);
  auto del = resources_->Delete(Kind("vm"), "default", "f", {});
  ASSERT_TRUE(del.ok());
  Json marked = MustGet("f");
  EXPECT_TRUE(marked["metadata"].contains("deletionTimestamp"));
  // A second delete changes nothing.
  auto again = resources_->Delete(Kind("vm"), "default", "f", {});
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(MustGet("f")["metadata"]["resourceVersion"], marked["metadata"]["resourceVersion"]);
  // New finalizers may not be added while deleting.
  auto add = resources_->Patch(Kind("vm"), "default", "f", PatchType::kMerge,
                               R"({"metadata":{"finalizers":["example.com/hold","x.io/y"]}})",
                               Opts());
  EXPECT_FALSE(add.ok());
  auto release = resources_->Patch(Kind("vm"), "default", "f", PatchType::kMerge,
                                   R"({"metadata":{"finalizers":null}})", Opts());
  ASSERT_TRUE(release.ok()) << release.error().ToString();
  auto gone = resources_->Get(Kind("vm"), "default", "f");
  ASSERT_FALSE(gone.ok());
  EXPECT_EQ(gone.error().code(), Code::kNotFound);
}

TEST_F(ResourcesTest, DeletePreconditionsAndPolicies) {
  Json cur = MustCreate(Vm("d"));
  DeleteOptions wrong_uid;
  wrong_uid.precondition_uid = "nope";
  auto r = resources_->Delete(Kind("vm"), "default", "d", wrong_uid);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), Code::kConflict);
  DeleteOptions bad_policy;
  bad_policy.propagation_policy = "Sideways";
  EXPECT_EQ(resources_->Delete(Kind("vm"), "default", "d", bad_policy).error().code(),
            Code::kInvalid);
  DeleteOptions orphan;
  orphan.propagation_policy = "Orphan";
  ASSERT_TRUE(resources_->Delete(Kind("vm"), "default", "d", orphan).ok());
  Json held = MustGet("d");
  EXPECT_EQ(held["metadata"]["finalizers"], Json::array({"orphan"}));
  DeleteOptions dry;
  dry.dry_run = true;
  MustCreate(Vm("e"));
  ASSERT_TRUE(resources_->Delete(Kind("vm"), "default", "e", dry).ok());
  EXPECT_EQ(MustGet("e")["metadata"]["name"], "e");
}

TEST_F(ResourcesTest, SystemNamespaceCannotBeDeletedAndTerminatingRefusesContent) {
  auto r = resources_->Delete(Kind("ns"), "", "default", {});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), Code::kForbidden);
  ASSERT_TRUE(resources_->Delete(Kind("ns"), "", "other", {}).ok());
  Json ns = MustGet("other", "", "namespaces");
  EXPECT_EQ(ns["status"]["phase"], "Terminating");
  auto c = resources_->Create(Kind("vm"), "other", Vm("late"), Opts());
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().code(), Code::kForbidden);
}

TEST_F(ResourcesTest, DryRunCreatePersistsNothing) {
  WriteOptions o = Opts();
  o.dry_run = true;
  auto r = resources_->Create(Kind("vm"), "default", Vm("dry"), o);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(resources_->Get(Kind("vm"), "default", "dry").error().code(), Code::kNotFound);
}

TEST_F(ResourcesTest, ListPagesAreAConsistentSnapshot) {
  for (int i = 0; i < 5; ++i) MustCreate(Vm("vm-" + std::to_string(i)));
  ListOptions lo;
  lo.limit = 2;
  auto p1 = resources_->List(Kind("vm"), "default", lo);
  ASSERT_TRUE(p1.ok());
  ASSERT_EQ(p1->items.size(), 2u);
  ASSERT_FALSE(p1->continue_token.empty());
  // Changes after the first page do not show in later pages.
  MustCreate(Vm("vm-5"));
  ASSERT_TRUE(resources_->Delete(Kind("vm"), "default", "vm-3", {}).ok());
  std::vector<std::string> names;
  for (const auto& s : p1->items) names.push_back((*ParseJson(s))["metadata"]["name"]);
  std::string token = p1->continue_token;
  while (!token.empty()) {
    ListOptions next;
    next.limit = 2;
    next.continue_token = token;
    auto p = resources_->List(Kind("vm"), "default", next);
    ASSERT_TRUE(p.ok()) << p.status().ToString();
    EXPECT_EQ(p->rv, p1->rv);
    for (const auto& s : p->items) names.push_back((*ParseJson(s))["metadata"]["name"]);
    token = p->continue_token;
  }
  EXPECT_EQ(names, (std::vector<std::string>{"vm-0", "vm-1", "vm-2", "vm-3", "vm-4"}));
}

TEST_F(ResourcesTest, ContinueTokensExpireWithCompactionAndRejectGarbage) {
  for (int i = 0; i < 3; ++i) MustCreate(Vm("vm-" + std::to_string(i)));
  ListOptions lo;
  lo.limit = 1;
  auto p1 = resources_->List(Kind("vm"), "default", lo);
  ASSERT_TRUE(p1.ok());
  MustCreate(Vm("later"));
  // Once the cache has seen the change, the page's snapshot is history that
  // only the store could serve, and compaction removes it. (Before, the
  // cache still is that snapshot and may answer.)
  ASSERT_TRUE(cache_->Sync().ok());
  ASSERT_TRUE(store_->Compact(*store_->CurrentRevision()).ok());
  ListOptions next;
  next.continue_token = p1->continue_token;
  auto expired = resources_->List(Kind("vm"), "default", next);
  ASSERT_FALSE(expired.ok());
  EXPECT_EQ(expired.error().code(), Code::kGone);
  next.continue_token = "garbage!";
  EXPECT_EQ(resources_->List(Kind("vm"), "default", next).error().code(), Code::kBadRequest);
}

TEST_F(ResourcesTest, SelectorsFilterListsAndUnknownFieldsAreRefused) {
  MustCreate(Vm("a", {{"app", "db"}}));
  MustCreate(Vm("b", {{"app", "web"}}));
  MustCreate(Vm("c", {{"app", "db"}}), "other");
  ListOptions lo;
  lo.label_selector = "app=db";
  auto r = resources_->List(Kind("vm"), "", lo);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->items.size(), 2u);
  lo.label_selector = "app in (db,web),app!=web";
  lo.field_selector = "metadata.namespace=default";
  r = resources_->List(Kind("vm"), "", lo);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->items.size(), 1u);
  lo.field_selector = "spec.cpu=1";
  EXPECT_EQ(resources_->List(Kind("vm"), "", lo).error().code(), Code::kBadRequest);
  lo.field_selector = "";
  lo.label_selector = "app in (";
  EXPECT_EQ(resources_->List(Kind("vm"), "", lo).error().code(), Code::kBadRequest);
}

TEST_F(ResourcesTest, ScaleReadsAndWritesReplicas) {
  Json d = {{"apiVersion", "lintel.dev/v1alpha1"},
            {"kind", "Deployment"},
            {"metadata", {{"name", "api"}}},
            {"spec",
             {{"selector", {{"matchLabels", {{"app", "api"}}}}},
              {"template",
               {{"metadata", {{"labels", {{"app", "api"}}}}},
                {"spec", {{"containers", {{{"name", "m"}, {"image", "busybox"}}}}}}}}}}};
  MustCreate(d, "default", "deployments");
  auto s = resources_->GetScale(Kind("deploy"), "default", "api");
  ASSERT_TRUE(s.ok());
  EXPECT_EQ((*s)["spec"]["replicas"], 1);
  EXPECT_EQ((*s)["status"]["selector"], "app=api");
  auto p = resources_->PatchScale(Kind("deploy"), "default", "api", PatchType::kMerge,
                                  R"({"spec":{"replicas":3}})", Opts());
  ASSERT_TRUE(p.ok()) << p.error().ToString();
  EXPECT_EQ(MustGet("api", "default", "deployments")["spec"]["replicas"], 3);
  Json neg = *s;
  neg["spec"]["replicas"] = -1;
  EXPECT_EQ(resources_->UpdateScale(Kind("deploy"), "default", "api", neg, Opts()).error().code(),
            Code::kInvalid);
}

TEST(ObjectCodecTest, ResourceVersionIsSplicedIntoTopLevelMetadata) {
  Json obj = {{"apiVersion", "v"},
              {"kind", "K"},
              {"metadata", {{"name", "x"}, {"resourceVersion", "9"}}},
              {"spec", {{"template", {{"metadata", {{"labels", Json::object()}}}}}}}};
  std::string stored = EncodeForStorage(obj);
  EXPECT_EQ(stored.find("resourceVersion"), std::string::npos);
  Json back = *ParseJson(WithResourceVersion(stored, 42));
  EXPECT_EQ(back["metadata"]["resourceVersion"], "42");
  EXPECT_EQ(back["metadata"]["name"], "x");
  EXPECT_FALSE(back["spec"]["template"]["metadata"].contains("resourceVersion"));
  Json empty_meta = *ParseJson(WithResourceVersion(R"({"kind":"K","metadata":{}})", 7));
  EXPECT_EQ(empty_meta["metadata"]["resourceVersion"], "7");
}

}  // namespace
}  // namespace lintel::server

namespace lintel::server {
namespace {

class EventTtlTest : public testing::ServerFixture {};

TEST_F(EventTtlTest, EventsExpireAfterTheirTtl) {
  Json ev = {{"apiVersion", "lintel.dev/v1alpha1"},
             {"kind", "Event"},
             {"metadata", {{"name", "vm-a.1"}}},
             {"involvedObject", {{"kind", "VirtualMachine"}, {"name", "a"}}},
             {"reason", "Started"},
             {"message", "started"}};
  MustCreate(ev, "default", "events");
  // An update keeps the event's lease.
  ASSERT_TRUE(resources_->Patch(Kind("events"), "default", "vm-a.1", PatchType::kMerge,
                                R"({"count":2})", Opts()).ok());
  clock_.Advance(std::chrono::minutes(30));
  ASSERT_TRUE(resources_->Get(Kind("events"), "default", "vm-a.1").ok());
  clock_.Advance(std::chrono::minutes(32));
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (resources_->Get(Kind("events"), "default", "vm-a.1").ok() &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  auto gone = resources_->Get(Kind("events"), "default", "vm-a.1");
  ASSERT_FALSE(gone.ok());
  EXPECT_EQ(gone.error().code(), Code::kNotFound);
}

}  // namespace
}  // namespace lintel::server
