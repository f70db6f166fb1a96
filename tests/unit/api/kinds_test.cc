#include <gtest/gtest.h>

#include "api/discovery.h"
#include "api/openapi.h"
#include "api/registry.h"
#include "api/table.h"

namespace lintel::api {
namespace {

const Registry& R() { return Registry::Default(); }

Json Vm(Json spec) {
  return {{"apiVersion", "lintel.dev/v1alpha1"},
          {"kind", "VirtualMachine"},
          {"metadata", {{"name", "db-1"}, {"namespace", "default"}}},
          {"spec", std::move(spec)}};
}

std::vector<Cause> ValidateKind(const KindInfo& k, Json obj) {
  k.schema.ApplyDefaults(&obj);
  std::vector<Cause> causes;
  k.schema.Validate(obj, "", &causes, nullptr);
  ValidateObjectMeta(k, obj["metadata"], &causes);
  if (k.validate) k.validate(obj, nullptr, &causes);
  return causes;
}

TEST(KindsTest, EveryDesignKindIsRegisteredOnce) {
  for (const char* kind : {"Host", "VirtualMachine", "VirtualMachineMigration", "Pod",
                           "Deployment", "Service", "Namespace", "ResourceQuota", "Role",
                           "RoleBinding", "Event"}) {
    SCOPED_TRACE(kind);
    EXPECT_NE(R().ByKind("lintel.dev/v1alpha1", kind), nullptr);
  }
  EXPECT_EQ(R().ByName("vm")->kind, "VirtualMachine");
  EXPECT_EQ(R().ByName("virtualmachines.lintel.dev")->kind, "VirtualMachine");
  EXPECT_EQ(R().ByName("Deployment")->plural, "deployments");
  EXPECT_EQ(R().ByName("nothing"), nullptr);
  EXPECT_FALSE(R().ByName("hosts")->namespaced);
}

// Defaults inside list items break client-side apply (lists are replaced whole
// by JSON merge patches, so the defaulted live item always differs).
void CollectListDefaults(const Schema& s, bool in_list, const std::string& path,
                         std::vector<std::string>* out) {
  if (in_list && s.default_value()) out->push_back(path);
  for (const auto& p : s.properties()) {
    CollectListDefaults(p.schema, in_list, path + "." + p.name, out);
  }
  if (s.items()) {
    CollectListDefaults(*s.items(), in_list || s.type() == Type::kArray, path + "[]", out);
  }
}

TEST(KindsTest, NoDefaultsInsideLists) {
  for (const auto& k : R().kinds()) {
    std::vector<std::string> found;
    CollectListDefaults(k.schema, false, k.kind, &found);
    EXPECT_TRUE(found.empty()) << "defaults inside lists: " << ::testing::PrintToString(found);
  }
}

TEST(KindsTest, CanonicalVirtualMachineIsValidAndDefaulted) {
  const KindInfo& k = *R().ByName("vm");
  Json vm = Vm({{"runStrategy", "Always"}, {"cpu", 1}, {"memory", "256Mi"}, {"image", "tiny"},
                {"disks", {{{"name", "data"}, {"size", "1Gi"}}}},
                {"cloudInit", {{"userData", "#cloud-config\nhostname: db-1\n"}}},
                {"evictionStrategy", "LiveMigrate"}});
  EXPECT_TRUE(ValidateKind(k, vm).empty());
  Json minimal = Vm({{"image", "tiny"}});
  k.schema.ApplyDefaults(&minimal);
  EXPECT_EQ(minimal["spec"]["runStrategy"], "Always");
  EXPECT_EQ(minimal["spec"]["cpu"], 1);
  EXPECT_EQ(minimal["spec"]["memory"], "256Mi");
}

TEST(KindsTest, InvalidVirtualMachinesNameTheField) {
  const KindInfo& k = *R().ByName("vm");
  auto causes = ValidateKind(k, Vm({{"image", "tiny"}, {"cpu", -1}, {"memory", "lots"}}));
  ASSERT_EQ(causes.size(), 2u);
  EXPECT_EQ(causes[0].field, "spec.cpu");
  EXPECT_EQ(causes[1].field, "spec.memory");
  auto missing = ValidateKind(k, Vm(Json::object()));
  ASSERT_EQ(missing.size(), 1u);
  EXPECT_EQ(missing[0].field, "spec.image");
}

TEST(KindsTest, DeploymentSelectorMustMatchTemplate) {
  const KindInfo& k = *R().ByName("deploy");
  Json d = {{"apiVersion", "lintel.dev/v1alpha1"},
            {"kind", "Deployment"},
            {"metadata", {{"name", "web"}, {"namespace", "default"}}},
            {"spec",
             {{"selector", {{"matchLabels", {{"app", "web"}}}}},
              {"template",
               {{"metadata", {{"labels", {{"app", "other"}}}}},
                {"spec", {{"containers", {{{"name", "main"}, {"image", "busybox"}}}}}}}}}}};
  auto causes = ValidateKind(k, d);
  ASSERT_EQ(causes.size(), 1u);
  EXPECT_EQ(causes[0].field, "spec.template.metadata.labels");
  d["spec"]["template"]["metadata"]["labels"]["app"] = "web";
  EXPECT_TRUE(ValidateKind(k, d).empty());
}

TEST(KindsTest, DeploymentRollingUpdateFenceposts) {
  const KindInfo& k = *R().ByName("deploy");
  Json d = {{"apiVersion", "lintel.dev/v1alpha1"},
            {"kind", "Deployment"},
            {"metadata", {{"name", "web"}, {"namespace", "default"}}},
            {"spec",
             {{"selector", {{"matchLabels", {{"app", "web"}}}}},
              {"template",
               {{"metadata", {{"labels", {{"app", "web"}}}}},
                {"spec", {{"containers", {{{"name", "main"}, {"image", "busybox"}}}}}}}}}}};
  struct Case {
    Json surge, unavailable;
    std::string field;  // of the one cause, "" for none
  } cases[] = {
      {1, "25%", ""},
      {"0%", 1, ""},
      {0, 0, "spec.strategy.rollingUpdate.maxUnavailable"},
      {"0%", "0%", "spec.strategy.rollingUpdate.maxUnavailable"},
      {-1, 1, "spec.strategy.rollingUpdate.maxSurge"},
      {"two", 1, "spec.strategy.rollingUpdate.maxSurge"},
      {1, "101%", "spec.strategy.rollingUpdate.maxUnavailable"},
      {"150%", 0, ""},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.surge.dump() + " " + c.unavailable.dump());
    d["spec"]["strategy"] = {
        {"rollingUpdate", {{"maxSurge", c.surge}, {"maxUnavailable", c.unavailable}}}};
    auto causes = ValidateKind(k, d);
    if (c.field.empty()) {
      EXPECT_TRUE(causes.empty()) << causes[0].field << ": " << causes[0].message;
    } else {
      ASSERT_EQ(causes.size(), 1u);
      EXPECT_EQ(causes[0].field, c.field);
    }
  }
}

TEST(KindsTest, PodNeedsContainersAndKnownVolumes) {
  const KindInfo& k = *R().ByName("pod");
  Json p = {{"apiVersion", "lintel.dev/v1alpha1"},
            {"kind", "Pod"},
            {"metadata", {{"name", "hello"}, {"namespace", "default"}}},
            {"spec",
             {{"containers",
               {{{"name", "main"},
                 {"image", "busybox"},
                 {"volumeMounts", {{{"name", "scratch"}, {"mountPath", "/tmp"}}}}}}}}}};
  auto causes = ValidateKind(k, p);
  ASSERT_EQ(causes.size(), 1u);
  EXPECT_EQ(causes[0].field, "spec.containers[0].volumeMounts[0].name");
  p["spec"]["volumes"] = {{{"name", "scratch"}, {"emptyDir", Json::object()}}};
  EXPECT_TRUE(ValidateKind(k, p).empty());
}

TEST(KindsTest, BadMetadataIsReported) {
  const KindInfo& k = *R().ByName("vm");
  Json vm = Vm({{"image", "tiny"}});
  vm["metadata"]["name"] = "DB_1";
  vm["metadata"]["labels"] = {{"bad key!", "x"}};
  auto causes = ValidateKind(k, vm);
  ASSERT_EQ(causes.size(), 2u);
  EXPECT_EQ(causes[0].field, "metadata.name");
  EXPECT_EQ(causes[1].field.rfind("metadata.labels", 0), 0u);
}

TEST(OpenApiTest, EveryKindHasAPatchOperationWithFieldValidation) {
  Json doc = OpenApiV3Document(R(), "lintel.dev", "v1alpha1");
  for (const auto& k : R().kinds()) {
    SCOPED_TRACE(k.kind);
    std::string path = "/apis/lintel.dev/v1alpha1/" +
                       std::string(k.namespaced ? "namespaces/{namespace}/" : "") + k.plural +
                       "/{name}";
    ASSERT_TRUE(doc["paths"].contains(path));
    const Json& patch = doc["paths"][path]["patch"];
    EXPECT_EQ(patch["x-kubernetes-group-version-kind"]["kind"], k.kind);
    bool has_fv = false;
    for (const auto& p : patch["parameters"]) has_fv |= p["name"] == "fieldValidation";
    EXPECT_TRUE(has_fv);
    const Json& schema = doc["components"]["schemas"][SchemaComponentName(k)];
    EXPECT_EQ(schema["x-kubernetes-group-version-kind"][0]["kind"], k.kind);
  }
}

TEST(DiscoveryTest, AggregatedListsScaleWithAutoscalingKind) {
  Json d = AggregatedDiscovery(R(), false, "v2");
  EXPECT_EQ(d["apiVersion"], "apidiscovery.k8s.io/v2");
  ASSERT_EQ(d["items"].size(), 1u);
  bool found_scale = false;
  for (const auto& r : d["items"][0]["versions"][0]["resources"]) {
    EXPECT_TRUE(r.contains("responseKind"));
    if (r["resource"] == "deployments") {
      for (const auto& s : r["subresources"]) {
        if (s["subresource"] == "scale") {
          found_scale = true;
          EXPECT_EQ(s["responseKind"]["group"], "autoscaling");
        }
      }
    }
  }
  EXPECT_TRUE(found_scale);
  Json legacy = ApiResourceList(R(), "lintel.dev", "v1alpha1");
  EXPECT_EQ(legacy["groupVersion"], "lintel.dev/v1alpha1");
  EXPECT_TRUE(ApiResourceList(R(), "lintel.dev", "v9").is_null());
}

TEST(TableTest, VirtualMachineRowsShowPhaseHostCpusMemoryIpAge) {
  const KindInfo& k = *R().ByName("vm");
  Json vm = Vm({{"image", "tiny"}, {"cpu", 2}, {"memory", "512Mi"}});
  vm["metadata"]["creationTimestamp"] = "2026-01-01T00:00:00Z";
  vm["status"] = {{"phase", "Running"}, {"host", "h1"}, {"ip", "10.0.0.5"}};
  auto now = std::chrono::system_clock::time_point(std::chrono::seconds(1767225600 + 300));
  Json row = TableRow(k, vm, IncludeObject::kMetadata, now);
  Json cols = TableColumnDefinitions(k);
  std::vector<std::string> names;
  for (const auto& c : cols) {
    if (c["priority"] == 0) names.push_back(c["name"]);
  }
  EXPECT_EQ(names, (std::vector<std::string>{"Name", "Phase", "Host", "CPUs", "Memory", "IP",
                                             "Age"}));
  EXPECT_EQ(row["cells"][0], "db-1");
  EXPECT_EQ(row["cells"][1], "Running");
  EXPECT_EQ(row["cells"][3], 2);
  EXPECT_EQ(row["cells"].back(), "5m");
  EXPECT_EQ(row["object"]["kind"], "PartialObjectMetadata");
}

}  // namespace
}  // namespace lintel::api
