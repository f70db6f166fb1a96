// SchedulingController: places every Pod and VirtualMachine on a Host with the
// algorithm of src/scheduler, and binds it with an optimistic write.
//
//   informers (hosts, pods, vms) --> Snapshot (hosts, bound workloads)
//                                \-> pending (unbound, by uid)
//   loop: take a batch of pending -> Scheduler::ScheduleBatch (each decision
//         assumed at once, so the next sees the capacity it took)
//         -> binders: evict victims, PATCH /status {status.host} with the
//            object's resourceVersion as precondition
//            conflict: forget the assumption, re-read, queue again
//         -> unschedulable: condition Scheduled=False + a FailedScheduling
//            Event ("0/12 hosts available: 8 insufficient memory, ..."),
//            parked until the cluster changes (a host added or changed, a
//            workload gone) or `retry_interval` passes
//
// A binding is recorded on the object: status.host, a Scheduled condition and,
// for a VM, phase Scheduled. Successful placements write no Event (at 100,000s
// of workloads an Event per bind would double the write load; the condition's
// lastTransitionTime keeps the time). Failures and preemptions do.
//
// Failover capacity: every `failover_interval` the controller asks, for each
// Host with VMs, whether they could restart on the remaining hosts
// (scheduler::CanFailover) and writes the answer to the Host's
// status.failover when it changed, where `lintel describe host` and the API
// show it.
//
// Threading: informer threads update the snapshot and the queues under mu_;
// one scheduling thread runs batches (holding mu_ while deciding); `binders`
// threads write to the API without holding mu_; one failover thread checks
// failover capacity on a copy of the snapshot (holding mu_ only to copy).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <optional>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "api/registry.h"
#include "client/client.h"
#include "controllers/controller.h"
#include "controllers/event_recorder.h"
#include "controllers/informer.h"
#include "scheduler/scheduler.h"
#include "scheduler/snapshot.h"

namespace lintel::controllers {

struct SchedulingOptions {
  size_t batch = 2000;  // workloads per ScheduleBatch
  int binders = 16;     // threads writing bindings
  std::chrono::milliseconds retry_interval{10000};     // parked unschedulable workloads
  std::chrono::milliseconds failover_interval{30000};  // 0: never
  // HA admission control: a VM is bound only if, with it placed, the VMs of
  // this many failed hosts could still restart on the rest (failover.h
  // ReserveForFailures). 0: off. VMs are then decided one by one (each check
  // simulates on a copy of the snapshot).
  int reserve_host_failures = 0;
  scheduler::SchedulerOptions algorithm;
};

struct SchedulingStats {
  uint64_t decisions = 0;
  uint64_t bound = 0;
  uint64_t unschedulable = 0;  // decisions that found no host
  uint64_t conflicts = 0;      // bindings refused by the optimistic check
  uint64_t preempted = 0;      // victims evicted
  size_t pending = 0;
  size_t parked = 0;
};

class SchedulingController final : public Controller {
 public:
  SchedulingController(std::shared_ptr<client::Client> client, const api::Registry& registry,
                       SchedulingOptions options = {});
  ~SchedulingController() override;
  std::string name() const override { return "scheduler"; }
  Status Start() override;
  void Stop() override;

  SchedulingStats stats() const;
  // Whether the scheduler's view has host `name` ready (nullopt: unknown).
  std::optional<bool> HostReady(const std::string& name) const;

 private:
  enum class Kind : uint8_t { kPod, kVm };
  struct Pending {
    Kind kind = Kind::kPod;
    std::shared_ptr<const scheduler::WorkloadInfo> info;
    std::string rv;
    int64_t generation = 0;
    std::string last_message;  // the last unschedulable message written
  };
  struct BindJob {
    Kind kind = Kind::kPod;
    std::string uid, ns, name, host, rv;
    std::vector<scheduler::Victim> victims;
    bool unschedulable = false;
    std::string message;
    Json object_ref;  // apiVersion, kind, metadata (for Events)
  };

  const client::Resource& ResourceOf(Kind kind) const;
  void OnHost(const Json& obj, bool deleted);
  void OnWorkload(Kind kind, const Json& obj, bool deleted);
  void WakeParkedLocked();
  void Loop();
  void FailoverLoop();
  std::vector<scheduler::Decision> Decide(const std::vector<scheduler::WorkloadInfo>& batch);
  void BinderLoop();
  void RunJob(BindJob& job);
  void Bind(BindJob& job);
  void WriteUnschedulable(BindJob& job);
  void Requeue(const BindJob& job);
  void CheckFailover();

  std::shared_ptr<client::Client> client_;
  const api::Registry& registry_;
  SchedulingOptions options_;
  client::Resource hosts_, pods_, vms_;
  EventRecorder events_;
  std::vector<std::unique_ptr<Informer>> informers_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  scheduler::Snapshot snapshot_;
  scheduler::Scheduler algorithm_;
  std::unordered_map<std::string, Pending> pending_;  // by uid: waiting for a decision
  std::deque<std::string> order_;                     // pending uids, oldest first
  std::unordered_map<std::string, Pending> parked_;   // unschedulable, by uid
  std::unordered_set<std::string> inflight_;          // decided, binding being written
  std::chrono::steady_clock::time_point next_retry_;
  std::chrono::steady_clock::time_point next_failover_;
  std::unordered_map<std::string, std::string> failover_written_;  // host -> message
  std::unordered_map<std::string, std::string> host_fingerprints_;  // what the snapshot has
  size_t failover_cursor_ = 0;  // the failover thread's
  std::condition_variable failover_cv_;
  SchedulingStats stats_;
  bool stop_ = false;

  std::mutex jobs_mu_;
  std::condition_variable jobs_cv_;
  std::deque<BindJob> jobs_;
  bool jobs_stop_ = false;

  std::thread loop_;
  std::thread failover_loop_;
  std::vector<std::thread> binders_;
};

}  // namespace lintel::controllers
