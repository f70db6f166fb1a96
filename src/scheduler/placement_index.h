// PlacementIndex: which placed workloads an affinity term can match, without scanning all
// of them. Per namespace it keeps every placed workload and a posting list per label
// (key, value); a selector is answered from the shortest posting list among its exact
// requirements (app=web, app in (web)), else from the namespace's full list. It also
// indexes the required anti-affinity terms of placed workloads by the namespaces and the
// exact label they select, so that "does some placed workload repel this one?" looks only
// at terms that could match it.
//
//   namespace -> { all: [slot...], labels: key -> value -> [slot...],
//                  anti_terms: key -> value -> [(slot, term)...], anti_generic: [...] }
//
// Slots are the Snapshot's placement slots. Add/Remove are O(labels + terms); removal
// keeps per-slot positions so that long posting lists are not scanned. Owned by a
// Snapshot; one thread at a time.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "scheduler/model.h"
#include "scheduler/string_map.h"

namespace lintel::scheduler {

class PlacementIndex {
 public:
  // A placed workload in a posting list: its slot and which of its labels put it there.
  struct Posting {
    uint32_t slot;
    uint32_t label;
  };
  struct TermRef {
    uint32_t slot;
    uint32_t term;  // index into the workload's required_anti_affinity
    bool operator==(const TermRef&) const = default;
  };

  void Add(uint32_t slot, const WorkloadInfo& w);
  // `w` must be the workload added with `slot`.
  void Remove(uint32_t slot, const WorkloadInfo& w);

  // A superset of the placed workloads in `ns` whose labels match `selector` (callers
  // check each).
  std::span<const Posting> Candidates(std::string_view ns,
                                      const apimachinery::LabelSelector& selector) const;

  // Calls visit(TermRef) for each required anti-affinity term of a placed workload that
  // may select a workload in `ns` with `labels` (callers check the selector).
  template <typename Visit>
  void ForEachAntiTerm(std::string_view ns, const Labels& labels, Visit&& visit) const;

 private:
  using Postings = StringMap<StringMap<std::vector<Posting>>>;
  using TermPostings = StringMap<StringMap<std::vector<TermRef>>>;
  struct Namespace {
    std::vector<Posting> all;
    Postings labels;
    TermPostings anti_terms;
    std::vector<TermRef> anti_generic;
  };
  struct SlotPositions {
    uint32_t all = 0;
    std::vector<uint32_t> labels;  // parallel to the workload's labels
  };
  // The exact (key, value) a selector demands that is best to index by; false if none.
  static bool IndexKey(const apimachinery::LabelSelector& selector, std::string_view* key,
                       std::string_view* value);
  void AddTerms(uint32_t slot, const WorkloadInfo& w);
  void RemoveTerms(uint32_t slot, const WorkloadInfo& w);

  StringMap<Namespace> namespaces_;
  std::vector<SlotPositions> positions_;  // by slot
};

template <typename Visit>
void PlacementIndex::ForEachAntiTerm(std::string_view ns, const Labels& labels,
                                     Visit&& visit) const {
  const Namespace* n = FindIn(namespaces_, ns);
  if (n == nullptr) {
    return;
  }
  for (const TermRef& t : n->anti_generic) {
    visit(t);
  }
  if (n->anti_terms.empty()) {
    return;
  }
  for (const auto& [key, value] : labels) {
    const auto* values = FindIn(n->anti_terms, key);
    if (values == nullptr) {
      continue;
    }
    if (const auto* refs = FindIn(*values, value)) {
      for (const TermRef& t : *refs) {
        visit(t);
      }
    }
  }
}

}  // namespace lintel::scheduler
