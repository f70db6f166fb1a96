#include "net/ipam.h"

#include <exception>
#include <utility>

#include "common/fs.h"
#include "common/json.h"

namespace lintel::net {

namespace {

Cidr Normalized(const Cidr& c) { return Cidr{c.Network(), c.prefix}; }

}  // namespace

AddressPool::AddressPool(Cidr range, std::string state_file)
    : range_(Normalized(range)), state_file_(std::move(state_file)), last_(Gateway()) {}

Result<std::unique_ptr<AddressPool>> AddressPool::Open(Cidr range, std::string state_file) {
  if (range.prefix < 0 || range.prefix > 30) {
    return BadRequest("address pool: range " + range.ToString() + " is smaller than a /30");
  }
  std::unique_ptr<AddressPool> pool(new AddressPool(range, std::move(state_file)));
  bool dropped = false;
  LINTEL_RETURN_IF_ERROR(pool->Load(&dropped));
  if (dropped) {
    std::lock_guard<std::mutex> lock(pool->mu_);
    LINTEL_RETURN_IF_ERROR(pool->Persist());
  }
  return pool;
}

Ipv4 AddressPool::Gateway() const { return {range_.Network().value + 1}; }

size_t AddressPool::Capacity() const { return static_cast<size_t>(range_.Size() - 3); }

std::string AddressPool::Unusable(Ipv4 ip) const {
  if (!range_.Contains(ip)) return "outside " + range_.ToString();
  if (ip == range_.Network()) return "the network address of " + range_.ToString();
  if (ip == range_.Broadcast()) return "the broadcast address of " + range_.ToString();
  if (ip == Gateway()) return "the gateway of " + range_.ToString();
  return {};
}

Status AddressPool::Load(bool* dropped) {
  auto fail = [&](const std::string& why) {
    return Internal("address pool " + state_file_ + ": " + why +
                    " (move the file away to start empty)");
  };
  Result<std::string> text = ReadFile(state_file_);
  if (!text.ok()) {
    if (text.error().code() == Code::kNotFound) return Status();
    return Internal("address pool: " + text.error().message());
  }
  Result<Json> doc = ParseJson(*text);
  if (!doc.ok()) return fail(doc.error().message());
  try {
    if (!doc->is_object()) return fail("not a JSON object");
    const Json empty = Json::object();
    const Json& owners = doc->contains("owners") ? doc->at("owners") : empty;
    if (!owners.is_object()) return fail("\"owners\" is not an object");
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& [owner, value] : owners.items()) {
      if (!value.is_string()) return fail("owner " + owner + ": address is not a string");
      Result<Ipv4> ip = Ipv4::Parse(value.get<std::string>());
      if (!ip.ok()) return fail("owner " + owner + ": " + ip.error().message());
      if (owner.empty() || !Unusable(*ip).empty() || by_ip_.count(*ip) != 0) {
        *dropped = true;  // from an older range, or a duplicate
        continue;
      }
      by_owner_[owner] = *ip;
      by_ip_[*ip] = owner;
    }
    if (doc->contains("last") && doc->at("last").is_string()) {
      Result<Ipv4> last = Ipv4::Parse(doc->at("last").get<std::string>());
      if (last.ok() && Unusable(*last).empty()) last_ = *last;
    }
  } catch (const std::exception& e) {
    return fail(e.what());
  }
  return Status();
}

Status AddressPool::Persist() const {
  Json owners = Json::object();
  for (const auto& [owner, ip] : by_owner_) owners[owner] = ip.ToString();
  Json doc = {{"range", range_.ToString()}, {"last", last_.ToString()}, {"owners", owners}};
  Status s = WriteFileAtomic(state_file_, doc.dump(2) + "\n", 0600);
  return s.ok() ? s : s.Wrap("address pool");
}

Result<Ipv4> AddressPool::Allocate(const std::string& owner) {
  if (owner.empty()) return BadRequest("allocate address: empty owner");
  std::lock_guard<std::mutex> lock(mu_);
  if (auto it = by_owner_.find(owner); it != by_owner_.end()) return it->second;
  if (by_ip_.size() >= Capacity()) {
    return Unavailable("no free address in " + range_.ToString() + " (" +
                       std::to_string(by_ip_.size()) + " in use)");
  }
  const uint32_t first = range_.Network().value + 2;
  const uint32_t end = range_.Broadcast().value;  // exclusive
  uint32_t candidate = last_.value;
  std::optional<Ipv4> found;
  for (size_t i = 0; i < Capacity(); ++i) {
    candidate = candidate + 1 >= end || candidate + 1 < first ? first : candidate + 1;
    if (by_ip_.count(Ipv4{candidate}) == 0) {
      found = Ipv4{candidate};
      break;
    }
  }
  if (!found) {  // unreachable while the maps agree with the count above
    return Unavailable("no free address in " + range_.ToString());
  }
  Ipv4 previous_last = last_;
  by_owner_[owner] = *found;
  by_ip_[*found] = owner;
  last_ = *found;
  Status s = Persist();
  if (!s.ok()) {
    by_owner_.erase(owner);
    by_ip_.erase(*found);
    last_ = previous_last;
    return s;
  }
  return *found;
}

Status AddressPool::Reserve(const std::string& owner, Ipv4 ip) {
  if (owner.empty()) return BadRequest("reserve address: empty owner");
  if (std::string why = Unusable(ip); !why.empty()) {
    return BadRequest("reserve " + ip.ToString() + " for " + owner + ": " + why);
  }
  std::lock_guard<std::mutex> lock(mu_);
  if (auto it = by_ip_.find(ip); it != by_ip_.end()) {
    if (it->second == owner) return Status();
    return Conflict("reserve " + ip.ToString() + " for " + owner + ": held by " + it->second);
  }
  auto previous = by_owner_.find(owner);
  std::optional<Ipv4> old;
  if (previous != by_owner_.end()) old = previous->second;
  if (old) by_ip_.erase(*old);
  by_owner_[owner] = ip;
  by_ip_[ip] = owner;
  Status s = Persist();
  if (!s.ok()) {
    by_ip_.erase(ip);
    if (old) {
      by_owner_[owner] = *old;
      by_ip_[*old] = owner;
    } else {
      by_owner_.erase(owner);
    }
  }
  return s;
}

Status AddressPool::Release(const std::string& owner) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = by_owner_.find(owner);
  if (it == by_owner_.end()) return Status();
  Ipv4 ip = it->second;
  by_owner_.erase(it);
  by_ip_.erase(ip);
  Status s = Persist();
  if (!s.ok()) {
    by_owner_[owner] = ip;
    by_ip_[ip] = owner;
  }
  return s;
}

std::optional<Ipv4> AddressPool::Lookup(const std::string& owner) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = by_owner_.find(owner);
  if (it == by_owner_.end()) return std::nullopt;
  return it->second;
}

std::map<std::string, Ipv4> AddressPool::Owners() const {
  std::lock_guard<std::mutex> lock(mu_);
  return by_owner_;
}

size_t AddressPool::InUse() const {
  std::lock_guard<std::mutex> lock(mu_);
  return by_owner_.size();
}

}  // namespace lintel::net
