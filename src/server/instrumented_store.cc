#include "server/instrumented_store.h"

#include <chrono>

namespace lintel::server {

namespace {
template <typename F>
auto Timed(Metrics* m, const char* op, F&& f) {
  auto start = std::chrono::steady_clock::now();
  auto r = f();
  m->ObserveStore(op, std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
                          .count());
  return r;
}
}  // namespace

Result<store::Revision> InstrumentedStore::Create(std::string_view key, std::string_view value,
                                                  store::LeaseId lease) {
  return Timed(metrics_, "create", [&] { return inner_->Create(key, value, lease); });
}
Result<store::Revision> InstrumentedStore::Update(std::string_view key, std::string_view value,
                                                  store::Revision expected,
                                                  store::LeaseId lease) {
  return Timed(metrics_, "update", [&] { return inner_->Update(key, value, expected, lease); });
}
Result<store::Revision> InstrumentedStore::Delete(std::string_view key,
                                                  store::Revision expected) {
  return Timed(metrics_, "delete", [&] { return inner_->Delete(key, expected); });
}
Result<store::KeyValue> InstrumentedStore::Get(std::string_view key) {
  return Timed(metrics_, "get", [&] { return inner_->Get(key); });
}
Result<store::ListResult> InstrumentedStore::List(std::string_view prefix,
                                                  const store::ListOptions& options) {
  return Timed(metrics_, "list", [&] { return inner_->List(prefix, options); });
}
Result<store::Revision> InstrumentedStore::CurrentRevision() {
  return Timed(metrics_, "current_revision", [&] { return inner_->CurrentRevision(); });
}
Result<std::unique_ptr<store::Watch>> InstrumentedStore::WatchPrefix(
    std::string_view prefix, store::Revision after, store::WatchCallbacks callbacks) {
  return inner_->WatchPrefix(prefix, after, std::move(callbacks));
}
Status InstrumentedStore::Compact(store::Revision revision) {
  return Timed(metrics_, "compact", [&] { return inner_->Compact(revision); });
}
Result<store::Revision> InstrumentedStore::CompactedRevision() {
  return inner_->CompactedRevision();
}
Result<store::LeaseId> InstrumentedStore::GrantLease(std::chrono::milliseconds ttl) {
  return Timed(metrics_, "lease_grant", [&] { return inner_->GrantLease(ttl); });
}
Status InstrumentedStore::KeepAlive(store::LeaseId lease) {
  return Timed(metrics_, "lease_keepalive", [&] { return inner_->KeepAlive(lease); });
}
Status InstrumentedStore::RevokeLease(store::LeaseId lease) {
  return Timed(metrics_, "lease_revoke", [&] { return inner_->RevokeLease(lease); });
}

}  // namespace lintel::server
