// Client: the typed-by-resource view of the Lintel (Kubernetes-style) API that
// the CLI, the agent and the controllers program against.
//
// Objects are JSON. Errors come back as Status with the code, message and
// field causes of the server's Kubernetes Status (so callers test codes, not
// HTTP numbers). Two implementations: RestClient (HTTP, rest_client.h) and, in
// the server, a local client that calls the API handlers in-process.
//
// Threading: implementations are thread-safe; calls block until answered.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "common/json.h"
#include "common/status.h"

namespace lintel::client {

// Which collection a call addresses. group "" is the core group (/api/v1).
struct Resource {
  std::string group;     // "lintel.dev"
  std::string version;   // "v1alpha1"
  std::string resource;  // plural: "virtualmachines"
  bool namespaced = true;
  bool operator==(const Resource&) const = default;
};

struct ListOptions {
  std::string label_selector;
  std::string field_selector;
  int64_t limit = 0;
  std::string continue_token;
  std::string resource_version;  // "" = latest, "0" = any
  int timeout_seconds = 0;       // watches: server closes after this (0 = server default)
  bool allow_bookmarks = false;  // watches
};

struct WriteOptions {
  bool dry_run = false;
  std::string field_manager;
  std::string field_validation;  // "", "Strict", "Warn", "Ignore"
  bool force = false;            // server-side apply conflicts
};

enum class PatchType { kMerge, kJson, kApply };

struct DeleteOptions {
  std::string propagation_policy;  // "", "Background", "Foreground", "Orphan"
  std::string precondition_uid;
  std::string precondition_resource_version;
  std::optional<int64_t> grace_period_seconds;
  bool dry_run = false;
};

struct WatchEvent {
  std::string type;  // ADDED, MODIFIED, DELETED, BOOKMARK, ERROR
  Json object;
};

// A running watch. Destroying it stops it (the callback is not called after
// the destructor returns).
class Watch {
 public:
  virtual ~Watch() = default;
  // Blocks until the stream ends (server timeout, error, or Stop). Returns the
  // error that ended it, OK on a clean end.
  virtual Status Wait() = 0;
  virtual void Stop() = 0;
};

class Client {
 public:
  virtual ~Client() = default;

  // `ns` is ignored for cluster-scoped resources; "" lists across namespaces.
  virtual Result<Json> Get(const Resource& r, std::string_view ns, std::string_view name) = 0;
  virtual Result<Json> List(const Resource& r, std::string_view ns, const ListOptions& opts) = 0;
  virtual Result<Json> Create(const Resource& r, std::string_view ns, const Json& obj,
                              const WriteOptions& opts = {}) = 0;
  // PUT of the whole object (metadata.name names it); subresource "" or "status"/"scale".
  virtual Result<Json> Update(const Resource& r, std::string_view ns, const Json& obj,
                              const WriteOptions& opts = {}, std::string_view subresource = "") = 0;
  virtual Result<Json> Patch(const Resource& r, std::string_view ns, std::string_view name,
                             PatchType type, const Json& patch, const WriteOptions& opts = {},
                             std::string_view subresource = "") = 0;
  // Returns the deleted object, or the object with deletionTimestamp set when
  // finalizers hold it.
  virtual Result<Json> Delete(const Resource& r, std::string_view ns, std::string_view name,
                              const DeleteOptions& opts = {}) = 0;
  // Streams events to `on_event` (on a client thread, in order) until the
  // server ends the watch or the Watch is destroyed. An ERROR event (e.g. 410
  // Expired) is delivered as an event and then ends the stream.
  virtual Result<std::unique_ptr<Watch>> WatchResource(
      const Resource& r, std::string_view ns, const ListOptions& opts,
      std::function<void(WatchEvent&&)> on_event) = 0;
};

}  // namespace lintel::client
