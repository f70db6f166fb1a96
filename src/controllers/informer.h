// Informer: keeps a local copy of one resource's objects by listing and then
// watching through a client::Client, and tells handlers what changed. A watch
// that ends (timeout, 410 Expired, error) is resumed from the last seen
// resourceVersion, or re-listed when that is too old.
//
// Threading: one thread per informer runs list/watch and the handlers, in
// order; Get/List of the local copy are thread-safe.
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "client/client.h"
#include "common/json.h"

namespace lintel::controllers {

struct InformerHandlers {
  std::function<void(const Json& obj)> on_add;
  std::function<void(const Json& old_obj, const Json& obj)> on_update;
  std::function<void(const Json& obj)> on_delete;
  // Applied to every object before it is kept or handed to the handlers
  // (client-go's SetTransform): a controller that needs only metadata keeps
  // only metadata, so a large estate does not cost a full copy per informer.
  std::function<Json(Json&&)> transform;
  // False: the local copy keeps only each object's identity
  // ({metadata: {uid, name, namespace}}), which is also what on_update gets as
  // the old object and on_delete after a relist, for controllers that keep an
  // index of their own (the GC's graph). Get and List return those stubs.
  bool keep_objects = true;
};

// A transform keeping apiVersion, kind and the metadata a controller that
// tracks identity and ownership needs (name, namespace, uid, resourceVersion,
// ownerReferences, finalizers, deletionTimestamp).
Json IdentityOnly(Json&& obj);

class Informer {
 public:
  Informer(std::shared_ptr<client::Client> client, client::Resource resource,
           InformerHandlers handlers, client::ListOptions selectors = {});
  ~Informer();
  void Start();
  void Stop();
  // True once the first list has been delivered to the handlers.
  bool Synced() const { return synced_; }
  bool WaitForSync(std::chrono::milliseconds timeout) const;

  // The local copy, keyed "ns/name" (or "name").
  std::optional<Json> Get(const std::string& key) const;
  std::vector<Json> List() const;

  static std::string KeyOf(const Json& obj);
  // {metadata: {uid, name, namespace}} of `obj`.
  static Json Stub(const Json& obj);

 private:
  void Run();
  Status ListOnce(std::string* rv);

  std::shared_ptr<client::Client> client_;
  client::Resource resource_;
  InformerHandlers handlers_;
  client::ListOptions selectors_;
  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  std::map<std::string, Json> objects_;
  std::atomic<bool> synced_{false};
  std::atomic<bool> stop_{false};
  // Shared so that Stop can stop it without holding mu_: stopping joins the
  // thread that delivers events, and its handler takes mu_.
  std::shared_ptr<client::Watch> watch_;
  std::thread thread_;
};

}  // namespace lintel::controllers
