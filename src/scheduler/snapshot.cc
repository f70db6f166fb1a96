#include "scheduler/snapshot.h"

#include <algorithm>
#include <atomic>

namespace lintel::scheduler {

namespace {

uint64_t NextEpoch() {
  static std::atomic<uint64_t> next{1};
  return next.fetch_add(1, std::memory_order_relaxed);
}

void MaxRatios(Overcommit* acc, const Overcommit& r) {
  acc->vm_cpu = std::max(acc->vm_cpu, r.vm_cpu);
  acc->vm_memory = std::max(acc->vm_memory, r.vm_memory);
  acc->container_cpu = std::max(acc->container_cpu, r.container_cpu);
  acc->container_memory = std::max(acc->container_memory, r.container_memory);
}

}  // namespace

Status Snapshot::CheckHost(const HostInfo& host) const {
  if (host.name.empty()) {
    return Invalid("host has no name");
  }
  const Overcommit& r = host.overcommit;
  if (r.vm_cpu <= 0 || r.vm_memory <= 0 || r.container_cpu <= 0 || r.container_memory <= 0) {
    return Invalid("host " + host.name + ": overcommit ratios must be positive");
  }
  return Status::Ok();
}

void Snapshot::HostChanged() {
  static_epoch_ = NextEpoch();
  index_stale_ = true;
}

Result<HostId> Snapshot::AddHost(HostInfo host) {
  LINTEL_RETURN_IF_ERROR(CheckHost(host));
  if (host_by_name_.find(std::string_view(host.name)) != host_by_name_.end()) {
    return AlreadyExists("host " + host.name + " already in the snapshot");
  }
  NormalizeLabels(&host.labels);
  if (!FindLabel(host.labels, kHostnameLabel)) {
    host.labels.emplace_back(std::string(kHostnameLabel), host.name);
    NormalizeLabels(&host.labels);
  }
  const auto id = static_cast<HostId>(hosts_.size());
  for (const auto& [key, value] : host.labels) {
    FindOrAdd(FindOrAdd(domains_, key), value).push_back(id);
  }
  MaxRatios(&max_ratios_, host.overcommit);
  host_by_name_.emplace(host.name, id);
  hosts_.push_back(std::make_shared<const HostInfo>(std::move(host)));
  hosts_state_.emplace_back();
  HostChanged();
  return id;
}

Status Snapshot::UpdateHost(HostId id, HostInfo host) {
  if (id >= hosts_.size()) {
    return NotFound("host id " + std::to_string(id));
  }
  LINTEL_RETURN_IF_ERROR(CheckHost(host));
  if (host.name != hosts_[id]->name) {
    return Invalid("host " + hosts_[id]->name + ": cannot be renamed to " + host.name);
  }
  NormalizeLabels(&host.labels);
  if (!FindLabel(host.labels, kHostnameLabel)) {
    host.labels.emplace_back(std::string(kHostnameLabel), host.name);
    NormalizeLabels(&host.labels);
  }
  for (const auto& [key, value] : hosts_[id]->labels) {
    auto& list = FindOrAdd(FindOrAdd(domains_, key), value);
    list.erase(std::remove(list.begin(), list.end(), id), list.end());
  }
  for (const auto& [key, value] : host.labels) {
    auto& list = FindOrAdd(FindOrAdd(domains_, key), value);
    list.insert(std::upper_bound(list.begin(), list.end(), id), id);
  }
  hosts_[id] = std::make_shared<const HostInfo>(std::move(host));
  max_ratios_ = {0, 0, 0, 0};
  for (const auto& h : hosts_) {
    MaxRatios(&max_ratios_, h->overcommit);
  }
  HostChanged();
  return Status::Ok();
}

std::optional<HostId> Snapshot::FindHost(std::string_view name) const {
  auto it = host_by_name_.find(name);
  if (it == host_by_name_.end()) {
    return std::nullopt;
  }
  return it->second;
}

std::span<const HostId> Snapshot::HostsInDomain(std::string_view key,
                                                std::string_view value) const {
  const auto* values = FindIn(domains_, key);
  const auto* hosts = values == nullptr ? nullptr : FindIn(*values, value);
  return hosts == nullptr ? std::span<const HostId>() : std::span<const HostId>(*hosts);
}

Status Snapshot::Assume(const WorkloadInfo& w, HostId host) {
  return Assume(std::make_shared<const WorkloadInfo>(w), host);
}

Status Snapshot::Assume(std::shared_ptr<const WorkloadInfo> w, HostId host) {
  if (w == nullptr || w->uid.empty()) {
    return Invalid("workload has no uid");
  }
  if (host >= hosts_.size()) {
    return NotFound("host id " + std::to_string(host));
  }
  if (by_uid_.find(std::string_view(w->uid)) != by_uid_.end()) {
    return AlreadyExists("workload " + w->Key() + " (" + w->uid + ") is already placed");
  }
  uint32_t slot;
  if (!free_slots_.empty()) {
    slot = free_slots_.back();
    free_slots_.pop_back();
  } else {
    slot = static_cast<uint32_t>(placements_.size());
    placements_.emplace_back();
  }
  Placement& p = placements_[slot];
  p.charge = ChargeOn(*w, host);
  p.host = host;
  p.priority = w->priority;
  p.kind = w->kind;
  HostState& s = hosts_state_[host];
  s.used += p.charge;
  if (w->kind == WorkloadKind::kVirtualMachine) {
    s.vm_used += p.charge;
  }
  s.slots.push_back(slot);
  by_uid_.emplace(w->uid, slot);
  placement_index_.Add(slot, *w);
  p.workload = std::move(w);
  Reindex(host);
  return Status::Ok();
}

Status Snapshot::Forget(std::string_view uid) {
  auto it = by_uid_.find(uid);
  if (it == by_uid_.end()) {
    return NotFound("workload " + std::string(uid) + " is not placed");
  }
  const uint32_t slot = it->second;
  by_uid_.erase(it);
  Placement& p = placements_[slot];
  HostState& s = hosts_state_[p.host];
  s.used -= p.charge;
  if (p.workload->kind == WorkloadKind::kVirtualMachine) {
    s.vm_used -= p.charge;
  }
  s.slots.erase(std::find(s.slots.begin(), s.slots.end(), slot));
  placement_index_.Remove(slot, *p.workload);
  const HostId host = p.host;
  p = Placement();
  free_slots_.push_back(slot);
  Reindex(host);
  return Status::Ok();
}

const Placement* Snapshot::Find(std::string_view uid) const {
  auto it = by_uid_.find(uid);
  return it == by_uid_.end() ? nullptr : &placements_[it->second];
}

HostIndex::Entry Snapshot::IndexEntry(HostId id) const {
  const HostInfo& h = *hosts_[id];
  return {id, h.allocatable, free(id), h.ready && !h.unschedulable};
}

void Snapshot::Reindex(HostId id) {
  if (!index_stale_) {
    index_.Update(IndexEntry(id));
  }
}

const HostIndex& Snapshot::index() {
  if (index_stale_) {
    std::vector<HostIndex::Entry> entries;
    entries.reserve(hosts_.size());
    for (HostId id = 0; id < hosts_.size(); ++id) {
      entries.push_back(IndexEntry(id));
    }
    index_.Rebuild(entries);
    index_stale_ = false;
  }
  return index_;
}

}  // namespace lintel::scheduler
