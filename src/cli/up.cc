// lintel up: a whole estate on this machine in one process: the API server on
// its embedded SQLite store (with the scheduler and controllers) and this
// machine's agent on the OCI driver (Pods) and the QEMU driver (VMs, where
// QEMU is installed), with everything under one directory:
//
//   DIR/            the server's: store, pki/, kubeconfig (written once serving)
//   DIR/agent/      the agent's: oci/ (pods, runtime root), qemu/ (vms, kept
//                   disks), handles/
//   DIR/images/     the image stores (`lintel image --data-dir DIR ...`; VM
//                   images in DIR/images/vm)
//
// The agent reaches the server over loopback through the same API as a remote
// agent, so `lintel up` and `lintel server` + `lintel agent` behave alike.
#include <signal.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <iostream>

#include "agent/agent.h"
#include "apimachinery/names.h"
#include "cli/commands.h"
#include "cli/local_host.h"
#include "cli/text.h"
#include "client/kubeconfig.h"
#include "client/rest_client.h"
#include "server/api_server.h"

namespace lintel::cli {

namespace {

struct UpFlags {
  std::string data_dir = "/var/lib/lintel";
  std::string listen = "127.0.0.1:6443";
  std::string name;
  std::string runtime = "auto";
  std::string accelerator = "auto";
  std::string run_dir = "/run/lintel";
  std::string heartbeat = "10s";
  std::string endpoint_listen = "127.0.0.1:0";
  bool no_user_kubeconfig = false;
  std::string network = "on";
  std::string address;
  uint16_t dns_port = 53;
  controllers::network::NetworkSettings ranges;
};

int RunUp(const UpFlags& f, GlobalOptions& g) {
  if (::geteuid() != 0) return Fail("lintel up runs containers and needs root");
  const std::string name = f.name.empty() ? LocalHostname() : f.name;
  if (auto bad = apimachinery::IsDns1123Subdomain(name); !bad.empty()) {
    return Fail("host name \"" + name + "\": " + bad.front() + " (use --name)");
  }
  auto heartbeat = ParseDuration(f.heartbeat);
  if (!heartbeat.ok()) return Fail("--heartbeat: " + heartbeat.error().message());
  if (*heartbeat < std::chrono::milliseconds(100)) {
    return Fail("--heartbeat must be at least 100ms");
  }
  // Before the server starts: a second `lintel up` on the same directory
  // stops here, not halfway.
  const std::string agent_dir = f.data_dir + "/agent";
  if (Status s = LockDataDir(agent_dir); !s.ok()) return Fail(s.message());

  // Signals are handled by sigwait on this thread; block them everywhere.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  signal(SIGPIPE, SIG_IGN);

  server::ServerConfig sc;
  sc.data_dir = f.data_dir;
  sc.listen = f.listen;
  sc.write_user_kubeconfig = !f.no_user_kubeconfig;
  sc.network = f.ranges;
  auto server = server::ApiServer::Start(std::move(sc));
  if (!server.ok()) return Fail(server.error().message());

  auto config = client::LoadKubeconfig((*server)->kubeconfig_path(), "");
  if (!config.ok()) return Fail(config.error().message());
  client::HttpClientOptions http = config->ToHttpClientOptions();
  http.request_timeout = std::chrono::seconds(30);
  http.user_agent = "lintel-agent";
  auto rest = client::RestClient::Create(std::move(http));
  if (!rest.ok()) return Fail(rest.error().message());

  agent::HostConfig host;
  host.name = name;
  host.addresses = LocalAddresses(name, f.address);
  std::string cpu, memory;
  RealCapacity(&cpu, &memory);
  host.capacity = {{"cpu", cpu}, {"memory", memory}, {"pods", "110"}, {"vms", "64"}};
  host.agent_version = LINTEL_VERSION;

  std::shared_ptr<void> keep;  // the image store: outlives the agent
  agent::AgentOptions ao;
  ao.heartbeat = *heartbeat;
  agent::Agent a(std::shared_ptr<client::Client>(std::move(*rest)), ao);
  auto endpoint =
      StartAgentEndpoint(a, f.endpoint_listen, agent_dir + "/pki", config->ca_pem, &host);
  if (!endpoint.ok()) {
    (*server)->Stop();
    return Fail("agent endpoint on " + f.endpoint_listen + ": " + endpoint.error().message());
  }
  LocalHostFlags lf;
  lf.data_dir = agent_dir;
  lf.images_dir = f.data_dir + "/images";
  lf.run_dir = f.run_dir;
  lf.runtime = f.runtime;
  lf.accelerator = f.accelerator;
  lf.network = f.network;
  lf.dns_port = f.dns_port;
  if (Status s = AddLocalHost(a, std::move(host), lf, &keep); !s.ok()) {
    (*server)->Stop();
    return Fail(s.message());
  }
  if (Status s = a.Start(); !s.ok()) {
    (*server)->Stop();
    return Fail(s.message());
  }
  if (!a.WaitRegistered(std::chrono::seconds(30))) {
    spdlog::warn("up: host {} has not registered after 30s; still trying", name);
  }
  *g.out << "lintel up: ready at " << (*server)->url() << "; host " << name
         << "; kubeconfig: " << (*server)->kubeconfig_path() << std::endl;

  int sig = 0;
  sigwait(&set, &sig);
  spdlog::info("received signal {}, shutting down (containers and VMs keep running)", sig);
  a.Stop();
  (*server)->Stop();
  return 0;
}

}  // namespace

void AddUpCommand(CLI::App& app, GlobalOptions& g, Runner* run) {
  auto f = std::make_shared<UpFlags>();
  auto* cmd = app.add_subcommand(
      "up", "Run a one-host estate: the API server and this machine's agent in one process");
  cmd->add_option("--data-dir", f->data_dir,
                  "Where state, images, keys and the kubeconfig live (env LINTEL_DATA_DIR)")
      ->envname("LINTEL_DATA_DIR")
      ->capture_default_str();
  cmd->add_option("--listen", f->listen, "HOST:PORT to serve the API on")->capture_default_str();
  cmd->add_option("--name", f->name, "This Host's name (default: the machine's hostname)");
  cmd->add_option("--runtime", f->runtime, "auto (crun where it works, else runc), runc or crun")
      ->check(CLI::IsMember({"auto", "runc", "crun"}))
      ->capture_default_str();
  cmd->add_option("--accelerator", f->accelerator,
                  "How VMs run: auto (KVM where it really boots a kernel, else TCG), kvm or tcg")
      ->check(CLI::IsMember({"auto", "kvm", "tcg"}))
      ->capture_default_str();
  cmd->add_option("--run-dir", f->run_dir, "Namespace files, conmon, QMP and console sockets")
      ->capture_default_str();
  cmd->add_option("--heartbeat", f->heartbeat, "The host's heartbeat interval")
      ->capture_default_str();
  cmd->add_option("--endpoint-listen", f->endpoint_listen,
                  "HOST:PORT of the agent's endpoint (the server reads logs through it)")
      ->capture_default_str();
  cmd->add_flag("--no-user-kubeconfig", f->no_user_kubeconfig,
                "Do not add a lintel context to ~/.kube/config");
  cmd->add_option("--network", f->network,
                  "Connect Pods and VMs to the estate network (bridge, VXLAN, Service rules, "
                  "DNS), or leave them without (off)")
      ->check(CLI::IsMember({"on", "off"}))
      ->capture_default_str();
  cmd->add_option("--address", f->address,
                  "This host's address for other hosts (the VXLAN's end; default: the first "
                  "address of an interface that is up)");
  cmd->add_option("--dns-port", f->dns_port, "The estate DNS responder's port")
      ->capture_default_str();
  cmd->add_option("--cluster-cidr", f->ranges.cluster_cidr,
                  "Workload addresses of the estate; each Host gets a slice of it")
      ->capture_default_str();
  cmd->add_option("--host-cidr-size", f->ranges.host_cidr_prefix,
                  "Prefix length of each Host's slice of the cluster range")
      ->capture_default_str();
  cmd->add_option("--service-cidr", f->ranges.service_cidr,
                  "Service virtual IPs (must not overlap the cluster range)")
      ->capture_default_str();
  cmd->callback([f, run, &g] { *run = [f, &g] { return RunUp(*f, g); }; });
}

}  // namespace lintel::cli
