// Snapshot: the scheduler's in-memory picture of the cluster. Hosts by index (HostId),
// what each host has used, the workloads placed on it, and the indexes the algorithm
// needs: a HostIndex over free resources and a PlacementIndex over placed workloads'
// labels and anti-affinity terms, plus host label domains for topology keys.
//
//   hosts_[id] (immutable HostInfo) ---- used_[id] (sum of charges), slots on it
//        |                                      |
//        +-- domains_: topologyKey -> value -> [HostId]      placements_ (by slot) <- uid
//        +-- index_: HostIndex (free resources, lazily rebuilt after host changes)
//                                                 placement_index_ (labels, anti terms)
//
// Assume(w, host) records a placement and charges it (model.h, "Accounting") without
// checking that it fits: callers record existing bindings as they are. Forget(uid)
// undoes it. Hosts and workloads are held by shared_ptr to immutable values, so copying a
// Snapshot copies pointers and indexes, not objects (about 20 ms for 10,000 hosts and
// 150,000 workloads): the concurrency model is one copy per scheduling thread, merged by
// an optimistic commit.
//
// Not thread-safe: one thread at a time per Snapshot; distinct copies are independent.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "scheduler/host_index.h"
#include "scheduler/model.h"
#include "scheduler/placement_index.h"
#include "scheduler/string_map.h"

namespace lintel::scheduler {

struct Placement {
  std::shared_ptr<const WorkloadInfo> workload;  // null: a free slot
  HostId host = kNoHost;
  Resources charge;
  // Copies of the workload's, so that scans over placements (preemption) stay in cache.
  int32_t priority = 0;
  WorkloadKind kind = WorkloadKind::kPod;
};

class Snapshot {
 public:
  Snapshot() = default;

  // Invalid when the name is empty or an overcommit ratio is not positive; AlreadyExists
  // when a host of that name is present. Adds kHostnameLabel when missing.
  Result<HostId> AddHost(HostInfo host);
  // Replaces a host's description (readiness, taints, allocatable ...), keeping what is
  // placed there. Invalid when the name changes or a ratio is not positive; NotFound for
  // an unknown id. Placed workloads keep the charge they were assumed with.
  Status UpdateHost(HostId id, HostInfo host);

  size_t host_count() const { return hosts_.size(); }
  const HostInfo& host(HostId id) const { return *hosts_[id]; }
  std::optional<HostId> FindHost(std::string_view name) const;
  // Sum of the charges placed on the host.
  const Resources& used(HostId id) const { return hosts_state_[id].used; }
  // allocatable - used (negative when existing bindings overcommit it).
  Resources free(HostId id) const { return hosts_[id]->allocatable - hosts_state_[id].used; }
  // Sum of the charges of VirtualMachines on the host.
  const Resources& vm_used(HostId id) const { return hosts_state_[id].vm_used; }
  // The workloads placed on the host (slots; see placement()).
  std::span<const uint32_t> slots_on(HostId id) const { return hosts_state_[id].slots; }

  // AlreadyExists when the uid is placed (on any host); NotFound for an unknown host;
  // Invalid for an empty uid.
  Status Assume(const WorkloadInfo& w, HostId host);
  Status Assume(std::shared_ptr<const WorkloadInfo> w, HostId host);
  // NotFound when the uid is not placed.
  Status Forget(std::string_view uid);

  const Placement* Find(std::string_view uid) const;
  const Placement& placement(uint32_t slot) const { return placements_[slot]; }
  size_t workload_count() const { return by_uid_.size(); }

  // The host's value of a topology key, if it has the label.
  std::optional<std::string_view> DomainOf(HostId id, std::string_view key) const {
    return FindLabel(hosts_[id]->labels, key);
  }
  // Hosts whose label `key` has `value` (empty when none).
  std::span<const HostId> HostsInDomain(std::string_view key, std::string_view value) const;

  // The charge of `w` on a host.
  Resources ChargeOn(const WorkloadInfo& w, HostId id) const {
    return Charge(w, hosts_[id]->overcommit);
  }
  // A lower bound of ChargeOn over all hosts (the most generous ratios present).
  Resources MinCharge(const WorkloadInfo& w) const {
    return hosts_.empty() ? Charge(w, Overcommit()) : Charge(w, max_ratios_);
  }

  // Rebuilt on first use after a host was added or changed. Hosts that take nothing new
  // (NotReady, cordoned) read as full in it.
  const HostIndex& index();
  const PlacementIndex& placement_index() const { return placement_index_; }
  // Changes whenever hosts are added or changed; unique across all snapshots, so that
  // caches keyed by it (static filter masks, index positions) are never confused.
  uint64_t static_epoch() const { return static_epoch_; }

 private:
  struct HostState {
    Resources used;
    Resources vm_used;
    std::vector<uint32_t> slots;
  };
  Status CheckHost(const HostInfo& host) const;
  void HostChanged();
  HostIndex::Entry IndexEntry(HostId id) const;
  void Reindex(HostId id);

  std::vector<std::shared_ptr<const HostInfo>> hosts_;
  std::vector<HostState> hosts_state_;
  StringMap<HostId> host_by_name_;
  StringMap<StringMap<std::vector<HostId>>> domains_;
  Overcommit max_ratios_{0, 0, 0, 0};

  std::vector<Placement> placements_;
  std::vector<uint32_t> free_slots_;
  StringMap<uint32_t> by_uid_;
  PlacementIndex placement_index_;

  HostIndex index_;
  bool index_stale_ = true;
  uint64_t static_epoch_ = 0;
};

}  // namespace lintel::scheduler
