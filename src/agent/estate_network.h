// EstateNetwork: this host's part of the one network of the estate, driven
// from the API. It is the drivers' WorkloadNetwork (drivers/network.h) and
// keeps the host's plumbing, Service rules and DNS in step with the estate:
//
//   watch own Host ──status.podCIDR/clusterCIDR/serviceCIDR──▶ Setup: address
//                    pool (DATA/network), bridge + VXLAN (net::HostNetwork),
//                    DNS responder on the bridge address
//   watch Hosts  ──InternalIPs──▶ VXLAN flood list (hosts join and leave)
//   watch Services (+ their status.endpoints) ──▶ nft table (VIPs, NAT)
//   watch Pods, VMs (addresses) + Services ──▶ DNS records:
//        NAME.NS.svc → Service VIP, NAME.NS.pod / NAME.NS.vm → workload
//   drivers ──AttachNetns/AttachTap/Detach──▶ address pool + interfaces
//
// Workloads outlive the agent, and so does their plumbing: stopping leaves it;
// a restarted agent finds the same addresses in its pool and, once it has
// seen what is bound here, frees addresses and removes interfaces that belong
// to nothing (a crash between allocation and start, a workload deleted while
// the agent was down). Teardown removes everything (tests, decommissioning).
//
// Threading: the watches' threads record what they see under mu_ and wake the
// sync thread, which alone applies rules, peers and records; the drivers'
// calls (any thread) allocate and plumb under the pool's and HostNetwork's
// own locks.
#pragma once

#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "agent/resource_watch.h"
#include "client/client.h"
#include "common/cidr.h"
#include "common/thread_annotations.h"
#include "drivers/network.h"
#include "net/dns_server.h"
#include "net/host_network.h"
#include "net/ipam.h"
#include "net/nft_rules.h"
#include "net/nft_table.h"

namespace lintel::agent {

struct EstateNetworkOptions {
  std::string host;       // this Host's name
  std::string state_dir;  // DATA/network: the address pool
  // This host's underlay address, the VXLAN's local end ("": no VXLAN; the
  // host reaches only its own workloads).
  std::string vtep_ip;
  std::string bridge = "lintel0";
  std::string vxlan = "lintel.vx";
  std::string table = "lintel";  // `table ip lintel`
  int mtu = 1450;                // the underlay's 1500 less VXLAN's 50
  bool dns = true;
  uint16_t dns_port = 53;
  // How long a driver's Attach waits for the host's range before answering
  // Unavailable (the agent retries).
  std::chrono::milliseconds attach_wait{5'000};
};

struct EstateNetworkStats {
  bool ready = false;
  std::string host_range;
  size_t peers = 0;
  size_t services = 0;
  size_t records = 0;
  uint64_t rule_applies = 0;  // nft transactions that changed the table
  std::string last_error;
};

class EstateNetwork final : public drivers::WorkloadNetwork {
 public:
  EstateNetwork(std::shared_ptr<client::Client> client, EstateNetworkOptions options);
  ~EstateNetwork() override;
  EstateNetwork(const EstateNetwork&) = delete;
  EstateNetwork& operator=(const EstateNetwork&) = delete;

  // Starts the watches and the sync thread. The plumbing is set up once the
  // Host has its range (the server assigns it after registration).
  Status Start();
  // Stops watching; leaves interfaces, rules and addresses for the next agent.
  void Stop();
  // Removes everything this host's network made (after Stop).
  Status Teardown();
  bool WaitReady(std::chrono::milliseconds timeout);
  EstateNetworkStats stats() const;

  Result<drivers::NetworkInterface> AttachNetns(const drivers::WorkloadSpec& workload,
                                                const std::string& netns_path) override;
  Result<drivers::NetworkInterface> AttachTap(const drivers::WorkloadSpec& workload) override;
  std::optional<drivers::NetworkInterface> Lookup(const std::string& uid) const override;
  Status Detach(const std::string& uid) override;

 private:
  struct Ranges {
    Cidr cluster, host, service;
    bool operator==(const Ranges&) const = default;
  };
  struct Workload {
    std::string ns, name, host, ip;
  };

  void OnHost(Json&& obj, bool deleted);
  void OnService(Json&& obj, bool deleted);
  void OnPod(Json&& obj, bool deleted);
  void OnVm(Json&& obj, bool deleted);
  void OnWorkload(bool vm, Json&& obj, bool deleted);
  void OnListed(int kind);
  void Wake();
  void SyncLoop();
  // Opens the pool and sets up the plumbing for `ranges`.
  Status SetUp(const Ranges& ranges);
  void ApplyRules();
  void ApplyRecords();
  void ApplyPeers();
  void PruneOnce();
  Result<std::pair<net::HostNetwork*, Ipv4>> Allocate(const drivers::WorkloadSpec& w);
  drivers::NetworkInterface Describe(const net::Attachment& a, const std::string& ns) const;

  std::shared_ptr<client::Client> client_;
  const EstateNetworkOptions options_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ LINTEL_GUARDED_BY(mu_) = false;
  bool dirty_rules_ LINTEL_GUARDED_BY(mu_) = false;
  bool dirty_records_ LINTEL_GUARDED_BY(mu_) = false;
  bool dirty_peers_ LINTEL_GUARDED_BY(mu_) = false;
  int listed_ LINTEL_GUARDED_BY(mu_) = 0;  // bit per watch: hosts, services, pods, vms
  std::optional<Ranges> wanted_ LINTEL_GUARDED_BY(mu_);              // from our Host
  std::map<std::string, std::string> peers_ LINTEL_GUARDED_BY(mu_);  // host -> InternalIP
  std::map<std::string, Json> services_ LINTEL_GUARDED_BY(mu_);      // ns/name -> Service
  std::map<std::string, Workload> pods_ LINTEL_GUARDED_BY(mu_);      // uid -> Pod
  std::map<std::string, Workload> vms_ LINTEL_GUARDED_BY(mu_);       // uid -> VM
  EstateNetworkStats stats_ LINTEL_GUARDED_BY(mu_);

  // Set once by the sync thread (under mu_), then read by drivers' calls.
  std::optional<Ranges> ranges_ LINTEL_GUARDED_BY(mu_);
  std::shared_ptr<net::AddressPool> pool_ LINTEL_GUARDED_BY(mu_);
  std::shared_ptr<net::HostNetwork> host_net_ LINTEL_GUARDED_BY(mu_);
  bool dns_ok_ LINTEL_GUARDED_BY(mu_) = false;  // the responder runs: workloads use it
  std::set<std::string> loaded_owners_;         // the pool's owners when opened (sync thread)
  bool pruned_ = false;                         // sync thread

  // Sync thread only.
  std::unique_ptr<net::NftTable> nft_;
  std::unique_ptr<net::DnsServer> dns_;

  std::vector<std::unique_ptr<ResourceWatch>> watches_;
  std::thread sync_thread_;
};

// The nameservers in a resolv.conf text (for the DNS responder's upstreams).
std::vector<std::string> ResolvConfNameservers(const std::string& text);

}  // namespace lintel::agent
