// EndpointsController: keeps each Service's status.endpoints, readyEndpoints
// and EndpointsReady condition current with the Pods and VirtualMachines its
// selector matches (what an endpoint is, and its JSON: endpoints.h). Agents
// read them to route the Service's virtual IP.
//
//   informer(services) --> facts (selector, ports), status, by namespace --+
//   informer(pods)     --> workload facts by namespace -- the Services of   +--> WorkQueue
//   informer(vms)      --> the namespace selecting the old or new labels  --+    of "ns/name"
//   informer(hosts)    --> which Hosts are not Ready: their workloads'     --+
//                          endpoints are not ready (the agent that would say
//                          so is cut off); a flip queues every Service
//   Process(key): EndpointsOf (pure) --> EndpointsStatus --> PATCH /status,
//                 only when it changed, with the Service's resourceVersion
//                 (Conflict: read it again and retry)
//
// A workload event queues only the Services whose selector matched its old
// or matches its new labels, and only when something endpoints read changed
// (address, host, readiness, labels, ports, deletion), so a Pod turning
// ready reaches its Services' status within milliseconds.
//
// Threading: informer threads update the facts under mu_ and queue keys; the
// queue's one worker computes and writes, never holding mu_ across an API
// call.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <unordered_map>

#include "client/client.h"
#include "common/clock.h"
#include "common/thread_annotations.h"
#include "controllers/controller.h"
#include "controllers/informer.h"
#include "controllers/network/endpoints.h"
#include "controllers/workqueue.h"

namespace lintel::controllers::network {

struct EndpointsOptions {
  Clock* clock = &Clock::Real();  // condition times
};

class EndpointsController final : public Controller {
 public:
  explicit EndpointsController(std::shared_ptr<client::Client> client,
                               EndpointsOptions options = {});
  ~EndpointsController() override;
  std::string name() const override { return "endpoints"; }
  Status Start() override;
  void Stop() override;

 private:
  struct ServiceState {
    ServiceFacts facts;
    std::string uid;
    int64_t rv = 0;
    Json status = Json::object();  // as last seen or written
    bool deleting = false;
  };

  void OnService(const Json& obj, bool deleted);
  void OnWorkload(const Json& obj, bool vm, bool deleted);
  void OnHost(const Json& obj, bool deleted);
  // Takes in a Service as seen (informer, or the answer to a read or write)
  // unless older than what is known; true when it was newer.
  bool ObserveServiceLocked(const Json& obj) LINTEL_REQUIRES(mu_);
  std::chrono::milliseconds Process(const std::string& key);

  std::shared_ptr<client::Client> client_;
  EndpointsOptions options_;
  const client::Resource services_res_, pods_res_, vms_res_;
  const client::Resource hosts_res_;
  std::unique_ptr<Informer> services_informer_, pods_informer_, vms_informer_, hosts_informer_;
  WorkQueue queue_;

  std::mutex mu_;
  std::unordered_map<std::string, ServiceState> services_ LINTEL_GUARDED_BY(mu_);  // "ns/name"
  std::unordered_map<std::string, std::set<std::string>> services_by_ns_ LINTEL_GUARDED_BY(mu_);
  // namespace -> "Kind/name" -> facts
  std::unordered_map<std::string, std::map<std::string, WorkloadFacts>> workloads_
      LINTEL_GUARDED_BY(mu_);
  // Hosts whose Ready condition is not True (registered hosts are Ready).
  std::set<std::string> hosts_not_ready_ LINTEL_GUARDED_BY(mu_);
};

}  // namespace lintel::controllers::network
