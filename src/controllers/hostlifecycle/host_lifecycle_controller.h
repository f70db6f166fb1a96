// HostLifecycleController: a Host whose agent stops heartbeating is marked
// NotReady, so that the scheduler places nothing new there (as kube's node
// lifecycle controller sets Ready=Unknown).
//
//   informer(hosts) --> last heartbeat per host (conditions[Ready].lastHeartbeatTime)
//   every `period`: Ready=True and heartbeat older than `grace`
//                   --> PATCH /status: Ready=Unknown, reason AgentStoppedHeartbeating
//
// An agent that comes back writes Ready=True with its next heartbeat. What
// happens to the VMs of a host that stays down (restart elsewhere) belongs to
// the continuity controller.
//
// Threading: the informer thread records heartbeats; one thread checks.
#pragma once

#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
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

 private:
  struct Seen {
    bool ready = false;
    std::chrono::system_clock::time_point heartbeat;
    std::string heartbeat_text;    // as the agent wrote it
    std::string resource_version;  // of the Host as seen
  };
  void OnHost(const Json& obj, bool deleted);
  void Loop();

  std::shared_ptr<client::Client> client_;
  HostLifecycleOptions options_;
  client::Resource hosts_;
  EventRecorder events_;
  std::unique_ptr<Informer> informer_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::string, Seen> hosts_seen_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace lintel::controllers
