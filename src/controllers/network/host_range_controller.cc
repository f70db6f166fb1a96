#include "controllers/network/host_range_controller.h"

#include <spdlog/spdlog.h>

#include <tuple>

#include "api/kind.h"
#include "controllers/network/object_fields.h"

namespace lintel::controllers::network {

namespace {

using std::chrono::milliseconds;

constexpr int kWriteAttempts = 5;
constexpr milliseconds kRetryDelay{1000};

// What of a Host this controller reads (and what an Event about it needs).
Json HostEssentials(Json&& host) {
  if (!host.is_object()) return std::move(host);
  Json out = {{"apiVersion", host.value("apiVersion", "")}, {"kind", host.value("kind", "")}};
  Json& meta = out["metadata"] = Json::object();
  if (auto m = host.find("metadata"); m != host.end() && m->is_object()) {
    for (const char* f : {"name", "uid", "resourceVersion", "creationTimestamp"}) {
      if (auto it = m->find(f); it != m->end()) meta[f] = std::move(*it);
    }
  }
  if (auto s = host.find("status"); s != host.end() && s->is_object()) {
    Json& status = out["status"] = Json::object();
    for (const char* f : {"podCIDR", "clusterCIDR", "serviceCIDR"}) {
      if (auto it = s->find(f); it != s->end()) status[f] = std::move(*it);
    }
  }
  return out;
}

// The object an Event about Host `name` names.
Json HostRef(const std::string& name, const std::string& uid) {
  return {{"apiVersion", api::kGroupVersion},
          {"kind", "Host"},
          {"metadata", {{"name", name}, {"uid", uid}}}};
}

}  // namespace

HostRangeController::HostRangeController(std::shared_ptr<client::Client> client,
                                         NetworkRanges ranges)
    : client_(std::move(client)),
      ranges_(ranges),
      cluster_text_(ranges.cluster.ToString()),
      service_text_(ranges.service.ToString()),
      hosts_res_{api::kGroup, api::kVersion, "hosts", false},
      events_(client_, "lintel-host-range"),
      queue_([this](const std::string& name) { return Process(name); }) {}

HostRangeController::~HostRangeController() { Stop(); }

Status HostRangeController::Start() {
  InformerHandlers h;
  h.on_add = [this](const Json& o) { OnHost(o); };
  h.on_update = [this](const Json&, const Json& o) { OnHost(o); };
  h.on_delete = [this](const Json& o) { OnDelete(o); };
  h.transform = HostEssentials;
  h.keep_objects = false;  // hosts_ keeps what is read
  informer_ = std::make_unique<Informer>(client_, hosts_res_, std::move(h));
  informer_->Start();
  if (!informer_->WaitForSync(std::chrono::seconds(60))) {
    return Unavailable("host ranges: the Hosts did not sync");
  }
  // Every Host's range is claimed by now: assign only from here on.
  queue_.Start();
  return Status();
}

void HostRangeController::Stop() {
  queue_.Stop();
  if (informer_) informer_->Stop();
}

void HostRangeController::OnHost(const Json& obj) {
  std::lock_guard<std::mutex> l(mu_);
  ObserveLocked(obj);
}

void HostRangeController::OnDelete(const Json& obj) {
  const std::string& name = Str(obj, "/metadata/name");
  const std::string& uid = Str(obj, "/metadata/uid");
  std::lock_guard<std::mutex> l(mu_);
  auto it = hosts_.find(name);
  if (it == hosts_.end() || (!uid.empty() && it->second.uid != uid)) return;
  ReleaseLocked(name, it->second);
  hosts_.erase(it);
  waiting_.erase(name);
}

void HostRangeController::ObserveLocked(const Json& obj) {
  const std::string& name = Str(obj, "/metadata/name");
  if (name.empty()) return;
  const std::string& uid = Str(obj, "/metadata/uid");
  const int64_t rv = RevisionOf(obj);
  HostState& host = hosts_[name];
  if (host.uid != uid) {
    // New, or deleted and created again while the watch was away.
    ReleaseLocked(name, host);
    host = HostState{};
    host.uid = uid;
  } else if (rv < host.rv) {
    return;  // older than the answer to our own write
  }
  host.rv = rv;
  host.created = Str(obj, "/metadata/creationTimestamp");
  host.pod_cidr = Str(obj, "/status/podCIDR");
  host.cluster_cidr = Str(obj, "/status/clusterCIDR");
  host.service_cidr = Str(obj, "/status/serviceCIDR");
  std::optional<uint64_t> index = IndexOf(host.pod_cidr);
  if (host.claimed != index) {
    ReleaseLocked(name, host);
    if (index) ClaimLocked(*index, name, host);
  }
  if (NeedsWriteLocked(host)) queue_.Add(name);
}

void HostRangeController::ClaimLocked(uint64_t index, const std::string& name, HostState& host) {
  auto it = claims_.find(index);
  if (it == claims_.end()) {
    claims_[index] = name;
    host.claimed = index;
    return;
  }
  if (it->second == name) {
    host.claimed = index;
    return;
  }
  auto holder = hosts_.find(it->second);
  const bool older = holder == hosts_.end() ||
                     std::tie(host.created, name) < std::tie(holder->second.created, it->second);
  if (!older) return;  // `name` moves (Process)
  if (holder != hosts_.end()) {
    holder->second.claimed.reset();
    queue_.Add(holder->first);
  }
  it->second = name;
  host.claimed = index;
}

void HostRangeController::ReleaseLocked(const std::string& name, HostState& host) {
  if (!host.claimed) return;
  auto it = claims_.find(*host.claimed);
  if (it != claims_.end() && it->second == name) claims_.erase(it);
  host.claimed.reset();
  // A range is free: the Hosts that found none try again.
  for (const auto& w : waiting_) queue_.Add(w);
  waiting_.clear();
}

std::optional<uint64_t> HostRangeController::LowestFreeLocked() const {
  const uint64_t count = uint64_t{1} << (ranges_.host_prefix - ranges_.cluster.prefix);
  uint64_t next = 0;
  for (const auto& [index, holder] : claims_) {
    if (index != next) break;
    ++next;
  }
  if (next >= count) return std::nullopt;
  return next;
}

std::optional<uint64_t> HostRangeController::IndexOf(const std::string& cidr) const {
  if (cidr.empty()) return std::nullopt;
  auto c = Cidr::Parse(cidr);
  if (!c.ok() || c->prefix != ranges_.host_prefix || c->address != c->Network() ||
      !ranges_.cluster.Contains(*c)) {
    return std::nullopt;
  }
  const uint64_t offset = c->Network().value - ranges_.cluster.Network().value;
  return offset >> (32 - ranges_.host_prefix);
}

std::string HostRangeController::RangeText(uint64_t index) const {
  auto c = ranges_.cluster.Subnet(ranges_.host_prefix, index);
  return c ? c->ToString() : "";
}

bool HostRangeController::NeedsWriteLocked(const HostState& host) const {
  return !host.claimed || host.pod_cidr != RangeText(*host.claimed) ||
         host.cluster_cidr != cluster_text_ || host.service_cidr != service_text_;
}

milliseconds HostRangeController::Process(const std::string& name) {
  for (int attempt = 0; attempt < kWriteAttempts; ++attempt) {
    std::string uid, range, moved_from, why, rv;
    bool assigned = false;
    {
      std::lock_guard<std::mutex> l(mu_);
      auto it = hosts_.find(name);
      if (it == hosts_.end()) return milliseconds(0);
      HostState& host = it->second;
      if (!NeedsWriteLocked(host)) return milliseconds(0);
      uid = host.uid;
      rv = std::to_string(host.rv);
      if (auto own = IndexOf(host.pod_cidr); !host.claimed && own && !claims_.count(*own)) {
        ClaimLocked(*own, name, host);  // the Host it collided with is gone
      }
      if (!host.claimed) {
        if (!host.pod_cidr.empty()) {
          moved_from = host.pod_cidr;
          auto index = IndexOf(host.pod_cidr);
          auto holder = index ? claims_.find(*index) : claims_.end();
          why = holder != claims_.end() ? "it is Host " + holder->second + "'s"
                                        : "it is not a /" + std::to_string(ranges_.host_prefix) +
                                              " of the cluster range " + cluster_text_;
        }
        auto free = LowestFreeLocked();
        if (!free) {
          waiting_.insert(name);
        } else {
          claims_[*free] = name;
          host.claimed = *free;
          assigned = true;
        }
      }
      if (host.claimed) range = RangeText(*host.claimed);
    }
    if (range.empty()) {
      const std::string msg =
          "no free /" + std::to_string(ranges_.host_prefix) + " left in " + cluster_text_;
      spdlog::warn("host ranges: host {}: {}", name, msg);
      events_.Record(HostRef(name, uid), "Warning", "CIDRNotAvailable", msg);
      return milliseconds(0);  // again when a range frees
    }
    Json patch = {
        {"metadata", {{"resourceVersion", rv}}},
        {"status",
         {{"podCIDR", range}, {"clusterCIDR", cluster_text_}, {"serviceCIDR", service_text_}}}};
    auto r = client_->Patch(hosts_res_, "", name, client::PatchType::kMerge, patch, {}, "status");
    if (r.ok()) {
      {
        std::lock_guard<std::mutex> l(mu_);
        ObserveLocked(HostEssentials(std::move(*r)));
      }
      if (!moved_from.empty()) {
        const std::string msg =
            "status.podCIDR " + moved_from + " cannot stay (" + why + "); moved to " + range;
        spdlog::warn("host ranges: host {}: {}", name, msg);
        events_.Record(HostRef(name, uid), "Warning", "PodCIDRReassigned", msg);
      } else if (assigned) {
        spdlog::info("host ranges: host {} has range {}", name, range);
      }
      return milliseconds(0);
    }
    const Code code = r.error().code();
    if (code == Code::kConflict) {
      // Changed since seen: read it again, and decide again.
      auto fresh = client_->Get(hosts_res_, "", name);
      std::lock_guard<std::mutex> l(mu_);
      if (fresh.ok()) {
        ObserveLocked(HostEssentials(std::move(*fresh)));
        continue;
      }
      if (fresh.error().code() != Code::kNotFound) return kRetryDelay;
      // Gone: its delete event frees the range.
      return milliseconds(0);
    }
    if (code == Code::kNotFound) return milliseconds(0);
    spdlog::warn("host ranges: host {}: write {}: {}", name, range, r.error().ToString());
    if (assigned) {
      std::lock_guard<std::mutex> l(mu_);
      auto it = hosts_.find(name);
      if (it != hosts_.end()) ReleaseLocked(name, it->second);
    }
    return kRetryDelay;
  }
  return milliseconds(50);
}

}  // namespace lintel::controllers::network
