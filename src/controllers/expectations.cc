#include "controllers/expectations.h"

#include <algorithm>

namespace lintel::controllers {

void Expectations::Expect(const std::string& owner, const std::string& uid, bool is_delete,
                          MonoTime now) {
  if (uid.empty()) return;
  auto [it, inserted] = by_uid_.try_emplace(uid);
  if (!inserted && it->second.owner != owner) by_owner_[it->second.owner].uids.erase(uid);
  it->second = Pending{owner, is_delete};
  Owner& o = by_owner_[owner];
  o.uids.insert(uid);
  o.last = now;
}

void Expectations::ExpectCreate(const std::string& owner, const std::string& uid,
                                MonoTime now) {
  Expect(owner, uid, false, now);
}

void Expectations::ExpectDelete(const std::string& owner, const std::string& uid,
                                MonoTime now) {
  Expect(owner, uid, true, now);
}

std::string Expectations::Observed(const std::string& uid, bool is_delete) {
  auto it = by_uid_.find(uid);
  if (it == by_uid_.end() || it->second.is_delete != is_delete) return "";
  std::string owner = std::move(it->second.owner);
  by_uid_.erase(it);
  auto o = by_owner_.find(owner);
  if (o == by_owner_.end()) return "";
  o->second.uids.erase(uid);
  if (!o->second.uids.empty()) return "";
  by_owner_.erase(o);
  return owner;
}

std::string Expectations::ObservedCreate(const std::string& uid) { return Observed(uid, false); }

std::string Expectations::ObservedDelete(const std::string& uid) {
  // A delete also meets a create not seen yet: the object came and went.
  std::string owner = Observed(uid, true);
  return owner.empty() ? Observed(uid, false) : owner;
}

bool Expectations::Satisfied(const std::string& owner, MonoTime now) {
  auto o = by_owner_.find(owner);
  if (o == by_owner_.end()) return true;
  if (now - o->second.last < ttl_) return false;
  Forget(owner);
  return true;
}

std::chrono::milliseconds Expectations::UntilExpiry(const std::string& owner,
                                                    MonoTime now) const {
  auto o = by_owner_.find(owner);
  if (o == by_owner_.end()) return std::chrono::milliseconds(0);
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(o->second.last + ttl_ - now);
  return std::max(left, std::chrono::milliseconds(1));
}

void Expectations::Forget(const std::string& owner) {
  auto o = by_owner_.find(owner);
  if (o == by_owner_.end()) return;
  for (const auto& uid : o->second.uids) by_uid_.erase(uid);
  by_owner_.erase(o);
}

}  // namespace lintel::controllers
