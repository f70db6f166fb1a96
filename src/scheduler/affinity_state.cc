#include "scheduler/affinity_state.h"

#include <algorithm>

namespace lintel::scheduler {

namespace {

template <typename Visit>
void ForEachNamespace(const WorkloadTerm& term, std::string_view owner_ns, Visit&& visit) {
  if (term.namespaces.empty()) {
    visit(owner_ns);
    return;
  }
  for (const auto& ns : term.namespaces) {
    visit(std::string_view(ns));
  }
}

// Calls visit(host) for each placed workload the term selects.
template <typename Visit>
void ForEachSelectedHost(const Snapshot& snapshot, const WorkloadTerm& term,
                         std::string_view owner_ns, Visit&& visit) {
  ForEachNamespace(term, owner_ns, [&](std::string_view ns) {
    for (const auto& posting : snapshot.placement_index().Candidates(ns, term.selector)) {
      const Placement& p = snapshot.placement(posting.slot);
      if (term.selector.Matches(p.workload->labels)) {
        visit(p.host);
      }
    }
  });
}

void SortUnique(std::vector<std::string_view>* values) {
  std::sort(values->begin(), values->end());
  values->erase(std::unique(values->begin(), values->end()), values->end());
}

DomainSet& SetFor(std::vector<DomainSet>* sets, std::string_view key) {
  for (DomainSet& s : *sets) {
    if (s.key == key) {
      return s;
    }
  }
  sets->push_back({std::string(key), {}});
  return sets->back();
}

void AddWeights(
    const Snapshot& snapshot, const WorkloadInfo& w, const std::vector<WeightedWorkloadTerm>& terms,
    int64_t sign,
    std::vector<std::pair<std::string, std::vector<std::pair<std::string_view, int64_t>>>>* acc) {
  for (const auto& wt : terms) {
    auto it = std::find_if(acc->begin(), acc->end(),
                           [&](const auto& e) { return e.first == wt.term.topology_key; });
    if (it == acc->end()) {
      acc->push_back({wt.term.topology_key, {}});
      it = acc->end() - 1;
    }
    ForEachSelectedHost(snapshot, wt.term, w.ns, [&](HostId host) {
      if (auto v = snapshot.DomainOf(host, wt.term.topology_key)) {
        it->second.emplace_back(*v, sign * wt.weight);
      }
    });
  }
}

}  // namespace

bool DomainSet::Contains(std::string_view value) const {
  return std::binary_search(values.begin(), values.end(), value);
}

int64_t WeightedDomains::WeightOf(std::string_view value) const {
  auto it = std::lower_bound(weights.begin(), weights.end(), value,
                             [](const auto& e, std::string_view v) { return e.first < v; });
  return it != weights.end() && it->first == value ? it->second : 0;
}

bool TermSelects(const WorkloadTerm& term, std::string_view owner_ns, const WorkloadInfo& other) {
  bool in_ns = term.namespaces.empty() ? other.ns == owner_ns
                                       : std::find(term.namespaces.begin(), term.namespaces.end(),
                                                   other.ns) != term.namespaces.end();
  return in_ns && term.selector.Matches(other.labels);
}

AffinityState PrepareAffinity(const Snapshot& snapshot, const WorkloadInfo& w) {
  AffinityState state;
  bool any_match = false;
  for (const auto& term : w.required_affinity) {
    DomainSet set{term.topology_key, {}};
    ForEachSelectedHost(snapshot, term, w.ns, [&](HostId host) {
      if (auto v = snapshot.DomainOf(host, term.topology_key)) {
        set.values.push_back(*v);
      }
    });
    SortUnique(&set.values);
    any_match = any_match || !set.values.empty();
    state.required.push_back(std::move(set));
  }
  if (!w.required_affinity.empty() && !any_match) {
    state.first_of_group =
        std::all_of(w.required_affinity.begin(), w.required_affinity.end(),
                    [&](const WorkloadTerm& t) { return TermSelects(t, w.ns, w); });
  }

  for (const auto& term : w.required_anti_affinity) {
    ForEachSelectedHost(snapshot, term, w.ns, [&](HostId host) {
      if (auto v = snapshot.DomainOf(host, term.topology_key)) {
        SetFor(&state.forbidden, term.topology_key).values.push_back(*v);
      }
    });
  }
  snapshot.placement_index().ForEachAntiTerm(
      w.ns, w.labels, [&](const PlacementIndex::TermRef& ref) {
        const Placement& p = snapshot.placement(ref.slot);
        const WorkloadTerm& term = p.workload->required_anti_affinity[ref.term];
        if (term.selector.Matches(w.labels)) {
          if (auto v = snapshot.DomainOf(p.host, term.topology_key)) {
            SetFor(&state.forbidden, term.topology_key).values.push_back(*v);
          }
        }
      });
  for (DomainSet& s : state.forbidden) {
    SortUnique(&s.values);
  }

  if (!w.preferred_affinity.empty() || !w.preferred_anti_affinity.empty()) {
    std::vector<std::pair<std::string, std::vector<std::pair<std::string_view, int64_t>>>> acc;
    AddWeights(snapshot, w, w.preferred_affinity, +1, &acc);
    AddWeights(snapshot, w, w.preferred_anti_affinity, -1, &acc);
    for (auto& [key, list] : acc) {
      std::sort(list.begin(), list.end());
      WeightedDomains wd{key, {}};
      for (const auto& [value, weight] : list) {
        if (!wd.weights.empty() && wd.weights.back().first == value) {
          wd.weights.back().second += weight;
        } else {
          wd.weights.emplace_back(value, weight);
        }
      }
      state.preferred.push_back(std::move(wd));
    }
  }
  return state;
}

}  // namespace lintel::scheduler
