// Invariants the property and concurrency tests check on a Snapshot.
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "scheduler/affinity_state.h"
#include "scheduler/snapshot.h"

namespace lintel::scheduler::testing {

// Every host's charges sum to used() and fit its allocatable, and the exact (unrounded)
// physical shares fit too: sum(req * 1000 / ratio) + overhead <= allocatable.
inline void ExpectWithinAllocatable(const Snapshot& s) {
  for (HostId h = 0; h < s.host_count(); ++h) {
    const HostInfo& host = s.host(h);
    Resources sum;
    // Exact shares as fractions over a common denominator of all four ratios.
    const Overcommit& r = host.overcommit;
    const __int128 denom = static_cast<__int128>(r.vm_cpu) * r.container_cpu;
    const __int128 denom_mem = static_cast<__int128>(r.vm_memory) * r.container_memory;
    __int128 cpu = 0, mem = 0;
    for (uint32_t slot : s.slots_on(h)) {
      const Placement& p = s.placement(slot);
      sum += p.charge;
      const WorkloadInfo& w = *p.workload;
      const bool vm = w.kind == WorkloadKind::kVirtualMachine;
      cpu +=
          static_cast<__int128>(w.requests.cpu) * kRatioScale * (vm ? r.container_cpu : r.vm_cpu) +
          static_cast<__int128>(w.overhead.cpu) * denom;
      mem += static_cast<__int128>(w.requests.memory) * kRatioScale *
                 (vm ? r.container_memory : r.vm_memory) +
             static_cast<__int128>(w.overhead.memory) * denom_mem;
    }
    ASSERT_EQ(sum, s.used(h)) << host.name;
    ASSERT_TRUE(sum.FitsIn(host.allocatable))
        << host.name << " used " << sum.ToString() << " of " << host.allocatable.ToString();
    ASSERT_LE(cpu, static_cast<__int128>(host.allocatable.cpu) * denom) << host.name;
    ASSERT_LE(mem, static_cast<__int128>(host.allocatable.memory) * denom_mem) << host.name;
  }
}

// No placed workload's required anti-affinity term selects another placed workload in
// the same topology domain.
inline void ExpectNoAntiAffinityViolation(const Snapshot& s) {
  std::vector<const Placement*> placed;
  for (HostId h = 0; h < s.host_count(); ++h) {
    for (uint32_t slot : s.slots_on(h)) {
      placed.push_back(&s.placement(slot));
    }
  }
  for (const Placement* a : placed) {
    for (const WorkloadTerm& t : a->workload->required_anti_affinity) {
      auto da = s.DomainOf(a->host, t.topology_key);
      if (!da) {
        continue;
      }
      for (const Placement* b : placed) {
        if (a == b || !TermSelects(t, a->workload->ns, *b->workload)) {
          continue;
        }
        auto db = s.DomainOf(b->host, t.topology_key);
        ASSERT_FALSE(db && *db == *da) << a->workload->Key() << " repels " << b->workload->Key()
                                       << " in " << t.topology_key << "=" << *da;
      }
    }
  }
}

}  // namespace lintel::scheduler::testing
