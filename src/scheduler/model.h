// The scheduler's resource model: what a Host offers and what a workload (Pod or
// VirtualMachine) asks for, decoupled from JSON (see from_json.h) so that the algorithm,
// its tests and its benchmark work on plain values.
//
// Accounting (README.md, "Accounting"): every placement is charged in *physical* units of
// the host, so that one number per resource says how full a host is:
//
//   charge.cpu    = ceil(requests.cpu    * 1000 / ratio_cpu(kind))    + overhead.cpu
//   charge.memory = ceil(requests.memory * 1000 / ratio_memory(kind)) + overhead.memory
//   charge.pods   = 1 for a Pod,  charge.vms = 1 for a VirtualMachine
//
// where ratio_*(kind) are the host's overcommit ratios in thousandths (vmCpu 4 -> 4000),
// and a host is full when the sum of charges reaches its allocatable. Because each charge
// rounds up, sum(vm_cpu)/vmCpu + sum(ctr_cpu)/containerCpu <= allocatable.cpu always holds
// when the charges fit (likewise for memory).
//
// Plain values; any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "apimachinery/labels.h"

namespace lintel::scheduler {

// Every host gets this label (its name) when it lacks it, as kubelet sets
// kubernetes.io/hostname: the usual topologyKey for per-host anti-affinity.
inline constexpr std::string_view kHostnameLabel = "lintel.dev/hostname";
// The pods or vms count of a host whose allocatable does not say.
inline constexpr int64_t kUnlimitedCount = int64_t{1} << 40;
// Overcommit ratios are fixed point: 1000 means 1.0.
inline constexpr int64_t kRatioScale = 1000;

// Labels sorted by key, keys unique (NormalizeLabels establishes it).
using Labels = std::vector<std::pair<std::string, std::string>>;
void NormalizeLabels(Labels* labels);
// Binary search; `labels` must be normalized.
std::optional<std::string_view> FindLabel(const Labels& labels, std::string_view key);

struct Resources {
  int64_t cpu = 0;     // millicores
  int64_t memory = 0;  // bytes
  int64_t pods = 0;
  int64_t vms = 0;

  Resources& operator+=(const Resources& o);
  Resources& operator-=(const Resources& o);
  friend Resources operator+(Resources a, const Resources& b) { return a += b; }
  friend Resources operator-(Resources a, const Resources& b) { return a -= b; }
  bool operator==(const Resources&) const = default;
  // Each field of *this is at most the same field of `free`.
  bool FitsIn(const Resources& free) const {
    return cpu <= free.cpu && memory <= free.memory && pods <= free.pods && vms <= free.vms;
  }
  std::string ToString() const;  // "cpu=500m memory=256Mi pods=1 vms=0"
};

enum class TaintEffect : uint8_t { kNoSchedule, kPreferNoSchedule, kNoExecute };
std::string_view TaintEffectName(TaintEffect effect);

struct Taint {
  std::string key;
  std::string value;
  TaintEffect effect = TaintEffect::kNoSchedule;
};

// Kube's Toleration: key "" with Exists tolerates every taint; no effect tolerates all.
struct Toleration {
  std::string key;
  bool exists = false;  // operator Exists (else Equal)
  std::string value;
  std::optional<TaintEffect> effect;
  bool Tolerates(const Taint& taint) const;
};
bool Tolerated(const std::vector<Toleration>& tolerations, const Taint& taint);

enum class Accelerator : uint8_t { kNone, kTcg, kKvm };

// Workload units per physical unit, in thousandths. The API's defaults.
struct Overcommit {
  int64_t vm_cpu = 4 * kRatioScale;
  int64_t vm_memory = kRatioScale;
  int64_t container_cpu = kRatioScale;
  int64_t container_memory = kRatioScale;
  bool operator==(const Overcommit&) const = default;
};

struct HostInfo {
  std::string name;
  Labels labels;  // normalized
  std::vector<Taint> taints;
  bool unschedulable = false;  // maintenance
  bool ready = true;
  Accelerator accelerator = Accelerator::kNone;
  bool sandbox = false;  // can run isolation: vm Pods
  Resources allocatable;
  Overcommit overcommit;
};

enum class WorkloadKind : uint8_t { kPod, kVirtualMachine };
enum class Policy : uint8_t { kBinPack, kSpread };

struct PreferredHostTerm {
  int32_t weight = 1;  // 1-100
  apimachinery::LabelSelector preference;
};

// A required or preferred (anti-)affinity term over Pods and VirtualMachines alike.
struct WorkloadTerm {
  apimachinery::LabelSelector selector;
  std::vector<std::string> namespaces;  // empty: the workload's own
  std::string topology_key;
};

struct WeightedWorkloadTerm {
  int32_t weight = 1;  // 1-100
  WorkloadTerm term;
};

struct WorkloadInfo {
  WorkloadKind kind = WorkloadKind::kPod;
  std::string ns;
  std::string name;
  std::string uid;
  Labels labels;  // normalized
  // What the workload asks for, subject to overcommit: a Pod's summed container requests;
  // a VM's vCPUs * 1000 and guest memory. pods and vms are ignored (see Charge).
  Resources requests;
  // What its runtime costs on the host beyond that, never overcommitted: QEMU for a VM
  // (VmMemoryOverhead), the micro-VM of an isolation: vm Pod (kSandboxOverhead).
  Resources overhead;
  Labels host_selector;  // normalized; every pair must be a host label
  std::vector<Toleration> tolerations;
  // Required host affinity: ORed terms (each a selector over host labels); empty: none.
  std::vector<apimachinery::LabelSelector> required_host_terms;
  std::vector<PreferredHostTerm> preferred_host_terms;
  std::vector<WorkloadTerm> required_affinity;
  std::vector<WorkloadTerm> required_anti_affinity;
  std::vector<WeightedWorkloadTerm> preferred_affinity;
  std::vector<WeightedWorkloadTerm> preferred_anti_affinity;
  int32_t priority = 0;
  Policy policy = Policy::kBinPack;
  bool requires_kvm = false;   // VM with accelerator KVM
  bool needs_sandbox = false;  // Pod with isolation: vm
  std::string pinned_host;     // spec.host: only this host is considered

  bool HasRequiredWorkloadTerms() const {
    return !required_affinity.empty() || !required_anti_affinity.empty();
  }
  bool HasPreferences() const {
    return !preferred_host_terms.empty() || !preferred_affinity.empty() ||
           !preferred_anti_affinity.empty();
  }
  std::string Key() const { return ns + "/" + name; }  // "default/web-1"
};

// QEMU's memory beyond the guest's: 64 MiB (process, firmware, device models) + 8 MiB per
// vCPU (thread stacks, KVM vCPU state, as KubeVirt counts) + guest/128 (page tables and
// migration dirty bitmaps; KubeVirt counts guest/512 for page tables alone), rounded up
// to a MiB.
int64_t VmMemoryOverhead(int64_t guest_memory, int64_t vcpus);
// The micro-VM of an isolation: vm Pod: Kata Containers' documented RuntimeClass
// overhead (250m, 160Mi).
inline constexpr Resources kSandboxOverhead{250, int64_t{160} << 20, 0, 0};

// ceil(a * kRatioScale / ratio), saturating; ratio > 0.
int64_t ScaleByRatio(int64_t amount, int64_t ratio);
// The physical charge of `w` on a host with these ratios (see the header comment).
Resources Charge(const WorkloadInfo& w, const Overcommit& ratios);

}  // namespace lintel::scheduler
