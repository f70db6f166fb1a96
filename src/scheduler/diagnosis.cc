#include "scheduler/diagnosis.h"

#include <algorithm>

#include "scheduler/filters/chain.h"

namespace lintel::scheduler {

Diagnosis Diagnose(Snapshot& snapshot, const WorkloadInfo& w, const AffinityState& affinity) {
  Diagnosis d;
  std::vector<std::pair<Reason, int64_t>> counts;
  const HostIndex& index = snapshot.index();
  for (uint32_t pos = 0; pos < index.size(); ++pos) {
    const HostId h = index.host_at(pos);
    Reason r = RunFilters(snapshot, w, affinity, h);
    if (r.empty()) {
      d.feasible.push_back(h);
      continue;
    }
    auto it =
        std::find_if(counts.begin(), counts.end(), [&](const auto& c) { return c.first == r; });
    if (it == counts.end()) {
      counts.emplace_back(r, 1);
    } else {
      ++it->second;
    }
  }
  for (const auto& [reason, n] : counts) {
    d.reasons.push_back({std::string(reason), n});
  }
  std::sort(d.reasons.begin(), d.reasons.end(), [](const ReasonCount& a, const ReasonCount& b) {
    return a.hosts != b.hosts ? a.hosts > b.hosts : a.reason < b.reason;
  });
  return d;
}

std::string UnschedulableMessage(size_t hosts, const std::vector<ReasonCount>& reasons) {
  std::string out = "0/" + std::to_string(hosts) + " hosts available";
  for (size_t i = 0; i < reasons.size(); ++i) {
    out += i == 0 ? ": " : ", ";
    out += std::to_string(reasons[i].hosts) + " " + reasons[i].reason;
  }
  out += ".";
  return out;
}

}  // namespace lintel::scheduler
