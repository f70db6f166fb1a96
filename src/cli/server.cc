// lintel server: the API server on its embedded store.
#include <signal.h>
#include <spdlog/spdlog.h>

#include <iostream>

#include "cli/commands.h"
#include "server/api_server.h"

namespace lintel::cli {

namespace {

struct ServerFlags {
  std::string data_dir = "/var/lib/lintel";
  std::string listen = "127.0.0.1:6443";
  bool no_tls = false;
  bool no_user_kubeconfig = false;
  std::vector<std::string> sans;
  std::string sync = "full";
  int ha_reserve = 0;
  controllers::network::NetworkSettings network;
};

// Blocks until SIGINT or SIGTERM.
void WaitForSignal() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  int sig = 0;
  sigwait(&set, &sig);
  spdlog::info("received signal {}, shutting down", sig);
}

}  // namespace

void AddServerCommand(CLI::App& app, GlobalOptions& g, Runner* run) {
  auto flags = std::make_shared<ServerFlags>();
  auto* cmd = app.add_subcommand("server", "Run the API server on its embedded SQLite store");
  cmd->add_option("--data-dir", flags->data_dir,
                  "Where state, keys and the kubeconfig live (env LINTEL_DATA_DIR)")
      ->envname("LINTEL_DATA_DIR")
      ->capture_default_str();
  cmd->add_option("--listen", flags->listen, "HOST:PORT to serve the API on")
      ->capture_default_str();
  cmd->add_flag("--no-tls", flags->no_tls, "Serve plain HTTP (loopback testing only)");
  cmd->add_option("--tls-san", flags->sans, "Extra names or IPs for the serving certificate");
  cmd->add_flag("--no-user-kubeconfig", flags->no_user_kubeconfig,
                "Do not add a lintel context to ~/.kube/config");
  cmd->add_option("--store-sync", flags->sync, "full (fsync each commit) or normal")
      ->check(CLI::IsMember({"full", "normal"}))
      ->capture_default_str();
  cmd->add_option("--ha-reserve-hosts", flags->ha_reserve,
                  "HA admission control: bind a VM only if the VMs of this many failed hosts "
                  "could still restart elsewhere (0: off)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  cmd->add_option("--cluster-cidr", flags->network.cluster_cidr,
                  "Workload addresses of the estate; each Host gets a slice of it")
      ->capture_default_str();
  cmd->add_option("--host-cidr-size", flags->network.host_cidr_prefix,
                  "Prefix length of each Host's slice of the cluster range")
      ->capture_default_str();
  cmd->add_option("--service-cidr", flags->network.service_cidr,
                  "Service virtual IPs (must not overlap the cluster range)")
      ->capture_default_str();
  cmd->callback([flags, run, &g] {
    *run = [flags, &g] {
      // Signals are handled by sigwait on this thread; block them everywhere.
      sigset_t set;
      sigemptyset(&set);
      sigaddset(&set, SIGINT);
      sigaddset(&set, SIGTERM);
      pthread_sigmask(SIG_BLOCK, &set, nullptr);
      signal(SIGPIPE, SIG_IGN);
      server::ServerConfig c;
      c.data_dir = flags->data_dir;
      c.listen = flags->listen;
      c.tls = !flags->no_tls;
      c.extra_sans = flags->sans;
      c.store_sync_full = flags->sync == "full";
      c.write_user_kubeconfig = !flags->no_user_kubeconfig;
      c.scheduling.reserve_host_failures = flags->ha_reserve;
      c.network = flags->network;
      auto s = server::ApiServer::Start(std::move(c));
      if (!s.ok()) return Fail(s.error().message());
      std::cout << "lintel server ready at " << (*s)->url()
                << "; kubeconfig: " << (*s)->kubeconfig_path() << std::endl;
      WaitForSignal();
      (*s)->Stop();
      return 0;
    };
  });
}

}  // namespace lintel::cli
