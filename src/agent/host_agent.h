// HostAgent: one host's part of the agent. It registers the Host and keeps
// its heartbeat (registration.cc, heartbeat.cc), and reconciles the workloads
// bound to it with its driver (workloads.cc): start what is bound here, stop
// and destroy what was deleted or bound elsewhere, report each transition in
// the workload's /status.
//
// It owns no threads. The Agent (agent.h) that holds one HostAgent (a real
// host) or thousands (hollow hosts) feeds it watch events, calls Reconcile on
// its driver pool, ticks its heartbeat, and lends it a StatusWriter.
//
// One workload, as the agent sees it:
//
//   bound here ──▶ Start (or Recover when the API says it ran before)
//                    │ ok                         │ failed for good
//                    ▼                            ▼
//     driver reports Running ──▶ write Running   write Failed (StartError)
//     driver reports Exited  ──▶ write Succeeded/Failed (Pods), Stopped/Failed (VMs)
//   deleted, deletionTimestamp, or bound elsewhere ──▶ Stop(grace), Destroy
//
// Threading: thread-safe. OnWorkload/OnWorkloadGone come from watch threads,
// Reconcile from the driver pool (never twice at once for one uid), the
// driver's listener from the driver's threads; Register and Heartbeat run on
// the status writer's threads.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <unordered_set>

#include "agent/handle_store.h"
#include "agent/status_writer.h"
#include "agent/workload_status.h"
#include "client/client.h"
#include "common/clock.h"
#include "common/json.h"
#include "common/thread_annotations.h"
#include "controllers/event_recorder.h"
#include "drivers/driver.h"

namespace lintel::agent {

inline constexpr char kHostnameLabel[] = "lintel.dev/hostname";

// What a host says about itself.
struct HostConfig {
  std::string name;
  std::map<std::string, std::string> labels;  // besides lintel.dev/hostname
  // Quantities: {"cpu": "32", "memory": "128Gi", "pods": "110", "vms": "64"}.
  Json capacity = Json::object();
  Json allocatable;                // null: the capacity
  Json addresses = Json::array();  // [{"type": "Hostname", "address": NAME}, ...]
  std::string agent_version;
  // {"url", "caBundle"} of the agent's endpoint (agent_endpoint.h); null: none.
  Json agent_endpoint;
};

// What the HostAgents of one process share; owned by the Agent.
struct AgentContext {
  client::Client* client = nullptr;
  StatusWriter* writer = nullptr;
  Clock* clock = &Clock::Real();
  std::chrono::milliseconds heartbeat{10'000};
  // Queues Reconcile(uid) of `host` on the driver pool after `delay`.
  std::function<void(const std::string& host, const std::string& uid,
                     std::chrono::milliseconds delay)>
      reconcile;
  // Called once each time the host registers.
  std::function<void(const std::string& host)> on_registered;
  // Events about workloads (Started, Failed, BackOff, Killing, ...); null:
  // none (hollow hosts).
  controllers::EventRecorder* events = nullptr;
};

struct HostCounters {
  uint64_t starts = 0;
  uint64_t recovers = 0;
  uint64_t start_failures = 0;
  uint64_t stops = 0;
  uint64_t reports = 0;  // status writes submitted
};

class HostAgent {
 public:
  HostAgent(HostConfig config, std::unique_ptr<drivers::Driver> driver,
            std::unique_ptr<HandleStore> handles, AgentContext* ctx);
  // Detaches from the driver (its listener is not called afterwards).
  ~HostAgent();
  HostAgent(const HostAgent&) = delete;
  HostAgent& operator=(const HostAgent&) = delete;

  const std::string& name() const { return config_.name; }
  drivers::Driver& driver() { return *driver_; }

  // Queues the registration: creates the Host if missing (with its labels),
  // adds missing labels, writes its whole status. Retried until it succeeds.
  void SubmitRegistration();
  bool registered() const { return registered_; }

  // Queues a heartbeat (a renewal of the host's Lease) if registered.
  void SubmitHeartbeat();

