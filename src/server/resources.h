// Resources: the API's semantics, independent of HTTP. For every kind in the
// registry it implements get, list, create, update, patch (merge, JSON,
// server-side apply), delete (preconditions, finalizers, propagation) and the
// status and scale subresources, over the Store (writes) and the WatchCache
// (reads), with validation, defaulting and admission.
//
// Both the HTTP API handler and in-process clients (controllers) call it.
//
// Threading: all methods are thread-safe and block on the store's group
// commit; call them from worker threads, never from an I/O thread.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "api/registry.h"
#include "common/clock.h"
#include "common/json.h"
#include "common/status.h"
#include "server/admission.h"
#include "server/allocator.h"
#include "server/watch_cache.h"
#include "store/store.h"

namespace lintel::server {

enum class FieldValidation { kIgnore, kWarn, kStrict };
enum class Subresource { kNone, kStatus, kScale };
enum class PatchType { kMerge, kJson, kApply };

// Who asks, and how they want writes done.
struct WriteOptions {
  bool dry_run = false;
  FieldValidation validation = FieldValidation::kWarn;
  std::string field_manager;  // "" = derived from the user agent by the caller
  bool force = false;         // apply: take over conflicting fields
  UserInfo user;
};

struct ListOptions {
  std::string label_selector;
  std::string field_selector;
  int64_t limit = 0;
  std::string continue_token;
  std::string resource_version;        // "", "0" or N
  std::string resource_version_match;  // "", "Exact", "NotOlderThan"
};

struct DeleteOptions {
  std::string propagation_policy;  // "", Background, Foreground, Orphan
  std::optional<std::string> precondition_uid;
  std::optional<std::string> precondition_rv;
  bool dry_run = false;
  UserInfo user;
};

// The outcome of a write: the object as stored (JSON text with its
// resourceVersion) and warnings for the client (unknown fields under Warn).
struct WriteResult {
  std::string json;
  bool created = false;  // 201 rather than 200
  std::vector<std::string> warnings;
};

struct ListOutput {
  std::vector<std::string> items;  // JSON objects with resourceVersion
  std::vector<ObjectPtr> cached;   // the same items when served from the cache (for Tables)
  Revision rv = 0;
  std::string continue_token;
};

class Resources {
 public:
  Resources(store::Store* store, WatchCache* cache, const api::Registry& registry, Clock* clock,
            Admission* admission);

  const api::Registry& registry() const { return registry_; }
  WatchCache* cache() const { return cache_; }

  // Sets (null: removes) `kind`'s allocation step (allocator.h). Before
  // serving: not thread-safe against concurrent writes.
  void SetAllocator(const api::KindInfo& kind, std::unique_ptr<Allocator> allocator);

  // `ns` is ignored for cluster-scoped kinds. rv: "" latest, "0" any, N at least N.
  Result<std::string> Get(const api::KindInfo& kind, const std::string& ns, const std::string& name,
                          const std::string& rv = "");
  Result<ListOutput> List(const api::KindInfo& kind, const std::string& ns,
                          const ListOptions& opts);
  // Parses selectors into a cache Filter: BadRequest on bad syntax or unknown fields.
  Result<Filter> MakeFilter(const api::KindInfo& kind, const std::string& ns,
                            const std::string& label_selector,
                            const std::string& field_selector) const;

  Result<WriteResult> Create(const api::KindInfo& kind, const std::string& ns, Json body,
                             const WriteOptions& opts);
  // PUT. The body's metadata.resourceVersion is required (a precondition).
  Result<WriteResult> Update(const api::KindInfo& kind, const std::string& ns,
                             const std::string& name, Json body, const WriteOptions& opts,
                             Subresource sub = Subresource::kNone);
  // `patch` is the request body: JSON for merge/JSON patch, JSON or YAML for apply.
  Result<WriteResult> Patch(const api::KindInfo& kind, const std::string& ns,
                            const std::string& name, PatchType type, const std::string& patch,
                            const WriteOptions& opts, Subresource sub = Subresource::kNone);
  // Returns the deleted object, or the object marked for deletion when
  // finalizers hold it.
  Result<WriteResult> Delete(const api::KindInfo& kind, const std::string& ns,
                             const std::string& name, const DeleteOptions& opts);
  // Deletes every match; returns the deleted (or marked) objects.
  Result<std::vector<std::string>> DeleteCollection(const api::KindInfo& kind,
                                                    const std::string& ns,
                                                    const ListOptions& selectors,
                                                    const DeleteOptions& opts);

