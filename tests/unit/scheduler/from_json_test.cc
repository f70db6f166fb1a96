#include "scheduler/from_json.h"

#include <gtest/gtest.h>

#include "builders.h"

namespace lintel::scheduler {
namespace {

using testing::kGi;
using testing::kMi;

Json J(std::string_view text) {
  auto j = ParseYaml(text);
  EXPECT_TRUE(j.ok()) << j.status().ToString();
  return j.ok() ? *j : Json();
}

TEST(FromJsonTest, Host) {
  auto h = HostFromJson(J(R"(
metadata: {name: h1, labels: {zone: a}}
spec:
  unschedulable: true
  taints: [{key: dedicated, value: gpu, effect: NoSchedule}]
  overcommit: {vmCpu: 8, containerMemory: 1.5}
status:
  capacity: {cpu: "64", memory: 256Gi, pods: "250"}
  allocatable: {cpu: 62500m, memory: 250Gi}
  conditions: [{type: Ready, status: "True"}]
  runtime: {accelerator: kvm, sandbox: true}
)"));
  ASSERT_TRUE(h.ok()) << h.status().ToString();
  EXPECT_EQ(h->name, "h1");
  EXPECT_EQ(h->labels, (Labels{{"zone", "a"}}));
  EXPECT_TRUE(h->unschedulable);
  ASSERT_EQ(h->taints.size(), 1u);
  EXPECT_EQ(h->taints[0].effect, TaintEffect::kNoSchedule);
  EXPECT_EQ(h->overcommit.vm_cpu, 8000);
  EXPECT_EQ(h->overcommit.vm_memory, 1000);
  EXPECT_EQ(h->overcommit.container_memory, 1500);
  EXPECT_EQ(h->allocatable, (Resources{62500, 250 * kGi, 250, kUnlimitedCount}));
  EXPECT_TRUE(h->ready);
  EXPECT_EQ(h->accelerator, Accelerator::kKvm);
  EXPECT_TRUE(h->sandbox);
}

TEST(FromJsonTest, HostDefaultsAndReadiness) {
  auto h = HostFromJson(J(R"(
metadata: {name: h2}
status:
  conditions: [{type: Ready, status: "Unknown"}]
  runtime: {accelerator: tcg}
)"));
  ASSERT_TRUE(h.ok());
  EXPECT_FALSE(h->ready);
  EXPECT_FALSE(h->unschedulable);
  EXPECT_EQ(h->accelerator, Accelerator::kTcg);
  EXPECT_EQ(h->overcommit, Overcommit());
  EXPECT_EQ(h->allocatable.cpu, 0);
  EXPECT_EQ(h->allocatable.pods, kUnlimitedCount);
}

TEST(FromJsonTest, HostErrorsNameTheField) {
  struct Case {
    const char* yaml;
    const char* field;
  };
  const Case cases[] = {
      {"metadata: {name: h}\nstatus: {allocatable: {memory: lots}}", "status.allocatable.memory"},
      {"metadata: {name: h}\nstatus: {capacity: {cpu: \"-1\"}}", "status.capacity.cpu"},
      {"metadata: {name: h}\nspec: {taints: [{key: k, effect: Sometimes}]}",
       "spec.taints[0].effect"},
      {"metadata: {name: h}\nspec: {overcommit: {vmCpu: 0}}", "spec.overcommit.vmCpu"},
      {"metadata: {}", "metadata.name"},
      {"metadata: {name: h}\nstatus: {runtime: {accelerator: hvf}}", "status.runtime.accelerator"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.yaml);
    auto h = HostFromJson(J(c.yaml));
    ASSERT_FALSE(h.ok());
    EXPECT_EQ(h.error().code(), Code::kInvalid);
    ASSERT_EQ(h.error().causes().size(), 1u);
    EXPECT_EQ(h.error().causes()[0].field, c.field);
    EXPECT_NE(h.error().message().find(c.field), std::string::npos) << h.error().message();
  }
}

TEST(FromJsonTest, Pod) {
  auto w = WorkloadFromJson(J(R"(
kind: Pod
metadata: {name: web-1, namespace: shop, uid: u-1, labels: {app: web}}
spec:
  isolation: vm
  priority: 100
  schedulingPolicy: Spread
  host: h1
  hostSelector: {zone: a}
  tolerations: [{key: dedicated, operator: Exists, effect: NoSchedule}, {key: x, value: y}]
  containers:
  - name: a
    image: busybox
    resources: {requests: {cpu: 250m, memory: 64Mi}}
  - name: b
    image: busybox
    resources: {limits: {cpu: "1", memory: 1Gi}, requests: {memory: 128Mi}}
  affinity:
    hostAffinity:
      requiredDuringScheduling:
        hostSelectorTerms:
        - matchExpressions: [{key: cores, operator: Gt, values: ["8"]}]
        - matchExpressions: [{key: zone, operator: In, values: [a, b]}]
      preferredDuringScheduling:
      - weight: 20
        preference: {matchExpressions: [{key: disk, operator: Exists}]}
    workloadAffinity:
      requiredDuringScheduling:
      - labelSelector: {matchLabels: {app: db}}
        topologyKey: zone
    workloadAntiAffinity:
      requiredDuringScheduling:
      - labelSelector: {matchLabels: {app: web}}
        namespaces: [shop, other]
        topologyKey: lintel.dev/hostname
      preferredDuringScheduling:
      - weight: 5
        workloadAffinityTerm:
          labelSelector: {matchExpressions: [{key: tier, operator: Exists}]}
          topologyKey: zone
)"));
  ASSERT_TRUE(w.ok()) << w.status().ToString();
  EXPECT_EQ(w->kind, WorkloadKind::kPod);
  EXPECT_EQ(w->Key(), "shop/web-1");
  EXPECT_EQ(w->uid, "u-1");
  EXPECT_EQ(w->requests.cpu, 1250);  // 250m + the limit 1 standing in for the request
  EXPECT_EQ(w->requests.memory, 192 * kMi);
  EXPECT_TRUE(w->needs_sandbox);
  EXPECT_EQ(w->overhead, kSandboxOverhead);
  EXPECT_EQ(w->priority, 100);
  EXPECT_EQ(w->policy, Policy::kSpread);
  EXPECT_EQ(w->pinned_host, "h1");
  EXPECT_EQ(w->host_selector, (Labels{{"zone", "a"}}));
  ASSERT_EQ(w->tolerations.size(), 2u);
  EXPECT_TRUE(w->tolerations[0].exists);
  EXPECT_EQ(w->tolerations[0].effect, TaintEffect::kNoSchedule);
  EXPECT_FALSE(w->tolerations[1].effect.has_value());
  ASSERT_EQ(w->required_host_terms.size(), 2u);
  EXPECT_EQ(w->required_host_terms[0].ToString(), "cores>8");
  EXPECT_EQ(w->required_host_terms[1].ToString(), "zone in (a,b)");
  ASSERT_EQ(w->preferred_host_terms.size(), 1u);
  EXPECT_EQ(w->preferred_host_terms[0].weight, 20);
  ASSERT_EQ(w->required_affinity.size(), 1u);
  EXPECT_EQ(w->required_affinity[0].selector.ToString(), "app=db");
  EXPECT_EQ(w->required_affinity[0].topology_key, "zone");
  ASSERT_EQ(w->required_anti_affinity.size(), 1u);
  EXPECT_EQ(w->required_anti_affinity[0].namespaces, (std::vector<std::string>{"shop", "other"}));
  ASSERT_EQ(w->preferred_anti_affinity.size(), 1u);
  EXPECT_EQ(w->preferred_anti_affinity[0].weight, 5);
}

TEST(FromJsonTest, VirtualMachine) {
  auto w = WorkloadFromJson(J(R"(
kind: VirtualMachine
metadata: {name: db-1, labels: {app: db}}
spec: {cpu: 2, memory: 4Gi, image: tiny, accelerator: KVM}
)"));
  ASSERT_TRUE(w.ok()) << w.status().ToString();
  EXPECT_EQ(w->kind, WorkloadKind::kVirtualMachine);
  EXPECT_EQ(w->ns, "default");
  EXPECT_EQ(w->uid, "default/db-1");
  EXPECT_EQ(w->requests.cpu, 2000);
  EXPECT_EQ(w->requests.memory, 4 * kGi);
  EXPECT_EQ(w->overhead.memory, VmMemoryOverhead(4 * kGi, 2));
  EXPECT_TRUE(w->requires_kvm);
  EXPECT_EQ(w->policy, Policy::kBinPack);

  auto defaults = WorkloadFromJson(J("kind: VirtualMachine\nmetadata: {name: v}\nspec: {}"));
  ASSERT_TRUE(defaults.ok());
  EXPECT_EQ(defaults->requests, (Resources{1000, 256 * kMi, 0, 0}));
  EXPECT_FALSE(defaults->requires_kvm);
}

TEST(FromJsonTest, WorkloadErrorsNameTheField) {
  struct Case {
    const char* yaml;
    const char* field;
  };
  const Case cases[] = {
      {"kind: Service\nmetadata: {name: s}", "kind"},
      {"kind: Pod\nmetadata: {name: p}\nspec: {containers: [{name: a, resources: {requests: "
       "{cpu: 1x}}}]}",
       "spec.containers[0].resources.requests.cpu"},
      {"kind: VirtualMachine\nmetadata: {name: v}\nspec: {memory: 12Q}", "spec.memory"},
      {"kind: VirtualMachine\nmetadata: {name: v}\nspec: {cpu: 0}", "spec.cpu"},
      {"kind: Pod\nmetadata: {name: p}\nspec: {schedulingPolicy: Random}", "spec.schedulingPolicy"},
      {"kind: Pod\nmetadata: {name: p}\nspec: {affinity: {workloadAffinity: "
       "{requiredDuringScheduling: [{labelSelector: {}}]}}}",
       "spec.affinity.workloadAffinity.requiredDuringScheduling[0].topologyKey"},
      {"kind: Pod\nmetadata: {name: p}\nspec: {affinity: {hostAffinity: "
       "{requiredDuringScheduling: {hostSelectorTerms: [{matchExpressions: [{key: a, "
       "operator: Gt, values: [x]}]}]}}}}",
       "spec.affinity.hostAffinity.requiredDuringScheduling.hostSelectorTerms[0]."
       "matchExpressions[0]"},
      {"kind: Pod\nmetadata: {name: p}\nspec: {affinity: {workloadAntiAffinity: "
       "{preferredDuringScheduling: [{weight: 101, workloadAffinityTerm: {topologyKey: z}}]}}}",
       "spec.affinity.workloadAntiAffinity.preferredDuringScheduling[0].weight"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.yaml);
    auto w = WorkloadFromJson(J(c.yaml));
    ASSERT_FALSE(w.ok());
    EXPECT_EQ(w.error().code(), Code::kInvalid);
    ASSERT_EQ(w.error().causes().size(), 1u);
    EXPECT_EQ(w.error().causes()[0].field, c.field) << w.error().message();
  }
}

TEST(FromJsonTest, NullSelectorInATermSelectsNothing) {
  auto w = WorkloadFromJson(J(R"(
kind: Pod
metadata: {name: p}
spec:
  affinity:
    workloadAntiAffinity:
      requiredDuringScheduling: [{topologyKey: zone}]
)"));
  ASSERT_TRUE(w.ok()) << w.status().ToString();
  EXPECT_TRUE(w->required_anti_affinity[0].selector.IsNothing());
}

}  // namespace
}  // namespace lintel::scheduler
