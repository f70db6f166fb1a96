// A real machine as a Host, shared by `lintel agent --driver oci|qemu` and
// `lintel up`: this machine's name, addresses and capacity, the lock on the
// agent's data directory, and the host's drivers: Pods on the OCI driver over
// the host's image store (DIR/images), VirtualMachines on the QEMU driver over
// its VM image store (DIR/images/vm), one ByKindDriver for the agent.
#pragma once

#include <memory>
#include <string>

#include "agent/agent.h"
#include "agent/agent_endpoint.h"
#include "common/json.h"
#include "common/status.h"
#include "drivers/driver.h"
#include "drivers/network.h"

namespace lintel::cli {

struct LocalHostFlags {
  std::string data_dir;    // the agent's: DATA/oci, DATA/qemu, DATA/handles
  std::string images_dir;  // the image stores: OCI here, VM in /vm (shared with `lintel image`)
  std::string run_dir;     // namespace files, conmon links, QMP and console sockets
  std::string runtime;     // auto, runc, crun
  bool pods = true;        // run Pods (the OCI driver)
  // VMs: "required" (no QEMU is an error), "optional" (no QEMU: VMs refused,
  // a warning in the log) or "off".
  std::string vms = "optional";
  std::string accelerator = "auto";  // auto (probe), kvm, tcg
  // The estate network (agent/estate_network.h): "on" connects Pods and VMs
  // to the bridge, VXLAN, Service rules and DNS; "off" leaves Pods with
  // loopback only and VMs without a NIC.
  std::string network = "on";
  uint16_t dns_port = 53;
  int mtu = 1450;
};

// This machine's hostname, lower case (Host names are DNS subdomains).
std::string LocalHostname();
// Hostname and an InternalIP, as Host status addresses: `address` if given,
// else the first IPv4 address of an interface that is up and neither loopback
// nor one of the estate network's own (lintel*, lv*, lt*). The InternalIP is
// also the host's end of the estate's VXLAN.
Json LocalAddresses(const std::string& name, const std::string& address = "");
// This machine's CPUs and memory, as quantities.
void RealCapacity(std::string* cpu, std::string* memory);

// Holds an exclusive lock on DIR/agent.lock for the process's life, so that
// two agents never share a data directory. Creates DIR.
Status LockDataDir(const std::string& dir);

// The host's driver (a ByKindDriver: Pods on oci, VMs on qemu, per the
// flags). `keep` receives what the drivers use (the image stores): keep it
// until the driver is gone.
Result<std::unique_ptr<drivers::Driver>> MakeLocalHostDriver(
    const LocalHostFlags& flags, std::shared_ptr<void>* keep,
    drivers::WorkloadNetwork* network = nullptr);

// Starts the agent's endpoint (agent_endpoint.h: the API server reads
// workloads' logs through it) on `listen`, with its keys under PKI_DIR, and
// records what it advertises in `config`. Without a cluster CA (a server
// without TLS) there is none: returns null and says so in the log.
Result<std::unique_ptr<agent::AgentEndpoint>> StartAgentEndpoint(agent::Agent& agent,
                                                                 const std::string& listen,
                                                                 const std::string& pki_dir,
                                                                 const std::string& cluster_ca_pem,
                                                                 agent::HostConfig* config);

// Adds this machine to `agent` as `config` on the host's drivers, with
// workload handles kept on disk (DATA/handles) so that an agent restarted
// re-adopts its containers and VMs, and (flags.network "on") the estate
// network, started at once (state in DATA/network). `keep` as for
// MakeLocalHostDriver; it holds the network too.
Status AddLocalHost(agent::Agent& agent, agent::HostConfig config, const LocalHostFlags& flags,
                    std::shared_ptr<void>* keep);

}  // namespace lintel::cli
