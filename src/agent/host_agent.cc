#include "agent/host_agent.h"

namespace lintel::agent {

const client::Resource& HostsResource() {
  static const client::Resource r{"lintel.dev", "v1alpha1", "hosts", false};
  return r;
}

const client::Resource& LeasesResource() {
  static const client::Resource r{"lintel.dev", "v1alpha1", "leases", true};
  return r;
}

const client::Resource& ResourceOf(drivers::WorkloadKind kind) {
  static const client::Resource pods{"lintel.dev", "v1alpha1", "pods", true};
  static const client::Resource vms{"lintel.dev", "v1alpha1", "virtualmachines", true};
  return kind == drivers::WorkloadKind::kPod ? pods : vms;
}

HostAgent::HostAgent(HostConfig config, std::unique_ptr<drivers::Driver> driver,
                     std::unique_ptr<HandleStore> handles, AgentContext* ctx)
    : config_(std::move(config)),
      driver_(std::move(driver)),
      handles_(std::move(handles)),
      caps_(driver_->capabilities()),
      ctx_(ctx) {
  driver_->SetListener(
      [this](const std::string& uid, const drivers::WorkloadStatus&) { OnDriverChange(uid); });
}

HostAgent::~HostAgent() { driver_->SetListener({}); }

size_t HostAgent::workloads() const {
  std::lock_guard<std::mutex> l(mu_);
  return workloads_.size();
}

HostCounters HostAgent::counters() const {
  std::lock_guard<std::mutex> l(mu_);
  return counters_;
}

}  // namespace lintel::agent
