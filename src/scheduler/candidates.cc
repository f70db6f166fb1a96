#include "scheduler/candidates.h"

#include <algorithm>

#include "scheduler/filters/chain.h"
#include "scheduler/scores/workload_affinity.h"

namespace lintel::scheduler {

namespace {

bool MaskHas(const std::vector<uint64_t>& mask, uint32_t pos) {
  return ((mask[pos >> 6] >> (pos & 63)) & 1) != 0;
}

// Collects feasible hosts for one workload across passes.
class Collector {
 public:
  Collector(Snapshot& snapshot, const WorkloadInfo& w, const AffinityState& affinity,
            const CandidateOptions& options, Candidates* out)
      : snapshot_(snapshot), w_(w), affinity_(affinity), options_(options), out_(out) {}

  // Starts a pass that may add `want` hosts.
  void BeginPass() {
    target_ = out_->hosts.size() + static_cast<size_t>(options_.want);
    rejections_ = 0;
  }
  // Counts a host the pass skipped; true when the pass should stop.
  bool Reject() {
    if (++rejections_ >= options_.max_rejections) {
      out_->truncated = true;
      return true;
    }
    return false;
  }
  // Offers a host; true when the pass should stop.
  bool Offer(HostId h) {
    if (std::find(out_->hosts.begin(), out_->hosts.end(), h) != out_->hosts.end()) {
      return false;
    }
    if (!DynamicFilters(snapshot_, w_, affinity_, h).empty()) {
      return Reject();
    }
    out_->hosts.push_back(h);
    return out_->hosts.size() >= target_;
  }

 private:
  Snapshot& snapshot_;
  const WorkloadInfo& w_;
  const AffinityState& affinity_;
  const CandidateOptions& options_;
  Candidates* out_;
  size_t target_ = 0;
  int rejections_ = 0;
};

// The policy's search over the index; `extra` filters hosts before they are offered.
template <typename Extra>
void PolicyPass(Snapshot& snapshot, const WorkloadInfo& w, const std::vector<uint64_t>& mask,
                Collector& collector, Extra&& extra) {
  const Resources need = snapshot.MinCharge(w);
  IndexQuery q(need, mask.data());
  auto visit = [&](HostId h) { return extra(h) ? collector.Offer(h) : collector.Reject(); };
  collector.BeginPass();
  if (w.policy == Policy::kSpread) {
    snapshot.index().MostFree(q, visit);
  } else {
    snapshot.index().FirstFit(q, visit);
  }
}

// Hosts of the domains in `values` of `key`, if there are few enough: in index order for
// bin-pack, emptiest first for spread.
bool DomainHosts(const Snapshot& snapshot, const HostIndex& index, Policy policy,
                 const std::string& key, std::span<const std::string_view> values, size_t limit,
                 std::vector<HostId>* out) {
  for (std::string_view v : values) {
    auto hosts = snapshot.HostsInDomain(key, v);
    if (out->size() + hosts.size() > limit) {
      return false;
    }
    out->insert(out->end(), hosts.begin(), hosts.end());
  }
  if (policy == Policy::kSpread) {
    std::vector<std::pair<int64_t, uint32_t>> keyed;
    keyed.reserve(out->size());
    for (HostId h : *out) {
      int64_t e = HostIndex::Emptiness(snapshot.host(h).allocatable, snapshot.free(h));
      keyed.emplace_back(-e, index.position(h));
    }
    std::sort(keyed.begin(), keyed.end());
    for (size_t i = 0; i < keyed.size(); ++i) {
      (*out)[i] = index.host_at(keyed[i].second);
    }
  } else {
    std::sort(out->begin(), out->end(),
              [&](HostId a, HostId b) { return index.position(a) < index.position(b); });
  }
  return true;
}

}  // namespace

Candidates FindCandidates(Snapshot& snapshot, StaticMasks& masks, const WorkloadInfo& w,
                          const AffinityState& affinity, const CandidateOptions& options) {
  Candidates out;
  Collector collector(snapshot, w, affinity, options, &out);
  const std::vector<uint64_t>& mask = masks.Get(snapshot, w);
  const HostIndex& index = snapshot.index();

  bool enumerated = false;
  if (!affinity.required.empty() && !affinity.first_of_group) {
    // The term with the fewest allowed domains bounds the hosts to look at.
    const DomainSet* narrow = &affinity.required[0];
    for (const DomainSet& d : affinity.required) {
      if (d.values.size() < narrow->values.size()) {
        narrow = &d;
      }
    }
    std::vector<HostId> hosts;
    if (DomainHosts(snapshot, index, w.policy, narrow->key, narrow->values,
                    static_cast<size_t>(options.max_domain_hosts), &hosts)) {
      enumerated = true;
      collector.BeginPass();
      for (HostId h : hosts) {
        if (MaskHas(mask, index.position(h)) && collector.Offer(h)) {
          break;
        }
      }
    }
  }
  if (!enumerated) {
    PolicyPass(snapshot, w, mask, collector, [](HostId) { return true; });
  }
  if (out.hosts.empty() || !w.HasPreferences()) {
    return out;
  }

  for (const auto& term : w.preferred_host_terms) {
    const std::vector<uint64_t>& preferred = masks.Get(snapshot, w, &term.preference);
    PolicyPass(snapshot, w, preferred, collector, [](HostId) { return true; });
  }
  for (const WeightedDomains& d : affinity.preferred) {
    std::vector<std::pair<int64_t, std::string_view>> favoured;
    for (const auto& [value, weight] : d.weights) {
      if (weight > 0) {
        favoured.emplace_back(-weight, value);
      }
    }
    std::sort(favoured.begin(), favoured.end());
    collector.BeginPass();
    bool stop = false;
    for (const auto& [neg_weight, value] : favoured) {
      for (HostId h : snapshot.HostsInDomain(d.key, value)) {
        if (MaskHas(mask, index.position(h)) && collector.Offer(h)) {
          stop = true;
          break;
        }
      }
      if (stop) {
        break;
      }
    }
  }
  bool any_negative = false;
  for (const WeightedDomains& d : affinity.preferred) {
    for (const auto& [value, weight] : d.weights) {
      any_negative = any_negative || weight < 0;
    }
  }
  if (any_negative) {
    PolicyPass(snapshot, w, mask, collector,
               [&](HostId h) { return WorkloadAffinityRaw(snapshot, affinity, h) >= 0; });
  }
  return out;
}

}  // namespace lintel::scheduler
