// WatchCache: every object of every kind in memory, plus a window of recent
// events per kind, fed by one store watch. It serves gets, lists and all
// watchers, so that thousands of watchers cost the store nothing and each
// event is serialized once (like kube-apiserver's cacher).
//
//   store --WatchPrefix("/registry/")--> Apply(batch) --+--> KindState (objects, ring)
//                                                       +--> watchers' sinks (fan-out)
//
// Per kind: a shared_mutex guards the objects, the event ring and the
// watchers. Events are applied and fanned out on the store's watch thread;
// sinks are called with the kind's lock held, so they must only queue (the
// HTTP sink posts to the connection). A bookmark thread sends BOOKMARKs.
//
// Consistent reads: a reader asks the store for its current revision and
// WaitFor()s the cache to reach it, then reads the cache.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "api/registry.h"
#include "apimachinery/labels.h"
#include "common/status.h"
#include "common/thread_annotations.h"
#include "server/object_codec.h"
#include "store/store.h"

namespace lintel::server {

enum class WatchEventType : uint8_t { kAdded, kModified, kDeleted };
std::string_view WatchEventTypeName(WatchEventType t);

// One field selector requirement, resolved against a kind.
struct FieldRequirement {
  std::string field;  // "status.host"
  bool equals = true;  // false: !=
  std::string value;
};

// Which objects of a kind a list or watch wants.
struct Filter {
  std::string ns;                        // "" = every namespace
  apimachinery::LabelSelector labels;    // empty = everything
  std::vector<FieldRequirement> fields;  // all must hold

  bool Matches(const api::KindInfo& kind, const CachedObject& obj) const;
};

// One change to one object, shared by every watcher that receives it.
class CacheEvent {
 public:
  CacheEvent(Revision rv, ObjectPtr obj, ObjectPtr prev, bool deleted)
      : rv_(rv), obj_(std::move(obj)), prev_(std::move(prev)), deleted_(deleted) {}
  Revision rv() const { return rv_; }
  const ObjectPtr& object() const { return obj_; }  // for a delete: the last state
  const ObjectPtr& prev() const { return prev_; }   // null for a create
  bool deleted() const { return deleted_; }

  // The encoding of this event under `key` (e.g. "json:ADDED"), made once by
  // `make` and shared by every watcher that asks for the same key.
  std::shared_ptr<const std::string> Encoded(const std::string& key,
                                             const std::function<std::string()>& make) const;

 private:
  Revision rv_;
  ObjectPtr obj_;
  ObjectPtr prev_;
  bool deleted_;
  mutable std::mutex mu_;
  mutable std::vector<std::pair<std::string, std::shared_ptr<const std::string>>> encoded_
      LINTEL_GUARDED_BY(mu_);
};
using EventPtr = std::shared_ptr<const CacheEvent>;

// Receives a watcher's events. Called with the kind's lock held: must not
// block and must not call into the WatchCache.
class WatchSink {
 public:
  virtual ~WatchSink() = default;
  // Returns false to end the watch (client gone or too far behind).
  virtual bool OnEvent(WatchEventType type, const EventPtr& event) = 0;
  virtual bool OnBookmark(Revision rv) = 0;
  // After the initial ADDED events of a watch from revision 0, at `rv`.
  virtual void OnInitialEventsEnd(Revision rv) {}
  // The cache ended the watch (shutdown, or it had to reload: Gone).
  virtual void OnEnd(const Status& why) = 0;
  // False once the consumer is gone; the cache then drops the watcher (checked
  // on every event and every bookmark interval).
  virtual bool Alive() const { return true; }
};

class WatchCache;

// A registered watcher; destroying it unregisters it (safe from any thread
// except from inside its own sink).
class CacheWatch {
 public:
  CacheWatch(WatchCache* cache, const api::KindInfo* kind, uint64_t id)
      : cache_(cache), kind_(kind), id_(id) {}
  ~CacheWatch();
  CacheWatch(const CacheWatch&) = delete;
  // Leaves the watcher registered until its sink reports !Alive() or refuses
  // an event; the handle no longer unregisters it.
  void Detach() { cache_ = nullptr; }
  CacheWatch& operator=(const CacheWatch&) = delete;

