#include "scheduler/model.h"

#include <algorithm>
#include <limits>

namespace lintel::scheduler {

void NormalizeLabels(Labels* labels) {
  // Stable, so that of duplicate keys the last one wins after the reverse unique.
  std::stable_sort(labels->begin(), labels->end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  Labels out;
  out.reserve(labels->size());
  for (auto& kv : *labels) {
    if (!out.empty() && out.back().first == kv.first) {
      out.back().second = std::move(kv.second);
    } else {
      out.push_back(std::move(kv));
    }
  }
  *labels = std::move(out);
}

std::optional<std::string_view> FindLabel(const Labels& labels, std::string_view key) {
  auto it = std::lower_bound(labels.begin(), labels.end(), key,
                             [](const auto& kv, std::string_view k) { return kv.first < k; });
  if (it == labels.end() || it->first != key) {
    return std::nullopt;
  }
  return std::string_view(it->second);
}

Resources& Resources::operator+=(const Resources& o) {
  cpu += o.cpu;
  memory += o.memory;
  pods += o.pods;
  vms += o.vms;
  return *this;
}

Resources& Resources::operator-=(const Resources& o) {
  cpu -= o.cpu;
  memory -= o.memory;
  pods -= o.pods;
  vms -= o.vms;
  return *this;
}

std::string Resources::ToString() const {
  std::string mem = memory % (int64_t{1} << 20) == 0 ? std::to_string(memory >> 20) + "Mi"
                                                     : std::to_string(memory);
  return "cpu=" + std::to_string(cpu) + "m memory=" + mem + " pods=" + std::to_string(pods) +
         " vms=" + std::to_string(vms);
}

std::string_view TaintEffectName(TaintEffect effect) {
  switch (effect) {
    case TaintEffect::kNoSchedule:
      return "NoSchedule";
    case TaintEffect::kPreferNoSchedule:
      return "PreferNoSchedule";
    case TaintEffect::kNoExecute:
      return "NoExecute";
  }
  return "NoSchedule";
}

bool Toleration::Tolerates(const Taint& taint) const {
  if (effect && *effect != taint.effect) {
    return false;
  }
  if (!key.empty() && key != taint.key) {
    return false;
  }
  if (exists) {
    return true;  // with an empty key: every taint
  }
  return !key.empty() && value == taint.value;
}

bool Tolerated(const std::vector<Toleration>& tolerations, const Taint& taint) {
  return std::any_of(tolerations.begin(), tolerations.end(),
                     [&](const Toleration& t) { return t.Tolerates(taint); });
}

int64_t VmMemoryOverhead(int64_t guest_memory, int64_t vcpus) {
  constexpr int64_t kMi = int64_t{1} << 20;
  int64_t guest = std::max<int64_t>(guest_memory, 0);
  int64_t bytes = 64 * kMi + 8 * kMi * std::max<int64_t>(vcpus, 0) + (guest + 127) / 128;
  return (bytes + kMi - 1) / kMi * kMi;
}

int64_t ScaleByRatio(int64_t amount, int64_t ratio) {
  if (amount <= 0) {
    return 0;
  }
  __int128 scaled = (static_cast<__int128>(amount) * kRatioScale + ratio - 1) / ratio;
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max() / 4;
  return scaled > kMax ? kMax : static_cast<int64_t>(scaled);
}

Resources Charge(const WorkloadInfo& w, const Overcommit& ratios) {
  const bool vm = w.kind == WorkloadKind::kVirtualMachine;
  Resources c;
  c.cpu = ScaleByRatio(w.requests.cpu, vm ? ratios.vm_cpu : ratios.container_cpu) +
          std::max<int64_t>(w.overhead.cpu, 0);
  c.memory = ScaleByRatio(w.requests.memory, vm ? ratios.vm_memory : ratios.container_memory) +
             std::max<int64_t>(w.overhead.memory, 0);
  c.pods = vm ? 0 : 1;
  c.vms = vm ? 1 : 0;
  return c;
}

}  // namespace lintel::scheduler
