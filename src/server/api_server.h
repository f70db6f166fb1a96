// ApiServer: `lintel server` assembled. Owns, in start order:
//
//   data dir ── SqliteStore (state.db) ── InstrumentedStore
//            ── WatchCache ── Resources (+ Admission)
//            ── Service virtual IPs (allocated on create, ServiceIpAllocator)
//            ── controllers (garbage collector, namespace lifecycle, deployments,
//               host ranges, Service endpoints; scheduler and host lifecycle)
//            ── PKI (pki/: CA, serving cert), tokens.csv, ApiHandler, HttpServer
//            ── kubeconfig (DATA_DIR/kubeconfig, written once serving)
//            ── compactor thread
//
// Threading: Start and Stop from one thread; accessors are thread-safe.
#pragma once

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "controllers/controller.h"
#include "controllers/network/network_settings.h"
#include "controllers/scheduling/scheduling_controller.h"
#include "server/api_handler.h"
#include "server/auth.h"
#include "server/http/http_server.h"
#include "server/metrics.h"
#include "server/resources.h"
#include "server/watch_cache.h"
#include "store/store.h"

namespace lintel::server {

struct ServerConfig {
  std::string data_dir;
  std::string listen = "127.0.0.1:6443";
  bool tls = true;
  std::vector<std::string> extra_sans;  // more names or IPs for the serving certificate
  bool store_sync_full = true;          // fsync each group commit
  int io_threads = 2;
  int worker_threads = 64;
  // Also add a "lintel" context to ~/.kube/config (made current), as kind does.
  bool write_user_kubeconfig = false;
  // History older than this is compacted away (watches and continue tokens
  // older than it answer 410).
  std::chrono::seconds compaction_retention{300};
  std::chrono::seconds compaction_interval{60};
  WatchCache::Options cache;
  Clock* clock = &Clock::Real();
  bool run_controllers = true;
  // The scheduler and the host lifecycle controller (with run_controllers).
  bool run_scheduler = true;
  controllers::SchedulingOptions scheduling;
  // A Host whose agent has not heartbeated for this long is marked NotReady.
  std::chrono::seconds host_grace{40};
  // The estate network's ranges: cluster_cidr (every Host gets a
  // /host_cidr_prefix of it, status.podCIDR) and service_cidr (Service
  // virtual IPs). Start fails when they are malformed or overlap.
  controllers::network::NetworkSettings network;
};

class ApiServer {
 public:
  static Result<std::unique_ptr<ApiServer>> Start(ServerConfig config);
  ~ApiServer();
  void Stop();

  uint16_t port() const { return port_; }
  // "https://127.0.0.1:PORT"
  const std::string& url() const { return url_; }
  const std::string& kubeconfig_path() const { return kubeconfig_path_; }
  const std::string& admin_token() const { return admin_token_; }
  const std::string& ca_pem() const { return ca_pem_; }
  Resources* resources() { return resources_.get(); }
  WatchCache* cache() { return cache_.get(); }
  store::Store* store() { return store_.get(); }
  Metrics* metrics() { return &metrics_; }
  // Null unless the scheduler runs.
  controllers::SchedulingController* scheduler() { return scheduler_; }

 private:
  explicit ApiServer(ServerConfig config) : config_(std::move(config)) {}
  Status Init();
  Status EnsureSystemNamespaces();
  void CompactorLoop();

  ServerConfig config_;
  Metrics metrics_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<WatchCache> cache_;
  std::unique_ptr<Admission> admission_;
  std::unique_ptr<Resources> resources_;
  std::unique_ptr<Authenticator> auth_;
  std::unique_ptr<AgentProxy> agent_proxy_;
  std::unique_ptr<ApiHandler> handler_;
  std::unique_ptr<http::HttpServer> http_;
  std::vector<std::unique_ptr<controllers::Controller>> controllers_;
  controllers::SchedulingController* scheduler_ = nullptr;  // in controllers_
  uint16_t port_ = 0;
  std::string url_;
  std::string kubeconfig_path_;
  std::string admin_token_;
  std::string ca_pem_;

  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::thread compactor_;
};

// "host:port" -> host and port; BadRequest if malformed. IPv6 in brackets.
Status SplitHostPort(const std::string& hostport, std::string* host, uint16_t* port);

}  // namespace lintel::server
