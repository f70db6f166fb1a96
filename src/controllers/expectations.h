// Expectations: the creates and deletes a controller has made and its
// informer has not shown it yet, per owner key (kube's ControllerExpectations,
// by uid rather than by count). While an owner has some, the controller does
// not plan for it again: its local copy is behind its own writes, and planning
// from it would create twice.
//
// An expectation not met within `ttl` (a watch that missed the event, an
// object created and gone before the relist) is dropped, as in kube.
//
// Threading: not thread-safe; the controller guards it with its own mutex,
// the one that also guards its copy of the objects, so that "already seen"
// and "expected" are decided together.
#pragma once

#include <chrono>
#include <string>
#include <unordered_map>
#include <unordered_set>

namespace lintel::controllers {

class Expectations {
 public:
  using MonoTime = std::chrono::steady_clock::time_point;

  explicit Expectations(std::chrono::milliseconds ttl = std::chrono::minutes(1)) : ttl_(ttl) {}

  // `owner` created (or asked to delete) the object `uid` at `now`.
  void ExpectCreate(const std::string& owner, const std::string& uid, MonoTime now);
  void ExpectDelete(const std::string& owner, const std::string& uid, MonoTime now);
  // The informer showed `uid` (created; or deleted or being deleted). Returns
  // the owner whose expectations this met in full, or "".
  std::string ObservedCreate(const std::string& uid);
  std::string ObservedDelete(const std::string& uid);

  // True when `owner` waits for nothing (or what it waited for expired: then
  // it is forgotten).
  bool Satisfied(const std::string& owner, MonoTime now);
  // How long until what `owner` waits for expires (zero when satisfied).
  std::chrono::milliseconds UntilExpiry(const std::string& owner, MonoTime now) const;
  void Forget(const std::string& owner);

  size_t pending() const { return by_uid_.size(); }

 private:
  struct Pending {
    std::string owner;
    bool is_delete = false;
  };
  struct Owner {
    std::unordered_set<std::string> uids;
    MonoTime last{};  // the latest expectation set
  };
  void Expect(const std::string& owner, const std::string& uid, bool is_delete, MonoTime now);
  std::string Observed(const std::string& uid, bool is_delete);

  std::chrono::milliseconds ttl_;
  std::unordered_map<std::string, Pending> by_uid_;
  std::unordered_map<std::string, Owner> by_owner_;
};

}  // namespace lintel::controllers