  // The autoscaling/v1 Scale of a kind with a scale subresource.
  Result<Json> GetScale(const api::KindInfo& kind, const std::string& ns, const std::string& name);
  // PUT of a Scale, or a patch of it (type kMerge or kJson with `patch` text).
  Result<Json> UpdateScale(const api::KindInfo& kind, const std::string& ns,
                           const std::string& name, const Json& scale, const WriteOptions& opts);
  Result<Json> PatchScale(const api::KindInfo& kind, const std::string& ns, const std::string& name,
                          PatchType type, const std::string& patch, const WriteOptions& opts);

  // VirtualMachine power actions: start, stop, restart, pause, unpause
  // (resources_vm_actions.cc). Returns the updated VirtualMachine.
  Result<WriteResult> VmAction(const api::KindInfo& kind, const std::string& ns,
                               const std::string& name, const std::string& action,
                               const WriteOptions& opts);

  // Messages in kube's words.
  static Status NotFoundError(const api::KindInfo& kind, const std::string& name);
  static Status ConflictError(const api::KindInfo& kind, const std::string& name,
                              const std::string& detail =
                                  "the object has been modified; please apply your changes to "
                                  "the latest version and try again");

 private:
  struct Current {
    Json obj;  // parsed, with metadata.resourceVersion
    Revision rv = 0;
    store::LeaseId lease = 0;  // kept across updates (Event TTLs)
  };
  // The lease new objects of `kind` are attached to (kinds with a ttl), shared
  // by the objects created within a minute, as kube-apiserver does for Events.
  Result<store::LeaseId> LeaseFor(const api::KindInfo& kind);
  Result<Current> ReadCurrent(const api::KindInfo& kind, const std::string& key,
                              const std::string& name);
  // Validates and normalizes a body for create/update: kind and apiVersion,
  // namespace, unknown fields per `validation`.
  Status CheckBody(const api::KindInfo& kind, const std::string& ns, Json* body,
                   FieldValidation validation, std::vector<std::string>* warnings) const;
  // Validates `obj` (metadata, schema, kind rules, immutability against `old`)
  // and handles unknown fields per `mode`: Strict refuses, Warn warns and
  // prunes, Ignore prunes.
  Status ValidateObject(const api::KindInfo& kind, Json* obj, const Json* old, FieldValidation mode,
                        std::vector<std::string>* warnings) const;
  // Shared tail of update and patch: merges server-owned fields from `old`,
  // validates, and writes with a precondition on `cur.rv`.
  Result<WriteResult> CommitUpdate(const api::KindInfo& kind, const std::string& key,
                                   const Current& cur, Json desired, const WriteOptions& opts,
                                   Subresource sub, const std::string& manager,
                                   bool is_apply_result);
  Result<WriteResult> CreateInternal(const api::KindInfo& kind, const std::string& ns, Json body,
                                     const WriteOptions& opts, const Json* apply_managed_fields);
  Result<WriteResult> ApplyCreate(const api::KindInfo& kind, const std::string& ns,
                                  const std::string& name, const Json& applied,
                                  const WriteOptions& opts);
  std::string Now() const;
  // Runs `kind`'s allocator, if it has one, on a create (old == null) or an
  // update of `obj`; its refusals come back as the kind's Invalid error.
  Result<std::unique_ptr<Allocation>> Allocate(const api::KindInfo& kind, Json* obj,
                                               const Json* old, const std::string& name);

  store::Store* store_;
  WatchCache* cache_;
  const api::Registry& registry_;
  Clock* clock_;
  Admission* admission_;
  std::mutex lease_mu_;
  store::LeaseId ttl_lease_ = 0;
  std::chrono::steady_clock::time_point ttl_lease_granted_;
  std::map<std::string, std::unique_ptr<Allocator>> allocators_;  // by qualified resource
};

// Helpers shared with the HTTP layer.
// start, stop, restart, pause, unpause: the VirtualMachine power actions.
bool IsVmAction(std::string_view subresource);
std::string EncodeContinue(Revision rv, const std::string& start_key);
Status DecodeContinue(const std::string& token, Revision* rv, std::string* start_key);

}  // namespace lintel::server
