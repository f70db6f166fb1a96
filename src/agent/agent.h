// Agent: `lintel agent`, one process running one host (a real machine) or
// many (hollow hosts with the fake driver), all through the same API a real
// host uses. Whatever the number of hosts, the process has:
//
//   ResourceWatch pods ─┐  one watch per kind: status.host=NAME for one host,
//   ResourceWatch vms  ─┤  status.host!= for many (routed by name here)
//                       ▼
//        HostAgent × N  (host_agent.h: registration, heartbeat, workloads)
//          │   ▲ driver listener (driver threads: fake Timers, conmon, QMP)
//          ▼   │
//   driver pool: KeyedPool, reconciles one uid at a time ── Driver calls
//          │
//          ▼
//   StatusWriter: writer threads, coalesced keyed writes ── client::Client
//
//   heartbeat thread: ticks every host once per interval, spread evenly
//
// Threading: AddHost before Start; Start and Stop from one thread; the rest is
// thread-safe.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "agent/handle_store.h"
#include "agent/host_agent.h"
#include "agent/keyed_pool.h"
#include "agent/resource_watch.h"
#include "agent/status_writer.h"
#include "client/client.h"
#include "common/clock.h"
#include "drivers/driver.h"

namespace lintel::agent {

struct AgentOptions {
  int writers = 8;         // status writer threads
  int driver_threads = 4;  // driver pool threads
  std::chrono::milliseconds heartbeat{10'000};
  Clock* clock = &Clock::Real();
  // Events about workloads (Started, Failed, BackOff, Killing, ...). Off for
  // hollow hosts, where they would double the writes of a scale run.
  bool events = true;
};

struct AgentStats {
  size_t hosts = 0;
  size_t registered = 0;
  size_t workloads = 0;  // bound to our hosts, as last seen
  HostCounters totals;   // summed over hosts
  WriterStats writer;
};

class Agent {
 public:
  Agent(std::shared_ptr<client::Client> client, AgentOptions options);
  ~Agent();
  Agent(const Agent&) = delete;
  Agent& operator=(const Agent&) = delete;

  // Before Start. Names must be unique.
  HostAgent* AddHost(HostConfig config, std::unique_ptr<drivers::Driver> driver,
                     std::unique_ptr<HandleStore> handles);

  // Queues every host's registration and starts the watches, pools and
  // heartbeats. Registration keeps being retried in the background.
  Status Start();
  // Stops watching and writing. Workloads keep running (a driver's outlive
  // the agent; the fake driver's live as long as the HostAgents). Idempotent.
  void Stop();

  bool WaitRegistered(std::chrono::milliseconds timeout);
  // True once both watches delivered their first list.
  bool WaitSynced(std::chrono::milliseconds timeout);

  HostAgent* host(const std::string& name) const;
  // The API client the agent uses (shared with what serves its hosts).
  std::shared_ptr<client::Client> client() const { return client_; }
  // The log of workload `uid` from the driver of the host it is bound to (of
  // the only host, for a workload the agent no longer tracks). NotFound if no
  // host here has it. Blocks while following.
  Status Logs(const std::string& uid, const drivers::LogOptions& options,
              const drivers::LogSink& sink);
  // kubectl exec and a VM's console, on the workload's host driver (see
  // Driver::Exec and Driver::OpenConsole for the contract). NotFound if the
  // workload is on none of this agent's hosts. Any thread; Exec returns once
  // the process runs.
  Result<drivers::ExecSession> Exec(const std::string& uid, const drivers::ExecOptions& options);
  Result<int> OpenConsole(const std::string& uid);
  AgentStats stats() const;
  size_t registered() const;

 private:
  // The host workload `uid` is on (the only host, if it is untracked); null if none.
  HostAgent* HostOfUid(const std::string& uid);
  struct Placement {
    HostAgent* host;
    drivers::WorkloadKind kind;
  };
  void RouteUpsert(drivers::WorkloadKind kind, Json&& obj);
  void RouteDelete(Json&& obj);
  void RouteListed(drivers::WorkloadKind kind, const std::unordered_set<std::string>& uids);
  std::chrono::milliseconds ReconcileKey(const std::string& key);
  void HeartbeatLoop(Clock::MonoTime start);

  std::shared_ptr<client::Client> client_;
  const AgentOptions options_;
  AgentContext ctx_;
  std::unique_ptr<controllers::EventRecorder> events_;
  StatusWriter writer_;
  KeyedPool driver_pool_;
  std::vector<std::unique_ptr<HostAgent>> hosts_;
  std::unordered_map<std::string, HostAgent*> by_name_;

  std::mutex placed_mu_;
  // The first list of each kind (Pods, VMs): once both are in, orphans are
  // reaped (HostAgent::ReapOrphans), once.
  std::unordered_set<std::string> first_listed_ LINTEL_GUARDED_BY(placed_mu_);
  int kinds_listed_ LINTEL_GUARDED_BY(placed_mu_) = 0;  // bit per WorkloadKind
  bool reaped_ LINTEL_GUARDED_BY(placed_mu_) = false;
  std::unordered_map<std::string, Placement> placed_;  // uid -> where it is bound

  std::unique_ptr<ResourceWatch> pods_;
  std::unique_ptr<ResourceWatch> vms_;

  std::mutex mu_;
  std::condition_variable cv_;  // heartbeat ticks, registrations
  bool stopping_ = false;
  bool started_ = false;
  std::thread heartbeat_thread_;
};

}  // namespace lintel::agent
