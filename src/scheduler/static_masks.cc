#include "scheduler/static_masks.h"

#include "scheduler/filters/chain.h"

namespace lintel::scheduler {

namespace {

constexpr char kField = '\x1f';
constexpr char kItem = '\x1e';

void AppendSelector(const apimachinery::LabelSelector& s, std::string* out) {
  out->push_back(s.IsNothing() ? '!' : '=');
  out->append(s.ToString());
  out->push_back(kItem);
}

}  // namespace

void AppendStaticSignature(const WorkloadInfo& w, std::string* out) {
  out->push_back(w.kind == WorkloadKind::kVirtualMachine ? 'V' : 'P');
  out->push_back(w.requires_kvm ? 'k' : '-');
  out->push_back(w.needs_sandbox ? 's' : '-');
  out->push_back(kField);
  for (const Toleration& t : w.tolerations) {
    out->append(t.key);
    out->push_back(t.exists ? '?' : '=');
    out->append(t.value);
    out->push_back(t.effect ? static_cast<char>('0' + static_cast<int>(*t.effect)) : '*');
    out->push_back(kItem);
  }
  out->push_back(kField);
  for (const auto& [key, value] : w.host_selector) {
    out->append(key);
    out->push_back('=');
    out->append(value);
    out->push_back(kItem);
  }
  out->push_back(kField);
  for (const auto& term : w.required_host_terms) {
    AppendSelector(term, out);
  }
}

void StaticMasks::Trim(const Snapshot& snapshot, size_t max_masks) {
  if (snapshot.static_epoch() != epoch_ || masks_.size() > max_masks) {
    masks_.clear();
    epoch_ = snapshot.static_epoch();
  }
}

const std::vector<uint64_t>& StaticMasks::Get(Snapshot& snapshot, const WorkloadInfo& w,
                                              const apimachinery::LabelSelector* extra) {
  if (snapshot.static_epoch() != epoch_) {
    masks_.clear();
    epoch_ = snapshot.static_epoch();
  }
  key_.clear();
  AppendStaticSignature(w, &key_);
  if (extra != nullptr) {
    key_.push_back(kField);
    AppendSelector(*extra, &key_);
  }
  if (const auto* mask = FindIn(masks_, key_)) {
    return *mask;
  }
  const HostIndex& index = snapshot.index();
  std::vector<uint64_t> mask((index.size() + 63) / 64, 0);
  for (uint32_t pos = 0; pos < index.size(); ++pos) {
    const HostInfo& host = snapshot.host(index.host_at(pos));
    if (StaticFilters(host, w).empty() && (extra == nullptr || extra->Matches(host.labels))) {
      mask[pos >> 6] |= uint64_t{1} << (pos & 63);
    }
  }
  return masks_.emplace(key_, std::move(mask)).first->second;
}

}  // namespace lintel::scheduler
