#include "server/api_server.h"

#include <arpa/inet.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <deque>

#include "api/registry.h"
#include "client/kubeconfig.h"
#include "common/fs.h"
#include "controllers/controller.h"
#include "controllers/deployment/deployment_controller.h"
#include "controllers/gc/garbage_collector.h"
#include "controllers/hostlifecycle/host_lifecycle_controller.h"
#include "controllers/namespace/namespace_controller.h"
#include "controllers/network/endpoints_controller.h"
#include "controllers/network/host_range_controller.h"
#include "server/http/certs.h"
#include "server/http/http_server.h"
#include "server/instrumented_store.h"
#include "server/local_client.h"
#include "server/service_ips.h"
#include "server/user_kubeconfig.h"
#include "store/sqlite/sqlite_store.h"

#ifndef LINTEL_VERSION
#define LINTEL_VERSION "0.1.0"
#endif
#ifndef LINTEL_GIT_COMMIT
#define LINTEL_GIT_COMMIT ""
#endif

namespace lintel::server {

namespace {

bool IsIpLiteral(const std::string& s) {
  unsigned char buf[16];
  return inet_pton(AF_INET, s.c_str(), buf) == 1 || inet_pton(AF_INET6, s.c_str(), buf) == 1;
}

// The serving certificate's names: loopback, this host, the listen address.
http::ServerCertOptions ServingNames(const std::string& listen_host,
                                     const std::vector<std::string>& extra) {
  http::ServerCertOptions o;
  o.common_name = "lintel-apiserver";
  o.ip_addresses = {"127.0.0.1", "::1"};
  o.dns_names = {"localhost", "lintel"};
  char hostname[256] = {};
  if (gethostname(hostname, sizeof(hostname) - 1) == 0 && hostname[0]) {
    o.dns_names.emplace_back(hostname);
  }
  std::vector<std::string> names = extra;
  if (!listen_host.empty() && listen_host != "0.0.0.0" && listen_host != "::") {
    names.push_back(listen_host);
  }
  for (const auto& n : names) {
    auto& list = IsIpLiteral(n) ? o.ip_addresses : o.dns_names;
    if (std::find(list.begin(), list.end(), n) == list.end()) list.push_back(n);
  }
  o.validity = std::chrono::hours(24 * 365 * 5);
  return o;
}

// Loads or creates DATA_DIR/pki/{ca,server}.{crt,key}. The serving cert is
// reissued when it lacks a name now needed.
Result<http::CertKeyPair> EnsurePki(const std::string& dir, const http::ServerCertOptions& names,
                                    http::CertKeyPair* ca_out) {
  LINTEL_RETURN_IF_ERROR(MakeDirs(dir, 0700));
  const std::string ca_crt = dir + "/ca.crt", ca_key = dir + "/ca.key";
  const std::string srv_crt = dir + "/server.crt", srv_key = dir + "/server.key";
  http::CertKeyPair ca;
  if (FileExists(ca_crt) && FileExists(ca_key)) {
    LINTEL_ASSIGN_OR_RETURN(ca, http::LoadCertKeyPair(ca_crt, ca_key));
  } else {
    LINTEL_ASSIGN_OR_RETURN(ca, http::GenerateCa("lintel-ca"));
    LINTEL_RETURN_IF_ERROR(WriteFileAtomic(ca_key, ca.key_pem, 0600));
    LINTEL_RETURN_IF_ERROR(WriteFileAtomic(ca_crt, ca.cert_pem, 0644));
  }
  *ca_out = ca;
  if (FileExists(srv_crt) && FileExists(srv_key)) {
    auto pair = http::LoadCertKeyPair(srv_crt, srv_key);
    if (pair.ok()) {
      auto info = http::InspectCert(pair->cert_pem);
      bool covers = info.ok() && info->not_after >
                                     std::chrono::system_clock::now() + std::chrono::hours(24 * 30);
      for (const auto& n : names.dns_names) {
        covers = covers && std::find(info->dns_names.begin(), info->dns_names.end(), n) !=
                               info->dns_names.end();
      }
      for (const auto& n : names.ip_addresses) {
        covers = covers && std::find(info->ip_addresses.begin(), info->ip_addresses.end(), n) !=
                               info->ip_addresses.end();
      }
      if (covers) return *pair;
    }
  }
  LINTEL_ASSIGN_OR_RETURN(http::CertKeyPair srv, http::IssueServerCert(ca, names));
  LINTEL_RETURN_IF_ERROR(WriteFileAtomic(srv_key, srv.key_pem, 0600));
  LINTEL_RETURN_IF_ERROR(WriteFileAtomic(srv_crt, srv.cert_pem, 0644));
  return srv;
}

}  // namespace

Status SplitHostPort(const std::string& hostport, std::string* host, uint16_t* port) {
  std::string h, p;
  if (!hostport.empty() && hostport[0] == '[') {
    auto close = hostport.find(']');
    if (close == std::string::npos || close + 1 >= hostport.size() || hostport[close + 1] != ':') {
      return BadRequest("listen address \"" + hostport + "\": want [IPv6]:PORT");
    }
    h = hostport.substr(1, close - 1);
    p = hostport.substr(close + 2);
  } else {
    auto colon = hostport.rfind(':');
    if (colon == std::string::npos)
      return BadRequest("listen address \"" + hostport + "\": want HOST:PORT");
    h = hostport.substr(0, colon);
    p = hostport.substr(colon + 1);
  }
  if (p.empty() || p.size() > 5 ||
      !std::all_of(p.begin(), p.end(), [](char c) { return c >= '0' && c <= '9'; }) ||
      std::stoi(p) > 65535) {
    return BadRequest("listen address \"" + hostport + "\": bad port");
  }
  *host = h;
  *port = static_cast<uint16_t>(std::stoi(p));
  return Status();
}

Result<std::unique_ptr<ApiServer>> ApiServer::Start(ServerConfig config) {
  std::unique_ptr<ApiServer> s(new ApiServer(std::move(config)));
  Status st = s->Init();
  if (!st.ok()) {
    s->Stop();
    return st;
  }
  return s;
}

Status ApiServer::Init() {
  if (config_.data_dir.empty()) return BadRequest("--data-dir is required");
  std::string listen_host;
  uint16_t listen_port = 0;
  LINTEL_RETURN_IF_ERROR(SplitHostPort(config_.listen, &listen_host, &listen_port));
  auto ranges = controllers::network::ParseNetworkSettings(config_.network);
  if (!ranges.ok()) return ranges.error().Wrap("network settings");
  LINTEL_RETURN_IF_ERROR(MakeDirs(config_.data_dir, 0700));

  store::sqlite::Options so;
  so.path = config_.data_dir + "/state.db";
  so.sync = config_.store_sync_full ? store::sqlite::Options::Sync::kFull
                                    : store::sqlite::Options::Sync::kNormal;
  so.clock = config_.clock;
  so.watch_buffer_limit = size_t{1} << 22;  // the watch cache's own watch must not be cut off
  auto db = store::sqlite::SqliteStore::Open(so);
  if (!db.ok()) return db.error().Wrap("open store " + so.path);
  store_ = std::make_unique<InstrumentedStore>(std::move(*db), &metrics_);

  const api::Registry& registry = api::Registry::Default();
  cache_ = std::make_unique<WatchCache>(store_.get(), registry, config_.cache);
  LINTEL_RETURN_IF_ERROR(cache_->Start());
  admission_ = std::make_unique<Admission>();
  admission_->Add(MakeNamespaceLifecycle(cache_.get(), registry.ByName("namespaces")));
  resources_ = std::make_unique<Resources>(store_.get(), cache_.get(), registry, config_.clock,
                                           admission_.get());
  const api::KindInfo* services = registry.ByName("services");
  resources_->SetAllocator(
      *services, std::make_unique<ServiceIpAllocator>(ranges->service, cache_.get(), services));
  LINTEL_RETURN_IF_ERROR(EnsureSystemNamespaces());
  metrics_.SetSampler([this](Metrics& m) {
    m.SetWatchers(static_cast<double>(cache_->WatcherCount()));
    m.SetStoreRevision(static_cast<double>(cache_->revision()));
    double n = 0;
    for (const auto& k : resources_->registry().kinds()) n += static_cast<double>(cache_->Count(k));
    m.SetObjects(n);
    if (scheduler_ != nullptr) {
      controllers::SchedulingStats st = scheduler_->stats();
      Metrics::SchedulerSample ss;
      ss.decisions = static_cast<double>(st.decisions);
      ss.bound = static_cast<double>(st.bound);
      ss.unschedulable = static_cast<double>(st.unschedulable);
      ss.conflicts = static_cast<double>(st.conflicts);
      ss.preempted = static_cast<double>(st.preempted);
      ss.pending = static_cast<double>(st.pending);
      ss.parked = static_cast<double>(st.parked);
      m.SetScheduler(ss);
    }
  });

  if (config_.run_controllers) {
    auto client = std::make_shared<LocalClient>(resources_.get());
    controllers_.push_back(
        std::make_unique<controllers::GarbageCollector>(client, resources_->registry()));
    controllers_.push_back(
        std::make_unique<controllers::NamespaceController>(client, resources_->registry()));
    controllers::deployment::DeploymentOptions deployments;
    deployments.clock = config_.clock;
    controllers_.push_back(
        std::make_unique<controllers::deployment::DeploymentController>(client, deployments));
    controllers_.push_back(
        std::make_unique<controllers::network::HostRangeController>(client, *ranges));
    controllers_.push_back(std::make_unique<controllers::network::EndpointsController>(client));
    if (config_.run_scheduler) {
      auto sched = std::make_unique<controllers::SchedulingController>(
          client, resources_->registry(), config_.scheduling);
      scheduler_ = sched.get();
      controllers_.push_back(std::move(sched));
      controllers::HostLifecycleOptions hl;
      hl.grace = config_.host_grace;
      hl.clock = config_.clock;
      controllers_.push_back(std::make_unique<controllers::HostLifecycleController>(client, hl));
    }
    for (auto& c : controllers_) {
      Status s = c->Start();
      if (!s.ok()) return s.Wrap("start controller " + c->name());
    }
  }

  LINTEL_ASSIGN_OR_RETURN(admin_token_, EnsureAdminToken(config_.data_dir + "/tokens.csv"));
  LINTEL_ASSIGN_OR_RETURN(auth_, Authenticator::FromFile(config_.data_dir + "/tokens.csv"));

  http::ServerOptions ho;
  ho.listen = config_.listen;
  ho.io_threads = config_.io_threads;
  ho.worker_threads = config_.worker_threads;
  // Status writes report work done (a workload Running) and host Lease
  // renewals are heartbeats: they go before new work, or a flood of creates
  // starves the agents' heartbeats and their hosts go NotReady under load
  // (Kubernetes' API Priority and Fairness gives node heartbeats their own
  // level for the same reason).
  ho.urgent = [](const http::Request& r) {
    if (r.method != "PATCH" && r.method != "PUT") return false;
    constexpr std::string_view kStatus = "/status";
    return (r.path.size() > kStatus.size() &&
            r.path.compare(r.path.size() - kStatus.size(), kStatus.size(), kStatus) == 0) ||
           r.path.find("/namespaces/lintel-host-leases/leases/") != std::string::npos;
  };
  http::CertKeyPair ca;
  if (config_.tls) {
    auto pair =
        EnsurePki(config_.data_dir + "/pki", ServingNames(listen_host, config_.extra_sans), &ca);
    if (!pair.ok()) return pair.error().Wrap("tls");
    ca_pem_ = ca.cert_pem;
    ho.tls = http::TlsConfig{pair->cert_pem, pair->key_pem, ca_pem_};
    // The server's identity towards agents (agent_proxy.h), made at each start.
    auto client = http::IssueClientCert(ca, "lintel:apiserver", {});
    if (!client.ok()) return client.error().Wrap("agent client certificate");
    agent_proxy_ = std::make_unique<AgentProxy>(
        resources_.get(), AgentClientCredentials{client->cert_pem, client->key_pem});
  }
  ApiHandlerOptions hopts;
  hopts.version = LINTEL_VERSION;
  hopts.git_commit = LINTEL_GIT_COMMIT;
  handler_ =
      std::make_unique<ApiHandler>(resources_.get(), auth_.get(), &metrics_, config_.clock, hopts);
  handler_->SetAgentProxy(agent_proxy_.get());
  http_ = std::make_unique<http::HttpServer>(ho, handler_.get());
  LINTEL_RETURN_IF_ERROR(http_->Start());
  port_ = http_->port();
  std::string client_host = listen_host;
  if (client_host.empty() || client_host == "0.0.0.0") client_host = "127.0.0.1";
  if (client_host == "::") client_host = "::1";
  if (client_host.find(':') != std::string::npos) client_host = "[" + client_host + "]";
  url_ =
      std::string(config_.tls ? "https://" : "http://") + client_host + ":" + std::to_string(port_);

  client::KubeconfigContent spec;
  spec.name = "lintel";
  spec.server = url_;
  spec.ca_pem = ca_pem_;
  spec.token = admin_token_;
  spec.ns = "default";
  std::string kubeconfig = client::RenderKubeconfig(spec);
  kubeconfig_path_ = config_.data_dir + "/kubeconfig";
  LINTEL_RETURN_IF_ERROR(WriteFileAtomic(kubeconfig_path_, kubeconfig, 0600));
  if (config_.write_user_kubeconfig) {
    const char* home = std::getenv("HOME");
    if (home && *home) {
      Status s = MergeIntoUserKubeconfig(std::string(home) + "/.kube/config", spec);
      if (!s.ok()) spdlog::warn("could not update ~/.kube/config: {}", s.message());
    }
  }
  compactor_ = std::thread([this] { CompactorLoop(); });
  spdlog::info("lintel server {} serving on {} (data in {})", LINTEL_VERSION, url_,
               config_.data_dir);
  return Status();
}

Status ApiServer::EnsureSystemNamespaces() {
  const api::KindInfo* ns_kind = resources_->registry().ByName("namespaces");
  for (const char* name : kSystemNamespaces) {
    Json ns = {{"apiVersion", ns_kind->api_version()},
               {"kind", ns_kind->kind},
               {"metadata", {{"name", name}}}};
    WriteOptions opts;
    opts.field_manager = "lintel-server";
    auto r = resources_->Create(*ns_kind, "", ns, opts);
    if (!r.ok() && r.error().code() != Code::kAlreadyExists) {
      return r.error().Wrap(std::string("create namespace ") + name);
    }
  }
  return Status();
}

void ApiServer::CompactorLoop() {
  // Remember (time, revision) samples; compact to the newest one older than
  // the retention, as kube-apiserver does every five minutes.
  std::deque<std::pair<std::chrono::steady_clock::time_point, Revision>> samples;
  std::unique_lock<std::mutex> l(mu_);
  while (!stopping_) {
    auto now = std::chrono::steady_clock::now();
    auto rev = store_->CurrentRevision();
    if (rev.ok()) samples.emplace_back(now, *rev);
    Revision target = 0;
    while (!samples.empty() && now - samples.front().first >= config_.compaction_retention) {
      target = samples.front().second;
      samples.pop_front();
    }
    if (target > 0) {
      l.unlock();
      auto compacted = store_->CompactedRevision();
      if (compacted.ok() && target > *compacted) {
        Status s = store_->Compact(target);
        if (!s.ok()) spdlog::warn("compaction to {} failed: {}", target, s.ToString());
      }
      l.lock();
    }
    cv_.wait_for(l, config_.compaction_interval, [this] { return stopping_; });
  }
}

void ApiServer::Stop() {
  {
    std::lock_guard<std::mutex> l(mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  cv_.notify_all();
  if (compactor_.joinable()) compactor_.join();
  if (handler_) handler_->SetReady(false);
  if (http_) http_->Stop();
  for (auto& c : controllers_) c->Stop();
  if (cache_) cache_->Stop();
  http_.reset();
  handler_.reset();
  controllers_.clear();
  resources_.reset();
  cache_.reset();
  store_.reset();
}

ApiServer::~ApiServer() { Stop(); }

}  // namespace lintel::server
