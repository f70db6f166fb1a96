#include "agent/estate_network.h"

#include <net/if.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <sstream>

#include "common/fs.h"

namespace lintel::agent {

namespace {

constexpr int kHosts = 0, kServices = 1, kPods = 2, kVms = 3;

client::Resource Lintel(const char* plural, bool namespaced) {
  return {"lintel.dev", "v1alpha1", plural, namespaced};
}

std::string Str(const Json& obj, const char* pointer) {
  const Json& v = obj.value(Json::json_pointer(pointer), Json());
  return v.is_string() ? v.get<std::string>() : "";
}

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string InternalIp(const Json& host) {
  const Json& addrs = host.value(Json::json_pointer("/status/addresses"), Json());
  if (!addrs.is_array()) return "";
  for (const auto& a : addrs) {
    if (a.is_object() && a.value("type", "") == "InternalIP") return a.value("address", "");
  }
  return "";
}

bool InterfaceExists(const std::string& name) { return ::if_nametoindex(name.c_str()) != 0; }

// One Service as rules: its VIP, and per port the ready endpoints' addresses
// with the port each resolved for it (status.endpoints[].ports, by name).
std::optional<net::ServiceRule> RuleFor(const Json& svc) {
  auto vip = Ipv4::Parse(Str(svc, "/spec/clusterIP"));
  if (!vip.ok()) return std::nullopt;
  net::ServiceRule r;
  r.ns = Str(svc, "/metadata/namespace");
  r.name = Str(svc, "/metadata/name");
  r.cluster_ip = *vip;
  r.client_ip_affinity = Str(svc, "/spec/sessionAffinity") == "ClientIP";
  const Json& ports = svc.value(Json::json_pointer("/spec/ports"), Json());
  const Json& eps = svc.value(Json::json_pointer("/status/endpoints"), Json());
  if (!ports.is_array()) return r;
  for (const auto& p : ports) {
    if (!p.is_object() || !p.contains("port") || !p["port"].is_number_integer()) continue;
    net::ServicePortRule pr;
    const std::string protocol = p.value("protocol", "TCP");
    pr.protocol = Lower(protocol);
    pr.port = static_cast<uint16_t>(p["port"].get<int>());
    const std::string name = p.value("name", "");
    if (eps.is_array()) {
      for (const auto& ep : eps) {
        if (!ep.is_object() || !ep.value("ready", false)) continue;
        auto ip = Ipv4::Parse(ep.value("ip", ""));
        if (!ip.ok()) continue;
        const Json& eports = ep.value("ports", Json());
        if (!eports.is_array()) continue;
        for (const auto& ept : eports) {
          if (!ept.is_object() || ept.value("name", "") != name ||
              ept.value("protocol", "TCP") != protocol || !ept.contains("port") ||
              !ept["port"].is_number_integer()) {
            continue;
          }
          pr.backends.push_back({*ip, static_cast<uint16_t>(ept["port"].get<int>())});
          break;
        }
      }
    }
    r.ports.push_back(std::move(pr));
  }
  return r;
}

}  // namespace

std::vector<std::string> ResolvConfNameservers(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    std::istringstream f(line);
    std::string key, value;
    f >> key >> value;
    if (key == "nameserver" && Ipv4::Parse(value).ok()) out.push_back(value);
  }
  return out;
}

EstateNetwork::EstateNetwork(std::shared_ptr<client::Client> client, EstateNetworkOptions options)
    : client_(client), options_(std::move(options)) {}

EstateNetwork::~EstateNetwork() { Stop(); }

Status EstateNetwork::Start() {
  LINTEL_RETURN_IF_ERROR(MakeDirs(options_.state_dir, 0700));
  auto watch = [&](client::Resource r, int kind, auto on_event) {
    WatchHandlers h;
    h.on_upsert = [this, on_event](Json&& obj) { (this->*on_event)(std::move(obj), false); };
    h.on_delete = [this, on_event](Json&& obj) { (this->*on_event)(std::move(obj), true); };
    h.on_listed = [this, kind](const std::unordered_set<std::string>&) { OnListed(kind); };
    auto w = std::make_unique<ResourceWatch>(client_.get(), std::move(r), client::ListOptions{},
                                             std::move(h));
    w->Start();
    watches_.push_back(std::move(w));
  };
  sync_thread_ = std::thread([this] { SyncLoop(); });
  watch(Lintel("hosts", false), kHosts, &EstateNetwork::OnHost);
  watch(Lintel("services", true), kServices, &EstateNetwork::OnService);
  watch(Lintel("pods", true), kPods, &EstateNetwork::OnPod);
  watch(Lintel("virtualmachines", true), kVms, &EstateNetwork::OnVm);
  return Status();
}

