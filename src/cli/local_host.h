// A real machine as a Host, shared by `lintel agent --driver oci` and
// `lintel up`: this machine's name, addresses and capacity, the lock on the
// agent's data directory, and the host's drivers (Pods on the OCI driver over
// the host's image store; VirtualMachines refused, "no VM driver on this
// host", until the QEMU driver exists).
#pragma once

#include <memory>
#include <string>

#include "agent/agent.h"
#include "agent/agent_endpoint.h"
#include "common/json.h"
#include "common/status.h"
#include "drivers/driver.h"

namespace lintel::cli {

struct OciAgentFlags {
  std::string data_dir;    // the agent's: DATA/oci, DATA/handles
  std::string images_dir;  // the image store (shared with `lintel image`)
  std::string run_dir;     // namespace files, conmon links
  std::string runtime;     // auto, runc, crun
};

// This machine's hostname, lower case (Host names are DNS subdomains).
std::string LocalHostname();
// Hostname and the first IPv4 address of an interface that is up and not
// loopback, as Host status addresses.
Json LocalAddresses(const std::string& name);
// This machine's CPUs and memory, as quantities.
void RealCapacity(std::string* cpu, std::string* memory);

// Holds an exclusive lock on DIR/agent.lock for the process's life, so that
// two agents never share a data directory. Creates DIR.
Status LockDataDir(const std::string& dir);

// The host's driver (a ByKindDriver: Pods on oci, no VMs). `keep` receives
// what the driver uses (the image store): keep it until the driver is gone.
Result<std::unique_ptr<drivers::Driver>> MakeOciHostDriver(const OciAgentFlags& flags,
                                                           std::shared_ptr<void>* keep);

// Starts the agent's endpoint (agent_endpoint.h: the API server reads
// workloads' logs through it) on `listen`, with its keys under PKI_DIR, and
// records what it advertises in `config`. Without a cluster CA (a server
// without TLS) there is none: returns null and says so in the log.
Result<std::unique_ptr<agent::AgentEndpoint>> StartAgentEndpoint(agent::Agent& agent,
                                                                 const std::string& listen,
                                                                 const std::string& pki_dir,
                                                                 const std::string& cluster_ca_pem,
                                                                 agent::HostConfig* config);

// Adds this machine to `agent` as `config` on the OCI host driver, with
// workload handles kept on disk (DATA/handles) so that an agent restarted
// re-adopts its containers. `keep` as for MakeOciHostDriver.
Status AddOciHost(agent::Agent& agent, agent::HostConfig config, const OciAgentFlags& flags,
                  std::shared_ptr<void>* keep);

}  // namespace lintel::cli
