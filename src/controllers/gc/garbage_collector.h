// GarbageCollector: deletes objects whose owners (metadata.ownerReferences)
// are gone, and carries out Foreground and Orphan deletions.
//
//   informers (every kind) --> graph: uid -> node, owner uid -> dependents
//                                  |
//                                  v
//   work queue of uids --> decide (pure: Plan) --> apply through the client
//
// A dependent is deleted only when every owner is absent from the graph AND a
// live GET of each owner confirms it (404, or another uid). An owner marked
// for deletion with the "foregroundDeletion" finalizer has its dependents
// deleted first; with "orphan", their ownerReferences to it are removed. The
// finalizer is removed when that work is done.
//
// Threading: informer threads update the graph under mu_; one worker thread
// plans and applies.
#pragma once

#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "api/registry.h"
#include "client/client.h"
#include "controllers/controller.h"
#include "controllers/informer.h"
#include "controllers/workqueue.h"

namespace lintel::controllers {

struct OwnerRef {
  std::string api_version, kind, name, uid;
};

struct GraphNode {
  const api::KindInfo* kind = nullptr;
  std::string ns, name, uid, resource_version;
  std::vector<OwnerRef> owners;
  std::vector<std::string> finalizers;
  bool deleting = false;
};

// What to do about one node, decided from the graph alone.
struct GcPlan {
  bool delete_object = false;              // all owners absent (to be confirmed live)
  std::vector<std::string> dangling_owners;  // absent owner uids to drop from ownerReferences
  std::vector<std::string> delete_dependents;  // foreground: dependents' uids to delete
  std::vector<std::string> orphan_dependents;  // orphan: dependents to unlink
  std::string remove_finalizer;                // when its work is complete
};

// Pure decision for `node` given which uids exist and the node's dependents.
GcPlan PlanFor(const GraphNode& node, const std::set<std::string>& existing_uids,
               const std::vector<std::string>& dependents);

class GarbageCollector final : public Controller {
 public:
  GarbageCollector(std::shared_ptr<client::Client> client, const api::Registry& registry);
  ~GarbageCollector() override;
  std::string name() const override { return "garbage-collector"; }
  Status Start() override;
  void Stop() override;

 private:
  void Upsert(const api::KindInfo* kind, const Json& obj);
  void Remove(const Json& obj);
  std::chrono::milliseconds Process(const std::string& uid);
  Status Apply(const GraphNode& node, const GcPlan& plan);
  Result<bool> OwnerGoneLive(const GraphNode& node, const OwnerRef& ref);
  client::Resource ResourceOf(const api::KindInfo& kind) const;

  std::shared_ptr<client::Client> client_;
  const api::Registry& registry_;
  std::mutex mu_;
  std::unordered_map<std::string, GraphNode> nodes_;
  std::unordered_map<std::string, std::set<std::string>> dependents_;
  std::vector<std::unique_ptr<Informer>> informers_;
  WorkQueue queue_;
  bool started_ = false;
};

}  // namespace lintel::controllers