void EstateNetwork::Stop() {
  for (auto& w : watches_) w->Stop();
  watches_.clear();
  {
    std::lock_guard<std::mutex> l(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (sync_thread_.joinable()) sync_thread_.join();
  dns_.reset();
}

Status EstateNetwork::Teardown() {
  Stop();
  Status first;
  std::shared_ptr<net::HostNetwork> hn;
  {
    std::lock_guard<std::mutex> l(mu_);
    hn = host_net_;
  }
  if (hn) first = hn->Teardown();
  auto nft = nft_ ? Result<std::unique_ptr<net::NftTable>>(std::move(nft_))
                  : net::NftTable::Open(options_.table);
  if (nft.ok()) {
    if (Status s = (*nft)->Delete(); !s.ok() && first.ok()) first = s;
  }
  return first;
}

bool EstateNetwork::WaitReady(std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> l(mu_);
  return cv_.wait_for(l, timeout, [this] { return host_net_ != nullptr || stopping_; }) &&
         host_net_ != nullptr;
}

EstateNetworkStats EstateNetwork::stats() const {
  std::lock_guard<std::mutex> l(mu_);
  return stats_;
}

// ---- watches -------------------------------------------------------------------

void EstateNetwork::OnHost(Json&& obj, bool deleted) {
  const std::string name = Str(obj, "/metadata/name");
  std::lock_guard<std::mutex> l(mu_);
  if (name == options_.host && !deleted) {
    auto cluster = Cidr::Parse(Str(obj, "/status/clusterCIDR"));
    auto host = Cidr::Parse(Str(obj, "/status/podCIDR"));
    auto service = Cidr::Parse(Str(obj, "/status/serviceCIDR"));
    if (cluster.ok() && host.ok() && service.ok()) {
      wanted_ = Ranges{*cluster, *host, *service};
    }
  }
  std::string ip = deleted ? "" : InternalIp(obj);
  auto it = peers_.find(name);
  std::string old = it == peers_.end() ? "" : it->second;
  if (ip != old) {
    if (ip.empty()) {
      peers_.erase(name);
    } else {
      peers_[name] = ip;
    }
    dirty_peers_ = true;
  }
  cv_.notify_all();
}

void EstateNetwork::OnService(Json&& obj, bool deleted) {
  const std::string key = Str(obj, "/metadata/namespace") + "/" + Str(obj, "/metadata/name");
  std::lock_guard<std::mutex> l(mu_);
  if (deleted) {
    services_.erase(key);
  } else {
    services_[key] = std::move(obj);
  }
  dirty_rules_ = dirty_records_ = true;
  cv_.notify_all();
}

void EstateNetwork::OnPod(Json&& obj, bool deleted) { OnWorkload(false, std::move(obj), deleted); }
void EstateNetwork::OnVm(Json&& obj, bool deleted) { OnWorkload(true, std::move(obj), deleted); }

void EstateNetwork::OnWorkload(bool vm, Json&& obj, bool deleted) {
  const std::string uid = UidOf(obj);
  Workload w;
  w.ns = Str(obj, "/metadata/namespace");
  w.name = Str(obj, "/metadata/name");
  w.host = Str(obj, "/status/host");
  w.ip = Str(obj, vm ? "/status/ip" : "/status/podIP");
  std::lock_guard<std::mutex> l(mu_);
  auto& m = vm ? vms_ : pods_;
  auto it = m.find(uid);
  if (deleted) {
    if (it == m.end()) return;
    if (!it->second.ip.empty()) dirty_records_ = true;
    m.erase(it);
  } else {
    if (it == m.end() || it->second.ip != w.ip) dirty_records_ = true;
    m[uid] = std::move(w);
  }
  if (dirty_records_) cv_.notify_all();
}

void EstateNetwork::OnListed(int kind) {
  std::lock_guard<std::mutex> l(mu_);
  listed_ |= 1 << kind;
  cv_.notify_all();
}

// ---- the sync thread -----------------------------------------------------------

void EstateNetwork::SyncLoop() {
  using SteadyClock = std::chrono::steady_clock;
  constexpr int kWorkloads = (1 << kPods) | (1 << kVms);
  // After a failed setup: not before this (time_point{}: no failure pending).
  SteadyClock::time_point retry_at{};
  std::unique_lock<std::mutex> l(mu_);
  auto setup_due = [&] {
    return wanted_ && !(ranges_ && *ranges_ == *wanted_) && SteadyClock::now() >= retry_at;
  };
  auto prune_due = [&] { return !pruned_ && host_net_ && (listed_ & kWorkloads) == kWorkloads; };
  while (!stopping_) {
    auto due = [&] {
      if (stopping_ || setup_due() || prune_due()) return true;
      return host_net_ != nullptr && (dirty_peers_ || dirty_rules_ || dirty_records_);
    };
    if (retry_at != SteadyClock::time_point{}) {
      cv_.wait_until(l, retry_at, due);
    } else {
      cv_.wait(l, due);
    }
    if (stopping_) break;
    if (setup_due()) {
      Ranges want = *wanted_;
      l.unlock();
      Status s = SetUp(want);
      l.lock();
      if (!s.ok()) {
        stats_.last_error = s.message();
        spdlog::error("agent: estate network: {}; retrying in 2 s", s.message());
        retry_at = SteadyClock::now() + std::chrono::seconds(2);
        continue;
      }
      retry_at = SteadyClock::time_point{};
      dirty_peers_ = dirty_rules_ = dirty_records_ = true;
      cv_.notify_all();  // drivers waiting in Allocate
    }
    if (!host_net_) continue;
    const bool peers = std::exchange(dirty_peers_, false);
    const bool rules = std::exchange(dirty_rules_, false);
    const bool records = std::exchange(dirty_records_, false);
    const bool prune = prune_due();
    l.unlock();
    if (peers) ApplyPeers();
    if (rules) ApplyRules();
    if (records) ApplyRecords();
    if (prune) PruneOnce();
    l.lock();
  }
}

Status EstateNetwork::SetUp(const Ranges& r) {
  if (!r.cluster.Contains(r.host)) {
    return BadRequest("host range " + r.host.ToString() + " is not inside the cluster range " +
                      r.cluster.ToString());
  }
  LINTEL_ASSIGN_OR_RETURN(std::unique_ptr<net::AddressPool> pool,
                          net::AddressPool::Open(r.host, options_.state_dir + "/addresses.json"));
  net::HostNetworkConfig c;
  c.bridge = options_.bridge;
  c.vxlan = options_.vxlan;
  c.cluster_range = r.cluster;
  c.host_range = r.host;
  c.service_range = r.service;
  c.vtep_ip = options_.vtep_ip;
  c.mtu = options_.mtu;
  auto hn = std::make_shared<net::HostNetwork>(c);
  LINTEL_RETURN_IF_ERROR(hn->Setup().Wrap("host network"));
  std::set<std::string> owners;
  for (const auto& [owner, ip] : pool->Owners()) owners.insert(owner);
  auto removed = hn->RemoveAllExcept(owners);
  if (removed.ok() && *removed > 0) {
    spdlog::info("agent: estate network: removed {} interfaces of workloads gone", *removed);
  }
  if (!nft_) {
    LINTEL_ASSIGN_OR_RETURN(nft_, net::NftTable::Open(options_.table));
  }
  bool dns_ok = dns_ != nullptr;
  if (options_.dns && !dns_) {
    net::DnsServer::Options o;
    o.listen_ip = pool->Gateway().ToString();
    o.port = options_.dns_port;
    auto resolv = ReadFile("/etc/resolv.conf");
    if (resolv.ok()) {
      for (const auto& ns : ResolvConfNameservers(*resolv)) {
        if (ns != o.listen_ip) o.upstreams.push_back(ns);
      }
    }
    auto dns = net::DnsServer::Start(std::move(o));
    if (dns.ok()) {
      dns_ = std::move(*dns);
      dns_ok = true;
    } else {
      spdlog::warn("agent: estate network: no DNS on this host: {}", dns.error().message());
    }
  }
  spdlog::info("agent: estate network up: {} on {} (cluster {}, Services {}{})", r.host.ToString(),
               options_.bridge, r.cluster.ToString(), r.service.ToString(),
               options_.vtep_ip.empty() ? "" : ", VXLAN from " + options_.vtep_ip);
  std::lock_guard<std::mutex> l(mu_);
  if (ranges_ && !(*ranges_ == r)) {
    spdlog::warn(
        "agent: estate network: this host's range changed from {} to {}; workloads "
        "started before keep their addresses until restarted",
        ranges_->host.ToString(), r.host.ToString());
  }
  ranges_ = r;
  loaded_owners_ = std::move(owners);
  pool_ = std::move(pool);
  host_net_ = std::move(hn);
  dns_ok_ = dns_ok;
  stats_.ready = true;
  stats_.host_range = r.host.ToString();
  stats_.last_error.clear();
  return Status();
}

void EstateNetwork::ApplyPeers() {
  std::vector<std::string> ips;
  std::shared_ptr<net::HostNetwork> hn;
  {
    std::lock_guard<std::mutex> l(mu_);
    for (const auto& [name, ip] : peers_) {
      if (name != options_.host && ip != options_.vtep_ip) ips.push_back(ip);
    }
    hn = host_net_;
    stats_.peers = ips.size();
  }
  if (options_.vtep_ip.empty()) return;
  if (Status s = hn->SetPeers(ips); !s.ok()) {
    spdlog::error("agent: estate network: VXLAN peers: {}", s.message());
    std::lock_guard<std::mutex> l(mu_);
    stats_.last_error = s.message();
    dirty_peers_ = true;  // tried again on the next change
  }
}

void EstateNetwork::ApplyRules() {
  std::vector<net::ServiceRule> rules;
  net::NetRulesConfig c;
  {
    std::lock_guard<std::mutex> l(mu_);
    for (const auto& [key, svc] : services_) {
      if (auto r = RuleFor(svc)) rules.push_back(std::move(*r));
    }
    c.cluster_range = ranges_->cluster;
    c.service_range = ranges_->service;
    stats_.services = rules.size();
  }
  c.bridge = options_.bridge;
  c.table = options_.table;
  Status s = nft_->Apply(net::RenderRules(c, rules));
  std::lock_guard<std::mutex> l(mu_);
  if (s.ok()) {
    ++stats_.rule_applies;
  } else {
    spdlog::error("agent: estate network: Service rules: {}", s.message());
    stats_.last_error = s.message();
  }
}

void EstateNetwork::ApplyRecords() {
  if (!dns_) return;
  std::map<std::string, std::vector<Ipv4>> records;
  auto add = [&](const std::string& name, const std::string& ip) {
    auto parsed = Ipv4::Parse(ip);
    if (parsed.ok()) records[Lower(name)].push_back(*parsed);
  };
  {
    std::lock_guard<std::mutex> l(mu_);
    for (const auto& [key, svc] : services_) {
      add(Str(svc, "/metadata/name") + "." + Str(svc, "/metadata/namespace") + ".svc",
          Str(svc, "/spec/clusterIP"));
    }
    for (const auto& [uid, p] : pods_) add(p.name + "." + p.ns + ".pod", p.ip);
    for (const auto& [uid, v] : vms_) add(v.name + "." + v.ns + ".vm", v.ip);
    stats_.records = records.size();
  }
  dns_->SetRecords(std::move(records));
}

void EstateNetwork::PruneOnce() {
  std::set<std::string> bound;
  std::shared_ptr<net::HostNetwork> hn;
  std::shared_ptr<net::AddressPool> pool;
  {
    std::lock_guard<std::mutex> l(mu_);
    for (const auto* m : {&pods_, &vms_}) {
      for (const auto& [uid, w] : *m) {
        if (w.host == options_.host) bound.insert(uid);
      }
    }
    hn = host_net_;
    pool = pool_;
  }
  int freed = 0;
  for (const auto& owner : loaded_owners_) {
    if (bound.count(owner)) continue;
    (void)hn->Detach(owner);
    if (pool->Release(owner).ok()) ++freed;
  }
  if (freed > 0) {
    spdlog::info("agent: estate network: freed {} addresses of workloads no longer here", freed);
  }
  pruned_ = true;
}

// ---- WorkloadNetwork -------------------------------------------------------------

Result<std::pair<net::HostNetwork*, Ipv4>> EstateNetwork::Allocate(const drivers::WorkloadSpec& w) {
  std::shared_ptr<net::AddressPool> pool;
  {
    std::unique_lock<std::mutex> l(mu_);
    cv_.wait_for(l, options_.attach_wait, [this] { return host_net_ != nullptr || stopping_; });
    if (!host_net_) {
      std::string why = stats_.last_error.empty() ? "waiting for the server to give host " +
                                                        options_.host + " an address range"
                                                  : stats_.last_error;
      return Unavailable("estate network not ready: " + why);
    }
    pool = pool_;
  }
  LINTEL_ASSIGN_OR_RETURN(Ipv4 ip, pool->Allocate(w.uid));
  std::lock_guard<std::mutex> l(mu_);
  return std::make_pair(host_net_.get(), ip);
}

drivers::NetworkInterface EstateNetwork::Describe(const net::Attachment& a,
                                                  const std::string& ns) const {
  drivers::NetworkInterface n;
  n.host_interface = a.host_interface;
  n.ip = a.ip.ToString();
  n.prefix = a.prefix;
  n.gateway = a.gateway.ToString();
  n.mac = a.mac;
  n.mtu = a.mtu;
  std::lock_guard<std::mutex> l(mu_);
  if (dns_ok_) {
    n.nameservers = {n.gateway};
    if (!ns.empty()) n.search = {ns + ".svc", "svc"};
  }
  return n;
}

Result<drivers::NetworkInterface> EstateNetwork::AttachNetns(const drivers::WorkloadSpec& w,
                                                             const std::string& netns_path) {
  LINTEL_ASSIGN_OR_RETURN(auto hn_ip, Allocate(w));
  LINTEL_ASSIGN_OR_RETURN(net::Attachment a,
                          hn_ip.first->AttachNetns(w.uid, netns_path, hn_ip.second));
  return Describe(a, w.ns);
}

Result<drivers::NetworkInterface> EstateNetwork::AttachTap(const drivers::WorkloadSpec& w) {
  LINTEL_ASSIGN_OR_RETURN(auto hn_ip, Allocate(w));
  LINTEL_ASSIGN_OR_RETURN(net::Attachment a, hn_ip.first->AttachTap(w.uid, hn_ip.second));
  return Describe(a, w.ns);
}

std::optional<drivers::NetworkInterface> EstateNetwork::Lookup(const std::string& uid) const {
  std::shared_ptr<net::AddressPool> pool;
  std::string ns;
  Cidr cluster, host;
  {
    std::lock_guard<std::mutex> l(mu_);
    if (!pool_ || !ranges_) return std::nullopt;
    pool = pool_;
    cluster = ranges_->cluster;
    host = ranges_->host;
    if (auto it = pods_.find(uid); it != pods_.end()) ns = it->second.ns;
    if (auto it = vms_.find(uid); it != vms_.end()) ns = it->second.ns;
  }
  auto ip = pool->Lookup(uid);
  if (!ip) return std::nullopt;
  net::Attachment a;
  const std::string tap = net::HostNetwork::HostInterfaceName("lt", uid);
  a.host_interface = InterfaceExists(tap) ? tap : net::HostNetwork::HostInterfaceName("lv", uid);
  a.mac = net::HostNetwork::MacFor(*ip);
  a.ip = *ip;
  a.prefix = cluster.prefix;
  a.gateway = *host.Nth(1);
  a.mtu = options_.mtu;
  return Describe(a, ns);
}

Status EstateNetwork::Detach(const std::string& uid) {
  std::shared_ptr<net::HostNetwork> hn;
  std::shared_ptr<net::AddressPool> pool;
  {
    std::lock_guard<std::mutex> l(mu_);
    hn = host_net_;
    pool = pool_;
  }
  Status first;
  if (hn) first = hn->Detach(uid);
  if (pool) {
    if (Status s = pool->Release(uid); !s.ok() && first.ok()) first = s;
  }
  return first;
}

}  // namespace lintel::agent
