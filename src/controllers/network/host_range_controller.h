// HostRangeController: gives every Host a slice of the cluster range of its
// own for its workloads (status.podCIDR: by default a /24 of 10.244.0.0/16),
// and tells every Host the estate's ranges (status.clusterCIDR,
// status.serviceCIDR), so that an agent learns its address plan from its own
// Host. Agents only read these fields.
//
//   informer(hosts) --> claims: range -> Host, rebuilt from the Hosts' own
//                       status.podCIDR before anything is assigned (the
//                       ranges live in the Hosts, so restarts keep them)
//                   --> WorkQueue of Host names
//   Process(name): the range it holds, else the lowest free one (a Warning
//     Event when its old one collided with another Host's or left the
//     cluster range; "no free /24 left in ..." when none is free, retried
//     when a range frees)
//     --> PATCH /status {podCIDR, clusterCIDR, serviceCIDR} with the Host's
//         resourceVersion (Conflict: read it again and retry)
//
// Two Hosts never hold one range: when two claim one (written by someone
// else, or the settings changed), the older Host (then the lesser name) keeps
// it and the other moves. A deleted Host frees its range.
//
// Threading: the informer thread updates the claims under mu_ and queues
// names; the queue's one worker assigns and writes, never holding mu_ across
// an API call.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>

#include "client/client.h"
#include "common/json.h"
#include "common/thread_annotations.h"
#include "controllers/controller.h"
#include "controllers/event_recorder.h"
#include "controllers/informer.h"
#include "controllers/network/network_settings.h"
#include "controllers/workqueue.h"

namespace lintel::controllers::network {

class HostRangeController final : public Controller {
 public:
  HostRangeController(std::shared_ptr<client::Client> client, NetworkRanges ranges);
  ~HostRangeController() override;
  std::string name() const override { return "host-range"; }
  Status Start() override;
  void Stop() override;

 private:
  struct HostState {
    std::string uid;
    std::string created;  // creationTimestamp (RFC 3339 in UTC sorts as text)
    int64_t rv = 0;
    std::string pod_cidr, cluster_cidr, service_cidr;  // as the Host has them
    std::optional<uint64_t> claimed;                   // the index of the range it holds
  };

  void OnHost(const Json& obj);
  void OnDelete(const Json& obj);
  // Takes in a Host as seen (informer, or the answer to a write), unless it
  // is older than what is known of it, and queues it when it needs a write.
  void ObserveLocked(const Json& obj) LINTEL_REQUIRES(mu_);
  // `name` claims range `index`; the older of two claimants keeps it.
  void ClaimLocked(uint64_t index, const std::string& name, HostState& host) LINTEL_REQUIRES(mu_);
  void ReleaseLocked(const std::string& name, HostState& host) LINTEL_REQUIRES(mu_);
  std::optional<uint64_t> LowestFreeLocked() const LINTEL_REQUIRES(mu_);
  // The index of `cidr` among the cluster range's host ranges; nullopt when
  // it is not one of them.
  std::optional<uint64_t> IndexOf(const std::string& cidr) const;
  std::string RangeText(uint64_t index) const;
  bool NeedsWriteLocked(const HostState& host) const LINTEL_REQUIRES(mu_);

  std::chrono::milliseconds Process(const std::string& name);

  std::shared_ptr<client::Client> client_;
  const NetworkRanges ranges_;
  const std::string cluster_text_, service_text_;
  const client::Resource hosts_res_;
  EventRecorder events_;
  std::unique_ptr<Informer> informer_;
  WorkQueue queue_;

  std::mutex mu_;
  std::map<std::string, HostState> hosts_ LINTEL_GUARDED_BY(mu_);  // by name
  std::map<uint64_t, std::string> claims_ LINTEL_GUARDED_BY(mu_);  // range index -> host
  std::set<std::string> waiting_ LINTEL_GUARDED_BY(mu_);  // Hosts left without a free range
};

}  // namespace lintel::controllers::network