 private:
  WatchCache* cache_;
  const api::KindInfo* kind_;
  uint64_t id_;
};

class WatchCache {
 public:
  struct Options {
    size_t events_per_kind = 20000;                 // the resume window
    std::chrono::milliseconds bookmark_interval{5000};
    int64_t initial_list_page = 10000;
  };

  WatchCache(store::Store* store, const api::Registry& registry, Options options);
  ~WatchCache();

  // Loads every object and starts following the store. Blocks until loaded.
  Status Start();
  void Stop();

  // The last store revision applied.
  Revision revision() const;
  // Waits until revision() >= rev; Timeout after `timeout`.
  Status WaitFor(Revision rev, std::chrono::milliseconds timeout) const;
  // Asks the store for its current revision and waits for it: after this, a
  // read of the cache sees every write acknowledged before the call.
  Status Sync(std::chrono::milliseconds timeout = std::chrono::seconds(10)) const;

  ObjectPtr Get(const api::KindInfo& kind, const std::string& key) const;

  struct ListResult {
    std::vector<ObjectPtr> items;
    Revision rv = 0;      // the revision the list reflects
    bool more = false;    // stopped at `limit` with more matches possibly remaining
    std::string last_key; // key of the last item scanned (for continue tokens)
  };
  // Objects of `kind` matching `filter`, ascending by key, after `start_after`,
  // at most `limit` (0 = no limit).
  ListResult List(const api::KindInfo& kind, const Filter& filter, std::string_view start_after,
                  int64_t limit) const;
  // Revision of the kind's latest event (0 if none since start).
  Revision KindRevision(const api::KindInfo& kind) const;
  size_t Count(const api::KindInfo& kind) const;

  // Registers a watcher for `kind` objects matching `filter`.
  //   from == 0:  an ADDED event for every current match, then changes.
  //   from == N:  every change after revision N. Gone if N is older than the
  //               kind's event window.
  Result<std::unique_ptr<CacheWatch>> Watch(const api::KindInfo& kind, Filter filter,
                                            Revision from, bool allow_bookmarks,
                                            std::shared_ptr<WatchSink> sink);
  size_t WatcherCount() const;

 private:
  friend class CacheWatch;
  struct Watcher {
    Filter filter;
    std::shared_ptr<WatchSink> sink;
    bool bookmarks = false;
    std::string index_key;  // "field=value" when indexed, else ""
  };
  struct KindState {
    const api::KindInfo* kind = nullptr;
    std::string prefix;
    mutable std::shared_mutex mu;
    std::map<std::string, ObjectPtr, std::less<>> objects;
    std::deque<EventPtr> ring;
    Revision floor = 0;          // watches from below this are Gone
    Revision last_event_rv = 0;
    std::unordered_map<uint64_t, Watcher> watchers;
    // Watchers with an equality requirement on an indexed field, by "field=value".
    std::unordered_map<std::string, std::vector<uint64_t>> indexed;
    std::vector<uint64_t> unindexed;
  };

  KindState* StateFor(const api::KindInfo& kind) const;
  KindState* StateForKey(std::string_view key) const;
  Status Load();
  Status LoadHistory(Revision at);
  void OnStoreEvents(std::vector<store::Event>&& events);
  void OnStoreError(const Status& status);
  void ApplyEvent(KindState* ks, store::Event&& ev);
  void FanOut(KindState* ks, const EventPtr& ev);
  void RemoveWatcher(KindState* ks, uint64_t id);
  void Unwatch(const api::KindInfo* kind, uint64_t id);
  void BookmarkLoop();
  void EndAllWatchers(const Status& why);

  store::Store* store_;
  const api::Registry& registry_;
  Options options_;
  std::vector<std::unique_ptr<KindState>> kinds_;
  std::unordered_map<std::string, KindState*> by_prefix_;

  mutable std::mutex rev_mu_;
  mutable std::condition_variable rev_cv_;
  Revision revision_ LINTEL_GUARDED_BY(rev_mu_) = 0;

  std::unique_ptr<store::Watch> store_watch_;
  std::atomic<uint64_t> next_id_{1};
  std::atomic<bool> stopping_{false};
  std::atomic<bool> reload_needed_{false};
  std::mutex bookmark_mu_;
  std::condition_variable bookmark_cv_;
  std::thread bookmark_thread_;
};

// Fields whose equality selectors index watchers (an agent watching its own
// host's workloads must not be checked against every other host's events).
bool IsIndexedField(std::string_view field);

}  // namespace lintel::server
