// InstrumentedStore: a Store decorator that times every call into Metrics.
// Thread-safe as the wrapped store.
#pragma once

#include <memory>

#include "server/metrics.h"
#include "store/store.h"

namespace lintel::server {

class InstrumentedStore final : public store::Store {
 public:
  InstrumentedStore(std::unique_ptr<store::Store> inner, Metrics* metrics)
      : inner_(std::move(inner)), metrics_(metrics) {}

  Result<store::Revision> Create(std::string_view key, std::string_view value,
                                 store::LeaseId lease) override;
  Result<store::Revision> Update(std::string_view key, std::string_view value,
                                 store::Revision expected, store::LeaseId lease) override;
  Result<store::Revision> Delete(std::string_view key, store::Revision expected) override;
  Result<store::KeyValue> Get(std::string_view key) override;
  Result<store::ListResult> List(std::string_view prefix,
                                 const store::ListOptions& options) override;
  Result<store::Revision> CurrentRevision() override;
  Result<std::unique_ptr<store::Watch>> WatchPrefix(std::string_view prefix,
                                                    store::Revision after,
                                                    store::WatchCallbacks callbacks) override;
  Status Compact(store::Revision revision) override;
  Result<store::Revision> CompactedRevision() override;
  Result<store::LeaseId> GrantLease(std::chrono::milliseconds ttl) override;
  Status KeepAlive(store::LeaseId lease) override;
  Status RevokeLease(store::LeaseId lease) override;

 private:
  std::unique_ptr<store::Store> inner_;
  Metrics* metrics_;
};

}  // namespace lintel::server
