#include "controllers/deployment/deployment_facts.h"

#include <cstdio>

#include "api/kind.h"
#include "common/time_format.h"

namespace lintel::controllers::deployment {

namespace {

const std::string& Str(const Json& obj, const char* pointer) {
  static const std::string empty;
  const Json& v = api::At(obj, pointer);
  return v.is_string() ? v.get_ref<const std::string&>() : empty;
}

int64_t Int(const Json& obj, const char* pointer, int64_t fallback) {
  const Json& v = api::At(obj, pointer);
  return v.is_number_integer() ? v.get<int64_t>() : fallback;
}

WallTime Time(const std::string& text) {
  auto t = ParseRfc3339(text);
  return t ? *t : WallTime{};
}

Result<IntOrPercent> FenceOf(const Json& rolling, const char* field) {
  const Json* v = nullptr;
  if (rolling.is_object()) {
    auto it = rolling.find(field);
    if (it != rolling.end() && !it->is_null()) v = &*it;
  }
  if (v == nullptr) return IntOrPercent{25, true};
  auto parsed = ParseIntOrPercent(*v);
  if (!parsed.ok()) return parsed.error().Wrap(std::string("spec.strategy.rollingUpdate.") + field);
  return parsed;
}

}  // namespace

IndexedPod IndexedPodOf(const Json& pod) {
  IndexedPod out;
  PodFacts& f = out.facts;
  f.name = Str(pod, "/metadata/name");
  f.uid = Str(pod, "/metadata/uid");
  out.ns = Str(pod, "/metadata/namespace");
  f.created = Time(Str(pod, "/metadata/creationTimestamp"));
  f.deleting = !api::At(pod, "/metadata/deletionTimestamp").is_null();
  f.bound = !Str(pod, "/status/host").empty();
  const std::string& phase = Str(pod, "/status/phase");
  f.ended = phase == "Succeeded" || phase == "Failed";
  f.failed = phase == "Failed";
  const Json& conds = api::At(pod, "/status/conditions");
  if (conds.is_array()) {
    for (const auto& c : conds) {
      if (!c.is_object() || c.value("type", "") != "Ready") continue;
      f.ready = c.value("status", "") == "True";
      f.ready_since = Time(c.value("lastTransitionTime", ""));
    }
  }
  const Json& labels = api::At(pod, "/metadata/labels");
  if (labels.is_object()) {
    for (const auto& [k, v] : labels.items()) {
      if (!v.is_string()) continue;
      out.labels.emplace_back(k, v.get<std::string>());
      if (k == kTemplateHashLabel) f.hash = v.get<std::string>();
    }
  }
  const Json& refs = api::At(pod, "/metadata/ownerReferences");
  if (refs.is_array()) {
    for (const auto& r : refs) {
      if (r.is_object() && r.value("controller", false)) out.controller_uid = r.value("uid", "");
    }
  }
  return out;
}

Result<IntOrPercent> ParseIntOrPercent(const Json& v) {
  if (v.is_number_integer()) {
    const int64_t n = v.get<int64_t>();
    if (n < 0) return Invalid("must be non-negative: " + v.dump());
    return IntOrPercent{n, false};
  }
  if (v.is_string()) {
    const std::string& s = v.get_ref<const std::string&>();
    if (s.size() >= 2 && s.back() == '%' && s.size() <= 8 &&
        s.find_first_not_of("0123456789") == s.size() - 1) {
      return IntOrPercent{std::stoll(s.substr(0, s.size() - 1)), true};
    }
  }
  return Invalid("must be an integer or a percentage (\"25%\"): " + v.dump());
}

Result<DeploymentFacts> DeploymentFactsOf(const Json& deployment) {
  DeploymentFacts d;
  d.name = Str(deployment, "/metadata/name");
  d.generation = Int(deployment, "/metadata/generation", 0);
  d.replicas = Int(deployment, "/spec/replicas", 1);
  d.hash = TemplateHash(api::At(deployment, "/spec/template"));
  const Json& annotations = api::At(deployment, "/metadata/annotations");
  if (annotations.is_object()) {
    auto it = annotations.find(kRevisionAnnotation);
    if (it != annotations.end() && it->is_string()) {
      const std::string& s = it->get_ref<const std::string&>();
      if (!s.empty() && s.size() < 18 && s.find_first_not_of("0123456789") == std::string::npos) {
        d.revision = std::stoll(s);
      }
    }
  }
  d.strategy = Str(deployment, "/spec/strategy/type") == "Recreate" ? Strategy::kRecreate
                                                                    : Strategy::kRollingUpdate;
  const Json& rolling = api::At(deployment, "/spec/strategy/rollingUpdate");
  LINTEL_ASSIGN_OR_RETURN(d.max_surge, FenceOf(rolling, "maxSurge"));
  LINTEL_ASSIGN_OR_RETURN(d.max_unavailable, FenceOf(rolling, "maxUnavailable"));
  d.min_ready_seconds = Int(deployment, "/spec/minReadySeconds", 0);
  d.progress_deadline_seconds = Int(deployment, "/spec/progressDeadlineSeconds", 600);
  const Json& paused = api::At(deployment, "/spec/paused");
  d.paused = paused.is_boolean() && paused.get<bool>();
  return d;
}

std::string TemplateHash(const Json& pod_template) {
  // FNV-1a (64 bits) of the canonical dump: Json objects keep keys sorted.
  uint64_t h = 14695981039346656037ULL;
  for (unsigned char c : pod_template.dump()) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  char hex[17];
  std::snprintf(hex, sizeof(hex), "%016llx", static_cast<unsigned long long>(h));
  return std::string(hex, 10);
}

std::string RevisionHashOf(const Json& deployment) {
  const Json& annotations = api::At(deployment, "/metadata/annotations");
  if (!annotations.is_object()) return "";
  auto it = annotations.find(kRevisionHashAnnotation);
  return it != annotations.end() && it->is_string() ? it->get<std::string>() : "";
}

Json ControllerRef(const Json& deployment) {
  return {{"apiVersion", deployment.value("apiVersion", std::string(api::kGroupVersion))},
          {"kind", "Deployment"},
          {"name", Str(deployment, "/metadata/name")},
          {"uid", Str(deployment, "/metadata/uid")},
          {"controller", true},
          {"blockOwnerDeletion", true}};
}

Json PodFromTemplate(const Json& deployment, const std::string& hash, int64_t revision) {
  const Json& tmpl = api::At(deployment, "/spec/template");
  Json labels = api::At(tmpl, "/metadata/labels");
  if (!labels.is_object()) labels = Json::object();
  labels[kTemplateHashLabel] = hash;
  Json annotations = api::At(tmpl, "/metadata/annotations");
  if (!annotations.is_object()) annotations = Json::object();
  annotations[kPodRevisionAnnotation] = std::to_string(revision);
  return {{"apiVersion", api::kGroupVersion},
          {"kind", "Pod"},
          {"metadata",
           {{"generateName", Str(deployment, "/metadata/name") + "-" + hash + "-"},
            {"namespace", Str(deployment, "/metadata/namespace")},
            {"labels", std::move(labels)},
            {"annotations", std::move(annotations)},
            {"ownerReferences", Json::array({ControllerRef(deployment)})}}},
          {"spec", api::At(tmpl, "/spec")}};
}

}  // namespace lintel::controllers::deployment
