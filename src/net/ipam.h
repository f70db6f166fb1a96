// AddressPool: the workload addresses of one host range (a /24 of the cluster
// range, say 10.244.3.0/24), persisted in a JSON file so that an agent
// restart hands every owner (a workload uid) the address it had.
//
//   10.244.3.0    network    never handed out
//   10.244.3.1    gateway    the bridge's address; never handed out
//   10.244.3.2 .. 10.244.3.254  workloads, next-fit
//   10.244.3.255  broadcast  never handed out
//
// Next-fit: the search starts after the last address handed out and wraps,
// so a freed address is reused only after the rest of the range (an old
// workload's peers forget it meanwhile).
//
// State file: {"range": "10.244.3.0/24", "last": "10.244.3.7",
// "owners": {"<uid>": "10.244.3.5", ...}}, rewritten whole on every change
// (temp file, fsync, rename) before the change returns.
//
// Threading: thread-safe (one mutex; calls block for the file write).
#pragma once

#include <cstddef>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "common/cidr.h"
#include "common/status.h"
#include "common/thread_annotations.h"

namespace lintel::net {

class AddressPool {
 public:
  // Loads `state_file` if present (a missing file is an empty pool). Addresses
  // recorded outside `range`, or reserved ones, are dropped (the host got a
  // new range) and the file is rewritten. BadRequest for a range smaller than
  // /30; Internal ("address pool FILE: ...") when the file cannot be read or
  // is not a pool's JSON (it is left alone for a person to look at).
  static Result<std::unique_ptr<AddressPool>> Open(Cidr range, std::string state_file);

  const Cidr& Range() const { return range_; }
  // range.Nth(1). Never handed out, nor are the network and broadcast addresses.
  Ipv4 Gateway() const;

  // The owner's address: the one it holds, else the next free one.
  // Unavailable "no free address in 10.244.3.0/24 (253 in use)" when full;
  // BadRequest for an empty owner; Internal when the state cannot be written
  // (nothing changes then).
  Result<Ipv4> Allocate(const std::string& owner);
  // Records that `owner` uses `ip` (seen in the API after a restart); its
  // previous address, if different, is freed. Conflict if another owner holds
  // `ip`; BadRequest if `ip` is outside the range or reserved.
  Status Reserve(const std::string& owner, Ipv4 ip);
  // Frees the owner's address; OK if it holds none.
  Status Release(const std::string& owner);

  std::optional<Ipv4> Lookup(const std::string& owner) const;
  std::map<std::string, Ipv4> Owners() const;
  size_t InUse() const;
  // How many addresses can be handed out (size minus network, gateway, broadcast).
  size_t Capacity() const;

 private:
  AddressPool(Cidr range, std::string state_file);
  // The reason `ip` cannot be handed out, or empty.
  std::string Unusable(Ipv4 ip) const;
  // Writes the state; on failure the caller restores the maps.
  Status Persist() const LINTEL_REQUIRES(mu_);
  Status Load(bool* dropped);

  const Cidr range_;  // network address and prefix
  const std::string state_file_;
  mutable std::mutex mu_;
  std::map<std::string, Ipv4> by_owner_ LINTEL_GUARDED_BY(mu_);
  std::map<Ipv4, std::string> by_ip_ LINTEL_GUARDED_BY(mu_);
  Ipv4 last_ LINTEL_GUARDED_BY(mu_);  // the last address handed out (the gateway at first)
};

}  // namespace lintel::net
