// lintel agent: the host agent. With --driver=oci it runs this machine's Pods
// in containers (runc + conmon) and its VMs on QEMU where QEMU is installed;
// with --driver=qemu only VMs; with --driver=fake --hosts N it runs N hollow
// hosts in one process (a test double for the control plane).
#include "agent/agent.h"

#include <signal.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <iostream>
#include <memory>

#include "agent/hollow.h"
#include "apimachinery/names.h"
#include "apimachinery/quantity.h"
#include "cli/commands.h"
#include "cli/local_host.h"
#include "cli/text.h"
#include "client/kubeconfig.h"
#include "client/rest_client.h"
#include "drivers/fake/fake_driver.h"

namespace lintel::cli {

namespace {

struct AgentFlags {
  std::string data_dir = "/var/lib/lintel/agent";
  std::string driver = "fake";
  std::string name;
  int hosts = 1;
  std::string name_prefix = "hollow-";
  std::string cpu = "32";
  std::string memory = "128Gi";
  std::string pods = "110";
  std::string vms = "64";
  std::string accelerator;  // fake: kvm by default; oci, qemu: auto (probe)
  bool sandbox = false;
  // oci
  std::string images_dir = "/var/lib/lintel/images";
  std::string run_dir = "/run/lintel";
  std::string runtime = "auto";
  std::string endpoint_listen = "0.0.0.0:10250";
  std::string network = "on";
  std::string address;
  uint16_t dns_port = 53;
  bool explicit_capacity = false;  // --cpu or --memory given
  std::vector<std::string> labels;
  std::string run_delay = "1s";
  std::string heartbeat = "10s";
  int writers = 8;
  int driver_threads = 4;
};

Result<agent::HostConfig> BaseConfig(const AgentFlags& f) {
  agent::HostConfig c;
  for (const auto& [key, value] :
       {std::pair{"cpu", f.cpu}, {"memory", f.memory}, {"pods", f.pods}, {"vms", f.vms}}) {
    auto q = apimachinery::Quantity::Parse(value);
    if (!q.ok()) return BadRequest(std::string("--") + key + " " + value + ": not a quantity");
    c.capacity[key] = value;
  }
  for (const auto& l : f.labels) {
    size_t eq = l.find('=');
    if (eq == std::string::npos) return BadRequest("--label " + l + ": want KEY=VALUE");
    std::string k = l.substr(0, eq), v = l.substr(eq + 1);
    auto bad = apimachinery::IsQualifiedName(k);
    if (bad.empty()) bad = apimachinery::IsValidLabelValue(v);
    if (!bad.empty()) return BadRequest("--label " + l + ": " + bad.front());
    c.labels[k] = v;
  }
  c.agent_version = LINTEL_VERSION;
  return c;
}

int RunAgent(AgentFlags f, const GlobalOptions& g) {
  if (f.driver != "fake" && f.driver != "oci" && f.driver != "qemu") {
    return Fail("unknown driver " + f.driver + " (have: fake, oci, qemu)");
  }
  const bool real = f.driver != "fake";
  if (f.accelerator.empty()) f.accelerator = real ? "auto" : "kvm";
  if (real ? f.accelerator == "none" : f.accelerator == "auto") {
    return Fail("--accelerator " + f.accelerator + " is not for driver " + f.driver);
  }
  if (real) {
    if (f.hosts != 1) return Fail("--hosts is for the fake driver");
    if (!f.explicit_capacity) RealCapacity(&f.cpu, &f.memory);
  }
  if (f.hosts < 1) return Fail("--hosts must be at least 1");
  if (f.writers < 1 || f.driver_threads < 1) {
    return Fail("--writers and --driver-threads must be at least 1");
  }
  auto run_delay = ParseDuration(f.run_delay);
  if (!run_delay.ok()) return Fail("--run-delay: " + run_delay.error().message());
  auto heartbeat = ParseDuration(f.heartbeat);
  if (!heartbeat.ok()) return Fail("--heartbeat: " + heartbeat.error().message());
  if (*heartbeat < std::chrono::milliseconds(100))
    return Fail("--heartbeat must be at least 100ms");
  auto base = BaseConfig(f);
  if (!base.ok()) return Fail(base.error().message());
  std::string name = f.name.empty() ? LocalHostname() : f.name;
  if (f.hosts == 1) {
    if (auto bad = apimachinery::IsDns1123Subdomain(name); !bad.empty()) {
      return Fail("host name \"" + name + "\": " + bad.front() + " (use --name)");
    }
  } else if (auto bad = apimachinery::IsDns1123Subdomain(agent::HollowHostName(f.name_prefix, 0));
             !bad.empty()) {
    return Fail("--name-prefix \"" + f.name_prefix + "\": " + bad.front());
  }

  auto config = client::LoadKubeconfig(g.kubeconfig, g.context);
  if (!config.ok()) return Fail(config.error().message());
  client::HttpClientOptions http = config->ToHttpClientOptions();
  http.max_idle_connections = static_cast<size_t>(f.writers + f.driver_threads + 4);
  http.request_timeout = std::chrono::seconds(30);
  http.user_agent = "lintel-agent";
  auto rest = client::RestClient::Create(std::move(http));
  if (!rest.ok()) return Fail(rest.error().message());
  if (Status s = LockDataDir(f.data_dir); !s.ok()) return Fail(s.message());

  // Signals are handled by sigwait on this thread; block them everywhere.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  signal(SIGPIPE, SIG_IGN);

  // The real drivers' image stores outlive the Agent that owns the driver
  // (declared before it, so destroyed after it).
  std::shared_ptr<void> oci_host;
  agent::AgentOptions ao;
  ao.writers = f.writers;
  ao.driver_threads = f.driver_threads;
  ao.heartbeat = *heartbeat;
  ao.events = real;  // hollow hosts: scale runs measure the control plane
  agent::Agent a(std::shared_ptr<client::Client>(std::move(*rest)), ao);
  std::unique_ptr<agent::AgentEndpoint> endpoint;  // stopped before the agent goes
  agent::HollowOptions ho;
  ho.hosts = f.hosts;
  ho.name_prefix = f.name_prefix;
  ho.host = *base;
  ho.fake.run_delay = *run_delay;
  ho.fake.accelerator = f.accelerator;
  ho.fake.sandbox = f.sandbox;
  if (f.hosts == 1) {
    agent::HostConfig c = *base;
    c.name = name;
    c.addresses = LocalAddresses(name, real ? f.address : "");
    if (real) {
      auto ep = StartAgentEndpoint(a, f.endpoint_listen, f.data_dir + "/pki", config->ca_pem, &c);
      if (!ep.ok())
        return Fail("agent endpoint on " + f.endpoint_listen + ": " + ep.error().message());
      endpoint = std::move(*ep);
      LocalHostFlags lf;
      lf.data_dir = f.data_dir;
      lf.images_dir = f.images_dir;
      lf.run_dir = f.run_dir;
      lf.runtime = f.runtime;
      lf.pods = f.driver == "oci";
      lf.vms = f.driver == "qemu" ? "required" : "optional";
      lf.accelerator = f.accelerator;
      lf.network = f.network;
      lf.dns_port = f.dns_port;
      if (Status s = AddLocalHost(a, std::move(c), lf, &oci_host); !s.ok())
        return Fail(s.message());
    } else {
      a.AddHost(std::move(c), std::make_unique<drivers::fake::FakeDriver>(ho.fake),
                std::make_unique<agent::MemoryHandleStore>());
    }
  } else {
    agent::AddHollowHosts(a, ho);
  }
  auto t0 = std::chrono::steady_clock::now();
  if (Status s = a.Start(); !s.ok()) return Fail(s.message());
  *g.out << "lintel agent: " << f.hosts << (f.hosts == 1 ? " host (" + name + ")" : " hollow hosts")
         << ", driver " << f.driver << ", server " << config->server << std::endl;

  // Until SIGINT/SIGTERM: report registration once done, then what changed
  // every 10 seconds.
  bool announced = false;
  agent::AgentStats last = a.stats();
  auto last_at = std::chrono::steady_clock::now();
  for (;;) {
    struct timespec wait = {announced ? 10 : 0, announced ? 0 : 200'000'000};
    int sig = sigtimedwait(&set, nullptr, &wait);
    if (sig == SIGINT || sig == SIGTERM) {
      spdlog::info("received signal {}, shutting down", sig);
      break;
    }
    auto now = std::chrono::steady_clock::now();
    agent::AgentStats s = a.stats();
    if (!announced && s.registered == s.hosts) {
      announced = true;
      double secs = std::chrono::duration<double>(now - t0).count();
      spdlog::info("agent: {} hosts registered in {:.2f}s", s.hosts, secs);
    }
    if (!announced || now - last_at < std::chrono::seconds(10)) continue;
    double secs = std::chrono::duration<double>(now - last_at).count();
    uint64_t writes = s.writer.succeeded - last.writer.succeeded;
    if (writes > 0 || s.workloads != last.workloads) {
      spdlog::info(
          "agent: {} workloads; {} starts, {} recovers, {} stops, {} failed starts; {} writes "
          "({:.0f}/s), {} coalesced, {} retried, {} dropped",
          s.workloads, s.totals.starts - last.totals.starts,
          s.totals.recovers - last.totals.recovers, s.totals.stops - last.totals.stops,
          s.totals.start_failures - last.totals.start_failures, writes, writes / secs,
          s.writer.coalesced - last.writer.coalesced, s.writer.retried - last.writer.retried,
          s.writer.dropped - last.writer.dropped);
    }
    last = s;
    last_at = now;
  }
  a.Stop();
  return 0;
}

}  // namespace

void AddAgentCommand(CLI::App& app, GlobalOptions& g, Runner* run) {
  auto f = std::make_shared<AgentFlags>();
  auto* cmd = app.add_subcommand(
      "agent", "Run the host agent (--driver fake --hosts N: N hollow hosts in one process)");
  cmd->add_option("--data-dir", f->data_dir, "Where the agent keeps its state")
      ->capture_default_str();
  cmd->add_option("--driver", f->driver,
                  "oci (Pods in containers, and VMs on QEMU where it is installed), qemu (VMs "
                  "only) or fake (hollow hosts)")
      ->capture_default_str();
  cmd->add_option("--name", f->name, "The Host's name (default: this machine's hostname)");
  cmd->add_option("--hosts", f->hosts, "Hollow hosts to run (fake driver)")->capture_default_str();
  cmd->add_option("--name-prefix", f->name_prefix, "Hollow hosts are PREFIX00000, PREFIX00001, ...")
      ->capture_default_str();
  cmd->add_option("--cpu", f->cpu, "CPU capacity (oci: default this machine's)")
      ->capture_default_str();
  cmd->add_option("--memory", f->memory, "Memory capacity (oci: default this machine's)")
      ->capture_default_str();
  cmd->add_option("--pods", f->pods, "Pod capacity")->capture_default_str();
  cmd->add_option("--vms", f->vms, "VM capacity")->capture_default_str();
  cmd->add_option("--accelerator", f->accelerator,
                  "How VMs run here: oci, qemu: auto (KVM where it really boots a kernel, else "
                  "TCG), kvm or tcg; fake: kvm (default), tcg or none")
      ->check(CLI::IsMember({"auto", "kvm", "tcg", "none"}));
  cmd->add_flag("--sandbox", f->sandbox, "Accept isolation: vm Pods (fake driver)");
  cmd->add_option("--label", f->labels, "A label for the Host, KEY=VALUE (repeatable)");
  cmd->add_option("--run-delay", f->run_delay, "Fake driver: Starting to Running after this")
      ->capture_default_str();
  cmd->add_option("--heartbeat", f->heartbeat, "Heartbeat interval")->capture_default_str();
  cmd->add_option("--writers", f->writers, "Status writer threads")->capture_default_str();
  cmd->add_option("--driver-threads", f->driver_threads, "Driver pool threads")
      ->capture_default_str();
  cmd->add_option("--images-dir", f->images_dir,
                  "oci, qemu: the image stores (the same as `lintel image --data-dir DIR`'s "
                  "DIR/images; VM images in DIR/images/vm)")
      ->capture_default_str();
  cmd->add_option("--run-dir", f->run_dir,
                  "oci, qemu: namespace files, conmon, QMP and console sockets")
      ->capture_default_str();
  cmd->add_option("--runtime", f->runtime,
                  "oci driver: auto (crun where it works, else runc), "
                  "runc or crun")
      ->check(CLI::IsMember({"auto", "runc", "crun"}))
      ->capture_default_str();
  cmd->add_option("--endpoint-listen", f->endpoint_listen,
                  "oci, qemu: HOST:PORT of the agent's endpoint, through which the server reads "
                  "logs")
      ->capture_default_str();
  cmd->add_option("--network", f->network,
                  "oci, qemu: connect Pods and VMs to the estate network (bridge, VXLAN, "
                  "Service rules, DNS) or leave them without (off)")
      ->check(CLI::IsMember({"on", "off"}))
      ->capture_default_str();
  cmd->add_option("--address", f->address,
                  "oci, qemu: this host's address for the API and the other hosts (the VXLAN's "
                  "end; default: the first address of an interface that is up)");
  cmd->add_option("--dns-port", f->dns_port, "oci, qemu: the estate DNS responder's port")
      ->capture_default_str();
  cmd->callback([f, run, &g, cmd] {
    f->explicit_capacity = cmd->count("--cpu") > 0 || cmd->count("--memory") > 0;
    *run = [f, &g] { return RunAgent(*f, g); };
  });
}

}  // namespace lintel::cli
