// HostLifecycleController: a Host whose agent stops heartbeating is marked
// NotReady, so that the scheduler places nothing new there (as kube's node
// lifecycle controller sets Ready=Unknown), and Ready again when its
// heartbeats resume.
//
//   informer(leases in lintel-host-leases) --> last renewal per host
//   informer(hosts) --> Ready condition, its lastHeartbeatTime (agents without
//                       a Lease, and the moment of registration)
//   every `period`: Ready=True and no heartbeat for `grace`
//                   --> PATCH /status: Ready=Unknown, reason AgentStoppedHeartbeating
//                   Ready=Unknown by us and a renewal since
//                   --> PATCH /status: Ready=True, reason AgentReady
//   (both with the Host's resourceVersion as seen: a write that landed since wins;
//   before NotReady the Lease itself is read, as the watch may be behind)
//
// What happens to the VMs of a host that stays down (restart elsewhere)
// belongs to the continuity controller.
//
// Threading: the informer threads record heartbeats; one thread checks.
#pragma once

#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "client/client.h"
#include "common/clock.h"
#include "controllers/controller.h"
#include "controllers/event_recorder.h"
#include "controllers/informer.h"

namespace lintel::controllers {

struct HostLifecycleOptions {
  std::chrono::seconds grace{40};
  std::chrono::milliseconds period{2000};
  Clock* clock = &Clock::Real();
};

class HostLifecycleController final : public Controller {
 public:
  HostLifecycleController(std::shared_ptr<client::Client> client,
                          HostLifecycleOptions options = {});
  ~HostLifecycleController() override;
  std::string name() const override { return "host-lifecycle"; }
  Status Start() override;
  void Stop() override;
  // One check now (tests).
  void CheckOnce();
  // The last Lease renewal seen for `host` (tests).
  std::optional<std::chrono::system_clock::time_point> LastRenewal(const std::string& host);

 private:
  struct Seen {
    bool ready = false;
    bool marked_by_us = false;  // Ready=Unknown with our reason
    std::chrono::system_clock::time_point transition;
    std::chrono::system_clock::time_point renewed;  // the Lease's renewTime
    std::chrono::system_clock::time_point heartbeat;
    std::string heartbeat_text;    // as the agent wrote it
    std::string resource_version;  // of the Host as seen
  };
  void OnHost(const Json& obj, bool deleted);
  void OnLease(const Json& obj, bool deleted);
  // Reads `host`'s Lease: true (and recorded) if it was renewed within the
  // grace, whatever the watch has delivered so far.
  bool RenewedSinceSeen(const std::string& host, std::chrono::system_clock::time_point now);
  void MarkHost(const std::string& name, const std::string& resource_version, bool ready,
                const std::string& heartbeat, std::chrono::system_clock::time_point now);
  void Loop();

  std::shared_ptr<client::Client> client_;
  HostLifecycleOptions options_;
  client::Resource hosts_;
  client::Resource leases_;
  EventRecorder events_;
  std::unique_ptr<Informer> informer_;
  std::unique_ptr<Informer> lease_informer_;
  std::map<std::string, std::chrono::system_clock::time_point> renewals_;  // by host name
  std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::string, Seen> hosts_seen_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace lintel::controllers
