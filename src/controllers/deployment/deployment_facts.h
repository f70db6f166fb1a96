// From JSON to the Deployment controller's facts and back: what planning
// needs of a Deployment and of a Pod, the template hash, and the Pod a
// Deployment creates. Pure functions; any thread.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "common/json.h"
#include "common/status.h"
#include "controllers/deployment/deployment_plan.h"

namespace lintel::controllers::deployment {

// A Pod as the controller's index keeps it: the planning facts plus what
// ownership and adoption need. No Pod JSON is kept.
struct IndexedPod {
  PodFacts facts;
  std::string ns;
  std::string controller_uid;  // the ownerReference with controller: true; "" if none
  std::vector<std::pair<std::string, std::string>> labels;
  bool operator==(const IndexedPod&) const = default;
};

IndexedPod IndexedPodOf(const Json& pod);

// Reads spec (replicas, strategy, minReadySeconds, ...) and the revision
// annotations; `hash` is the current template's. Invalid when a field the
// schema should have refused is malformed (maxSurge "abc").
Result<DeploymentFacts> DeploymentFactsOf(const Json& deployment);

// kube's intstr from JSON: 3 or "25%". Invalid otherwise.
Result<IntOrPercent> ParseIntOrPercent(const Json& v);

// A stable hash of the template's canonical JSON (keys sorted): 10 hex digits.
std::string TemplateHash(const Json& pod_template);

// The template hash the Deployment's revision was written for
// (kRevisionHashAnnotation), "" if none.
std::string RevisionHashOf(const Json& deployment);

// The Pod to create for `deployment` at `revision`: the template's labels plus
// pod-template-hash, its annotations plus lintel.dev/revision, generateName
// "<deployment>-<hash>-", and a controller ownerReference to the Deployment.
Json PodFromTemplate(const Json& deployment, const std::string& hash, int64_t revision);

// The ownerReference a Deployment's Pods carry.
Json ControllerRef(const Json& deployment);

}  // namespace lintel::controllers::deployment
