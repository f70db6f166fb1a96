#include "scheduler/placement_index.h"

#include <algorithm>

namespace lintel::scheduler {

using apimachinery::LabelSelector;
using apimachinery::SelectorOperator;

namespace {

// Removes the element at `pos` by moving the last one there; returns the moved element,
// or nullptr when `pos` was the last.
template <typename T>
const T* SwapRemove(std::vector<T>& list, uint32_t pos) {
  if (pos + 1 == list.size()) {
    list.pop_back();
    return nullptr;
  }
  list[pos] = list.back();
  list.pop_back();
  return &list[pos];
}

// The namespaces a term looks in.
template <typename Visit>
void ForEachTermNamespace(const WorkloadTerm& term, const WorkloadInfo& owner, Visit&& visit) {
  if (term.namespaces.empty()) {
    visit(std::string_view(owner.ns));
    return;
  }
  for (const auto& ns : term.namespaces) {
    visit(std::string_view(ns));
  }
}

}  // namespace

void PlacementIndex::Add(uint32_t slot, const WorkloadInfo& w) {
  if (positions_.size() <= slot) {
    positions_.resize(slot + 1);
  }
  Namespace& n = FindOrAdd(namespaces_, w.ns);
  SlotPositions& p = positions_[slot];
  p.all = static_cast<uint32_t>(n.all.size());
  n.all.push_back({slot, 0});
  p.labels.resize(w.labels.size());
  for (uint32_t i = 0; i < w.labels.size(); ++i) {
    auto& list = FindOrAdd(FindOrAdd(n.labels, w.labels[i].first), w.labels[i].second);
    p.labels[i] = static_cast<uint32_t>(list.size());
    list.push_back({slot, i});
  }
  AddTerms(slot, w);
}

void PlacementIndex::Remove(uint32_t slot, const WorkloadInfo& w) {
  auto nit = namespaces_.find(std::string_view(w.ns));
  if (nit == namespaces_.end() || slot >= positions_.size()) {
    return;
  }
  Namespace& n = nit->second;
  SlotPositions& p = positions_[slot];
  if (const Posting* moved = SwapRemove(n.all, p.all)) {
    positions_[moved->slot].all = p.all;
  }
  for (size_t i = 0; i < w.labels.size() && i < p.labels.size(); ++i) {
    auto kit = n.labels.find(std::string_view(w.labels[i].first));
    auto vit = kit->second.find(std::string_view(w.labels[i].second));
    if (const Posting* moved = SwapRemove(vit->second, p.labels[i])) {
      positions_[moved->slot].labels[moved->label] = p.labels[i];
    }
    if (vit->second.empty()) {
      kit->second.erase(vit);
      if (kit->second.empty()) {
        n.labels.erase(kit);
      }
    }
  }
  p.labels.clear();
  RemoveTerms(slot, w);
}

bool PlacementIndex::IndexKey(const LabelSelector& selector, std::string_view* key,
                              std::string_view* value) {
  for (const auto& r : selector.requirements()) {
    switch (r.op()) {
      case SelectorOperator::kEquals:
      case SelectorOperator::kDoubleEquals:
      case SelectorOperator::kIn:
        if (r.values().size() == 1) {
          *key = r.key();
          *value = r.values()[0];
          return true;
        }
        break;
      default:
        break;
    }
  }
  return false;
}

std::span<const PlacementIndex::Posting> PlacementIndex::Candidates(
    std::string_view ns, const LabelSelector& selector) const {
  const Namespace* n = FindIn(namespaces_, ns);
  if (n == nullptr || selector.IsNothing()) {
    return {};
  }
  std::span<const Posting> best(n->all);
  for (const auto& r : selector.requirements()) {
    bool exact = (r.op() == SelectorOperator::kEquals ||
                  r.op() == SelectorOperator::kDoubleEquals || r.op() == SelectorOperator::kIn) &&
                 r.values().size() == 1;
    if (!exact) {
      continue;
    }
    const auto* values = FindIn(n->labels, r.key());
    const auto* list = values == nullptr ? nullptr : FindIn(*values, r.values()[0]);
    if (list == nullptr) {
      return {};  // nothing carries the demanded label
    }
    if (list->size() < best.size()) {
      best = std::span<const Posting>(*list);
    }
  }
  return best;
}

void PlacementIndex::AddTerms(uint32_t slot, const WorkloadInfo& w) {
  for (uint32_t t = 0; t < w.required_anti_affinity.size(); ++t) {
    const WorkloadTerm& term = w.required_anti_affinity[t];
    if (term.selector.IsNothing()) {
      continue;
    }
    std::string_view key, value;
    bool exact = IndexKey(term.selector, &key, &value);
    ForEachTermNamespace(term, w, [&](std::string_view ns) {
      Namespace& n = FindOrAdd(namespaces_, ns);
      if (exact) {
        FindOrAdd(FindOrAdd(n.anti_terms, key), value).push_back({slot, t});
      } else {
        n.anti_generic.push_back({slot, t});
      }
    });
  }
}

void PlacementIndex::RemoveTerms(uint32_t slot, const WorkloadInfo& w) {
  for (uint32_t t = 0; t < w.required_anti_affinity.size(); ++t) {
    const WorkloadTerm& term = w.required_anti_affinity[t];
    if (term.selector.IsNothing()) {
      continue;
    }
    std::string_view key, value;
    bool exact = IndexKey(term.selector, &key, &value);
    const TermRef ref{slot, t};
    ForEachTermNamespace(term, w, [&](std::string_view ns) {
      auto nit = namespaces_.find(ns);
      if (nit == namespaces_.end()) {
        return;
      }
      Namespace& n = nit->second;
      std::vector<TermRef>* list = &n.anti_generic;
      if (exact) {
        auto kit = n.anti_terms.find(key);
        if (kit == n.anti_terms.end()) {
          return;
        }
        auto vit = kit->second.find(value);
        if (vit == kit->second.end()) {
          return;
        }
        list = &vit->second;
      }
      auto it = std::find(list->begin(), list->end(), ref);
      if (it != list->end()) {
        *it = list->back();
        list->pop_back();
      }
    });
  }
}

}  // namespace lintel::scheduler
