// ResourceWatch: list-then-watch of one resource through client::Client,
// handing each object to the agent as it arrives. Unlike the controllers'
// Informer it keeps no copy: the agent keeps only what it needs of the
// workloads bound to its hosts. Lists are paged; a watch that ends is resumed
// from the last resourceVersion seen (bookmarks included), and one that
// expired (410) is replaced by a fresh list, after which `on_listed` names
// every object listed so that the agent can forget those deleted meanwhile.
//
// Threading: one thread per ResourceWatch runs the list/watch loop; handlers
// run on it or on the client's watch thread, one at a time, in order.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_set>

#include "client/client.h"
#include "common/json.h"
#include "common/thread_annotations.h"

namespace lintel::agent {

struct WatchHandlers {
  std::function<void(Json&& obj)> on_upsert;  // listed, ADDED or MODIFIED
  std::function<void(Json&& obj)> on_delete;  // DELETED (or no longer selected)
  // After each complete list: the uids it held.
  std::function<void(const std::unordered_set<std::string>& uids)> on_listed;
};

class ResourceWatch {
 public:
  ResourceWatch(client::Client* client, client::Resource resource, client::ListOptions selectors,
                WatchHandlers handlers);
  ~ResourceWatch();
  void Start();
  void Stop();
  // True once the first complete list has been handed over.
  bool WaitForSync(std::chrono::milliseconds timeout);
  // Lists done so far (the first included).
  int lists() const { return lists_; }

 private:
  void Run();
  Status ListAll(std::string* rv);
  void Pause(std::chrono::milliseconds d);

  client::Client* client_;
  const client::Resource resource_;
  const client::ListOptions selectors_;
  const WatchHandlers handlers_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::unique_ptr<client::Watch> watch_ LINTEL_GUARDED_BY(mu_);
  bool synced_ LINTEL_GUARDED_BY(mu_) = false;
  std::atomic<bool> stop_{false};
  std::atomic<int> lists_{0};
  std::thread thread_;
};

// metadata.uid, or "".
std::string UidOf(const Json& obj);

}  // namespace lintel::agent
