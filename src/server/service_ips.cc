#include "server/service_ips.h"

#include "api/schema.h"

namespace lintel::server {

namespace {

constexpr char kField[] = "spec.clusterIP";
constexpr std::chrono::milliseconds kSyncTimeout{2000};

Status Refuse(const std::string& value, const std::string& why) {
  return Invalid("", {api::InvalidValue(kField, value, why)});
}

}  // namespace

// Holds one reserved address until Commit or destruction.
class ServiceIpAllocator::Reservation final : public Allocation {
 public:
  Reservation(ServiceIpAllocator* owner, uint32_t ip, uint64_t token)
      : owner_(owner), ip_(ip), token_(token) {}
  ~Reservation() override {
    if (!committed_) owner_->Release(ip_, token_);
  }
  void Commit(store::Revision rv) override {
    owner_->Commit(ip_, token_, rv);
    committed_ = true;
  }

 private:
  ServiceIpAllocator* owner_;
  uint32_t ip_;
  uint64_t token_;
  bool committed_ = false;
};

ServiceIpAllocator::ServiceIpAllocator(Cidr range, WatchCache* cache, const api::KindInfo* services)
    : range_{range.Network(), range.prefix}, cache_(cache), services_(services) {}

size_t ServiceIpAllocator::reserved() {
  std::lock_guard<std::mutex> l(mu_);
  RefreshLocked(false);
  return reserved_.size();
}

void ServiceIpAllocator::RefreshLocked(bool sync) {
  if (sync) {
    // An address looks taken: perhaps by a Service deleted a moment ago.
    (void)cache_->Sync(kSyncTimeout);
  }
  const store::Revision kind_rv = cache_->KindRevision(*services_);
  if (!sync && used_at_ && *used_at_ == kind_rv) return;
  WatchCache::ListResult list = cache_->List(*services_, Filter{}, "", 0);
  used_.clear();
  for (const auto& obj : list.items) {
    auto ip = FieldValue(*services_, *obj, kField);
    if (!ip || ip->empty()) continue;
    if (auto parsed = Ipv4::Parse(*ip); parsed.ok()) used_.insert(parsed->value);
  }
  used_at_ = kind_rv;
  // Writes the list reflects are in used_ now (or deleted since).
  for (auto it = reserved_.begin(); it != reserved_.end();) {
    if (it->second.rv != 0 && it->second.rv <= list.rv) {
      it = reserved_.erase(it);
    } else {
      ++it;
    }
  }
}

bool ServiceIpAllocator::TakenLocked(uint32_t ip) const {
  return used_.count(ip) > 0 || reserved_.count(ip) > 0;
}

std::optional<uint32_t> ServiceIpAllocator::NextFreeLocked() {
  // Every address but the network and broadcast ones.
  const uint64_t usable = range_.Size() >= 4 ? range_.Size() - 2 : 0;
  for (uint64_t i = 0; i < usable; ++i) {
    const uint64_t offset = 1 + (cursor_ + i) % usable;
    const uint32_t ip = range_.Network().value + static_cast<uint32_t>(offset);
    if (TakenLocked(ip)) continue;
    cursor_ = (cursor_ + i + 1) % usable;
    return ip;
  }
  return std::nullopt;
}

Result<std::unique_ptr<Allocation>> ServiceIpAllocator::Allocate(Json* obj, const Json* old) {
  if (old != nullptr) {
    const Json& was = api::At(*old, "/spec/clusterIP");
    // Kept (the kind's prepare) and immutable (its schema).
    if (was.is_string() && !was.get<std::string>().empty()) return std::unique_ptr<Allocation>();
  }
  Json& spec = (*obj)["spec"];
  if (!spec.is_object()) spec = Json::object();
  const Json& given = api::At(spec, "/clusterIP");
  const std::string want = given.is_string() ? given.get<std::string>() : "";

  std::lock_guard<std::mutex> l(mu_);
  RefreshLocked(false);
  uint32_t ip = 0;
  if (!want.empty()) {
    auto parsed = Ipv4::Parse(want);
    if (!parsed.ok()) return Refuse(want, "must be a valid IPv4 address");
    if (!range_.Contains(*parsed)) {
      return Refuse(want, "provided IP is not in the Service range " + range_.ToString());
    }
    if (*parsed == range_.Network() || *parsed == range_.Broadcast()) {
      return Refuse(want,
                    "provided IP is the network or broadcast address of the Service "
                    "range " +
                        range_.ToString());
    }
    ip = parsed->value;
    if (TakenLocked(ip)) {
      RefreshLocked(true);
      if (TakenLocked(ip)) return Refuse(want, "provided IP is already allocated");
    }
  } else {
    auto next = NextFreeLocked();
    if (!next) {
      RefreshLocked(true);
      next = NextFreeLocked();
    }
    if (!next) {
      return Internal("failed to allocate a Service IP: the Service range " + range_.ToString() +
                      " is full");
    }
    ip = *next;
    spec["clusterIP"] = Ipv4{ip}.ToString();
  }
  const uint64_t token = next_token_++;
  reserved_[ip] = Reserved{token, 0};
  return std::unique_ptr<Allocation>(std::make_unique<Reservation>(this, ip, token));
}

void ServiceIpAllocator::Commit(uint32_t ip, uint64_t token, store::Revision rv) {
  std::lock_guard<std::mutex> l(mu_);
  auto it = reserved_.find(ip);
  if (it != reserved_.end() && it->second.token == token) it->second.rv = rv;
}

void ServiceIpAllocator::Release(uint32_t ip, uint64_t token) {
  std::lock_guard<std::mutex> l(mu_);
  auto it = reserved_.find(ip);
  if (it != reserved_.end() && it->second.token == token) reserved_.erase(it);
}

}  // namespace lintel::server
