#include "scheduler/failover.h"

#include <algorithm>
#include <memory>

namespace lintel::scheduler {

namespace {

using WorkloadPtr = std::shared_ptr<const WorkloadInfo>;

// Marks the hosts failed in `s` and removes everything placed on them; returns their VMs.
std::vector<WorkloadPtr> FailHosts(Snapshot& s, const std::vector<HostId>& hosts) {
  std::vector<WorkloadPtr> vms;
  for (HostId h : hosts) {
    HostInfo down = s.host(h);
    down.ready = false;
    (void)s.UpdateHost(h, std::move(down));  // same name, same ratios
    std::vector<WorkloadPtr> placed;
    for (uint32_t slot : s.slots_on(h)) {
      placed.push_back(s.placement(slot).workload);
    }
    for (const WorkloadPtr& p : placed) {
      (void)s.Forget(p->uid);
      if (p->kind == WorkloadKind::kVirtualMachine) {
        vms.push_back(p);
      }
    }
  }
  return vms;
}

struct Replaced {
  std::vector<std::pair<std::string, std::string>> placed;
  std::vector<std::string> unplaced;
  std::string first_reason;
};

Replaced Replace(Snapshot& s, std::vector<WorkloadPtr> vms, SchedulerOptions options) {
  std::sort(vms.begin(), vms.end(), [](const WorkloadPtr& a, const WorkloadPtr& b) {
    if (a->priority != b->priority) {
      return a->priority > b->priority;
    }
    if (a->requests.memory != b->requests.memory) {
      return a->requests.memory > b->requests.memory;
    }
    return a->uid < b->uid;
  });
  options.preemption = false;
  Scheduler scheduler(options);
  Replaced out;
  for (const WorkloadPtr& vm : vms) {
    Decision d = scheduler.Schedule(s, *vm);
    if (d.scheduled()) {
      out.placed.emplace_back(vm->Key(), d.host);
    } else {
      out.unplaced.push_back(vm->Key());
      if (out.first_reason.empty()) {
        out.first_reason = vm->Key() + ": " + d.message;
      }
    }
  }
  return out;
}

}  // namespace

FailoverResult CanFailover(const Snapshot& snapshot, HostId host, const SchedulerOptions& options) {
  FailoverResult r;
  if (host >= snapshot.host_count()) {
    r.message = "no such host";
    return r;
  }
  Snapshot s = snapshot;
  Replaced out = Replace(s, FailHosts(s, {host}), options);
  r.ok = out.unplaced.empty();
  r.placed = std::move(out.placed);
  r.unplaced = std::move(out.unplaced);
  r.message = r.ok ? std::to_string(r.placed.size()) + " VMs restart elsewhere"
                   : std::move(out.first_reason);
  return r;
}

ReserveResult ReserveForFailures(const Snapshot& snapshot, const WorkloadInfo& w, int n,
                                 const SchedulerOptions& options) {
  ReserveResult r;
  Snapshot s = snapshot;
  SchedulerOptions no_preemption = options;
  no_preemption.preemption = false;
  Decision d = Scheduler(no_preemption).Schedule(s, w);
  if (!d.scheduled()) {
    r.message = d.message;
    return r;
  }
  r.host = d.host;
  std::vector<HostId> ready;
  for (HostId h = 0; h < s.host_count(); ++h) {
    if (s.host(h).ready) {
      ready.push_back(h);
    }
  }
  std::sort(ready.begin(), ready.end(), [&](HostId a, HostId b) {
    const Resources& x = s.vm_used(a);
    const Resources& y = s.vm_used(b);
    if (x.memory != y.memory) {
      return x.memory > y.memory;
    }
    return x.cpu != y.cpu ? x.cpu > y.cpu : a < b;
  });
  ready.resize(std::min<size_t>(ready.size(), static_cast<size_t>(std::max(n, 0))));
  for (HostId h : ready) {
    r.failed_hosts.push_back(s.host(h).name);
  }
  Replaced out = Replace(s, FailHosts(s, ready), options);
  r.ok = out.unplaced.empty();
  r.unplaced = std::move(out.unplaced);
  r.message = r.ok ? "room to restart the VMs of " + std::to_string(ready.size()) + " hosts"
                   : std::move(out.first_reason);
  return r;
}

}  // namespace lintel::scheduler
