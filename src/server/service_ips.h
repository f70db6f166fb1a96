// ServiceIpAllocator: the Service kind's Allocator (allocator.h): a Service
// created without spec.clusterIP gets a free address of the Service range
// (every address but the range's network and broadcast ones), so that the
// object the create returns already has it; a given one must be in the range
// and free. Refusals are Invalid at spec.clusterIP: "provided IP is already
// allocated", "provided IP is not in the Service range 10.96.0.0/16".
//
// The Services themselves are the record: the addresses held are those of
// the Services in the watch cache (seeded at start, so restarts keep them,
// and freed when a Service goes, however it goes), plus those reserved by
// creates whose write the cache has not shown yet. A reservation ends when
// the write fails or is a dry run, or once the cache reaches the write's
// revision. Nothing leaks: an address no Service holds is free.
//
// Addresses are handed out round-robin from after the last one, so that a
// freed address is not reused at once (agents may still route it).
//
// Threading: Allocate is serialized by mu_; it reads the cache (never the
// other way round), and waits for it only when an address looks taken.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <unordered_set>

#include "api/kind.h"
#include "common/cidr.h"
#include "common/thread_annotations.h"
#include "server/allocator.h"
#include "server/watch_cache.h"

namespace lintel::server {

class ServiceIpAllocator final : public Allocator {
 public:
  // `services` is the Service kind of the cache's registry.
  ServiceIpAllocator(Cidr range, WatchCache* cache, const api::KindInfo* services);
  Result<std::unique_ptr<Allocation>> Allocate(Json* obj, const Json* old) override;

  // Addresses reserved by writes the cache has not shown yet (tests).
  size_t reserved();

 private:
  class Reservation;
  struct Reserved {
    uint64_t token = 0;
    store::Revision rv = 0;  // 0 while the write is in flight
  };

  // Brings used_ up to the cache and drops reservations it shows.
  void RefreshLocked(bool sync) LINTEL_REQUIRES(mu_);
  bool TakenLocked(uint32_t ip) const LINTEL_REQUIRES(mu_);
  std::optional<uint32_t> NextFreeLocked() LINTEL_REQUIRES(mu_);
  void Commit(uint32_t ip, uint64_t token, store::Revision rv);
  void Release(uint32_t ip, uint64_t token);

  const Cidr range_;
  WatchCache* cache_;
  const api::KindInfo* services_;

  std::mutex mu_;
  std::unordered_set<uint32_t> used_ LINTEL_GUARDED_BY(mu_);       // by Services in the cache
  std::optional<store::Revision> used_at_ LINTEL_GUARDED_BY(mu_);  // the kind's revision then
  std::map<uint32_t, Reserved> reserved_ LINTEL_GUARDED_BY(mu_);
  uint64_t cursor_ LINTEL_GUARDED_BY(mu_) = 0;  // offset of the next address to try
  uint64_t next_token_ LINTEL_GUARDED_BY(mu_) = 1;
};

}  // namespace lintel::server