  // A workload bound here was listed, added or changed.
  void OnWorkload(drivers::WorkloadKind kind, const Json& obj);
  // A workload was deleted or is no longer bound here.
  void OnWorkloadGone(const std::string& uid);
  // After the agent's first lists: destroys what the driver still runs for
  // workloads with a kept handle that are neither in `listed` (every Pod and
  // VM bound here) nor known to this host any more: deleted or moved while
  // the agent was down. Returns how many it reaped.
  int ReapOrphans(const std::unordered_set<std::string>& listed);
  // Brings the driver and the API in line for `uid`; returns when to try
  // again (zero: done).
  std::chrono::milliseconds Reconcile(const std::string& uid);

  size_t workloads() const;
  HostCounters counters() const;

 private:
  struct Workload {
    drivers::WorkloadSpec spec;
    std::string rv;
    Json conditions = Json::array();  // status.conditions as last seen
    std::string observed_phase;       // status.phase as last seen
    std::string observed_ready;       // its Ready condition: "True", "False", ""
    int64_t grace_seconds = 30;
    bool gone = false;             // deleted or bound elsewhere
    bool terminating = false;      // deletionTimestamp set
    bool finished = false;         // ended before we saw it (terminal phase): leave it be
    bool remains_checked = false;  // finished: what the driver kept of it was looked for
    bool adopt = false;            // the API says it ran: Recover rather than Start
    bool started = false;          // the driver has it
    std::string start_error;       // Start failed for good
    std::string retry_error;       // why Start is being tried again (told once per message)
    int attempts = 0;              // failed Start/Stop attempts in a row
    std::string reported;          // digest of the last report submitted ("" none)
    std::string reported_phase;
    Json reported_status;  // the status fields last reported (Events are their changes)
    std::string reported_ready;
    bool confirmed = false;  // the API has since said what we reported
    // VirtualMachines (vm_power.cc): what their power settings were when last
    // looked at, and the requests carried out.
    std::string power_key;           // runStrategy, power, requests, paused
    std::string seen_start_request;  // lintel.dev/start-requested acted on
    std::string seen_restart_request;
    bool stopped_by_request = false;  // the agent stopped it (not the guest)
    std::string halted;               // not running by its runStrategy: why (reported as Stopped)
  };

  // registration.cc / heartbeat.cc (writer threads)
  Status Register();
  Status EnsureLease(const Json& host, Clock::WallTime now);
  Status Heartbeat();
  Json ReadyCondition(Clock::WallTime now) const;
  Json HostStatus(Clock::WallTime now) const;

  // workloads.cc
  void OnDriverChange(const std::string& uid);
  std::chrono::milliseconds StopWorkload(const std::string& uid, const Workload& w);
  void AdoptRemains(const std::string& uid, const Workload& w);
  std::chrono::milliseconds StartWorkload(const std::string& uid, const Workload& w);
  void Report(const std::string& uid);
  // Queues Events about workload `w` on the writer (no-op without a recorder).
  void RecordEvents(const drivers::WorkloadSpec& w, const std::vector<WorkloadEvent>& events);
  std::chrono::milliseconds Backoff(const std::string& uid);
  // vm_power.cc: a VirtualMachine's runStrategy and power requests.
  std::chrono::milliseconds ReconcileVm(const std::string& uid, const Workload& w);
  void SetVmState(const std::string& uid, const std::function<void(Workload&)>& change);

  const HostConfig config_;
  const std::unique_ptr<drivers::Driver> driver_;
  const std::unique_ptr<HandleStore> handles_;
  const drivers::Capabilities caps_;
  AgentContext* const ctx_;

  // Registration and heartbeats run one at a time (one writer key per host).
  std::atomic<bool> registered_{false};
  Clock::WallTime ready_since_{};
  Clock::WallTime last_heartbeat_ok_{};

  mutable std::mutex mu_;
  std::unordered_map<std::string, Workload> workloads_ LINTEL_GUARDED_BY(mu_);
  HostCounters counters_ LINTEL_GUARDED_BY(mu_);
};

// The API resources the agent uses.
const client::Resource& HostsResource();
const client::Resource& LeasesResource();
// Where each host's heartbeat Lease lives (named after the Host, owned by it).
inline constexpr char kHostLeaseNamespace[] = "lintel-host-leases";
const client::Resource& ResourceOf(drivers::WorkloadKind kind);

}  // namespace lintel::agent
