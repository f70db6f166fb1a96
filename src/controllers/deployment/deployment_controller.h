// DeploymentController: keeps each Deployment's Pods at spec.replicas of its
// current template (Lintel has no ReplicaSets: the Deployment owns its Pods),
// rolls template changes out by RollingUpdate (maxSurge, maxUnavailable) or
// Recreate, replaces Pods that end, and reports status.
//
//   informer(deployments) --> selectors, uid -> key      --+
//   informer(pods, facts only) --> pods by uid,             +--> WorkQueue of "ns/name"
//                                  by owner uid,            |          |
//                                  orphans by namespace   --+          v
//   Process(key): expectations met? --> adopt / release Pods by selector
//     --> revision (bumped when the template hash changes) --> PlanSync (pure)
//     --> deletes, creates (each expected until the informer shows it)
//     --> ComputeStatus (pure) --> PATCH /status when it changed
//     --> again after a time-driven wait (minReadySeconds, backoff, deadline)
//
// Pods are matched to their Deployment by the ownerReference's uid (the
// index), not by selector; orphans that match a selector are adopted and
// owned Pods that stop matching are released, as kube does.
//
// Threading: informer threads update the index under mu_ and queue keys; one
// worker (the WorkQueue's) plans and writes, never holding mu_ across an API
// call.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "apimachinery/labels.h"
#include "client/client.h"
#include "common/clock.h"
#include "common/thread_annotations.h"
#include "controllers/controller.h"
#include "controllers/deployment/deployment_facts.h"
#include "controllers/deployment/deployment_plan.h"
#include "controllers/deployment/deployment_status.h"
#include "controllers/event_recorder.h"
#include "controllers/expectations.h"
#include "controllers/informer.h"
#include "controllers/workqueue.h"

namespace lintel::controllers::deployment {

struct DeploymentOptions {
  // Timestamps (conditions, readiness, backoff). Waits use real time.
  Clock* clock = &Clock::Real();
  std::chrono::milliseconds expectations_ttl{std::chrono::minutes(1)};
};

class DeploymentController final : public Controller {
 public:
  DeploymentController(std::shared_ptr<client::Client> client, DeploymentOptions options = {});
  ~DeploymentController() override;
  std::string name() const override { return "deployment"; }
  Status Start() override;
  void Stop() override;

 private:
  struct Owner {
    std::string key, ns, uid;
    apimachinery::LabelSelector selector;
  };
  struct Applied {
    SyncOutcome outcome;
    int64_t deleted_new = 0, deleted_old = 0;
    bool failed = false;  // a write failed: try again later
  };

  void OnDeployment(const Json& obj, bool deleted);
  void OnPod(const Json& obj, bool deleted);
  void UnindexLocked(const IndexedPod& pod) LINTEL_REQUIRES(mu_);
  void QueueOwnersLocked(const IndexedPod& pod) LINTEL_REQUIRES(mu_);

  std::chrono::milliseconds Process(const std::string& key);
  // Adopts matching orphans and releases owned Pods that stop matching.
  // True when it wrote (the index catches up through the informer).
  Result<bool> ClaimPods(const Json& deployment, const std::string& key);
  // Adds the Deployment as the Pod's controller (when `adopt_for`, the
  // Deployment's selector, still matches it), or removes it (null).
  Status SetControllerRef(const std::string& ns, const std::string& name,
                          const std::string& pod_uid, const Json& deployment,
                          const apimachinery::LabelSelector* adopt_for);
  // Bumps the revision annotations when the template changed.
  Result<bool> SyncRevision(Json* deployment, DeploymentFacts* facts);
  Applied Apply(const std::string& key, const Json& deployment, const DeploymentFacts& facts,
                const std::vector<PodFacts>& pods, const Plan& plan);
  void RecordEvents(const Json& deployment, const DeploymentFacts& facts,
                    const std::vector<PodFacts>& pods, const Plan& plan, const Applied& applied);
  std::chrono::milliseconds RetryDelay(const std::string& key, bool failed);

  std::shared_ptr<client::Client> client_;
  DeploymentOptions options_;
  client::Resource deployments_res_, pods_res_;
  EventRecorder events_;
  std::unique_ptr<Informer> deployments_;
  std::unique_ptr<Informer> pods_informer_;
  WorkQueue queue_;

  std::mutex mu_;
  std::unordered_map<std::string, Owner> owners_ LINTEL_GUARDED_BY(mu_);       // by key
  std::unordered_map<std::string, std::string> key_by_uid_ LINTEL_GUARDED_BY(mu_);
  std::unordered_map<std::string, std::unordered_set<std::string>> owners_by_ns_
      LINTEL_GUARDED_BY(mu_);
  std::unordered_map<std::string, IndexedPod> pods_ LINTEL_GUARDED_BY(mu_);    // by uid
  // Deployment uid -> its Pods' uids; namespace -> uids of Pods with no controller.
  std::unordered_map<std::string, std::unordered_set<std::string>> by_owner_
      LINTEL_GUARDED_BY(mu_);
  std::unordered_map<std::string, std::unordered_set<std::string>> orphans_
      LINTEL_GUARDED_BY(mu_);
  Expectations expectations_ LINTEL_GUARDED_BY(mu_);
  std::unordered_map<std::string, Backoff> backoff_ LINTEL_GUARDED_BY(mu_);  // by key
  std::unordered_map<std::string, int> retries_ LINTEL_GUARDED_BY(mu_);      // by key
};

}  // namespace lintel::controllers::deployment
