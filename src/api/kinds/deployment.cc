#include <optional>

#include "api/kinds/common_schemas.h"
#include "api/kinds/kinds.h"
#include "apimachinery/labels.h"

namespace lintel::api {

namespace {

// kube's ValidateRollingUpdateDeployment: each fencepost is a non-negative
// int or "N%" (at most 100% for maxUnavailable), and not both zero.
void ValidateRollingUpdate(const Json& rolling, std::vector<Cause>* causes) {
  if (!rolling.is_object()) return;
  auto check = [&](const char* field, bool max100) -> std::optional<int64_t> {
    auto it = rolling.find(field);
    if (it == rolling.end() || it->is_null()) return std::nullopt;
    const std::string path = std::string("spec.strategy.rollingUpdate.") + field;
    if (it->is_number_integer()) {
      if (it->get<int64_t>() >= 0) return it->get<int64_t>();
      causes->push_back(InvalidValue(path, *it, "must be greater than or equal to 0"));
      return std::nullopt;
    }
    const std::string s = it->is_string() ? it->get<std::string>() : "";
    if (s.size() < 2 || s.size() > 8 || s.back() != '%' ||
        s.find_first_not_of("0123456789") != s.size() - 1) {
      causes->push_back(InvalidValue(path, *it,
                                     "a valid percent string must be a numeric string followed "
                                     "by an ending '%' (e.g. '1%',  or '93%', regex used for "
                                     "validation is '[0-9]+%')"));
      return std::nullopt;
    }
    const int64_t n = std::stoll(s.substr(0, s.size() - 1));
    if (max100 && n > 100) {
      causes->push_back(InvalidValue(path, *it, "must not be greater than 100%"));
      return std::nullopt;
    }
    return n;
  };
  auto surge = check("maxSurge", false);
  auto unavailable = check("maxUnavailable", true);
  if (surge == 0 && unavailable == 0) {
    causes->push_back(InvalidValue("spec.strategy.rollingUpdate.maxUnavailable",
                                   rolling["maxUnavailable"],
                                   "may not be 0 when `maxSurge` is 0"));
  }
}

}  // namespace

KindInfo DeploymentKind() {
  KindInfo k;
  k.kind = "Deployment";
  k.plural = "deployments";
  k.singular = "deployment";
  k.short_names = {"deploy"};
  k.categories = {"all"};
  k.description = "Replicas of a Pod template, updated by rolling out new Pods.";
  Schema spec = Object({
      {"replicas", Int().Min(0).Default(1).Doc("Desired number of Pods.")},
      {"selector", LabelSelectorSchema().Required().Immutable().Doc(
                       "Which Pods belong to this Deployment; must match the template's "
                       "labels.")},
      {"template", Object({
                       {"metadata", Object({
                                        {"labels", StringMap()},
                                        {"annotations", StringMap()},
                                    })},
                       {"spec", PodSpecSchema().Required()},
                   }).Required().Doc("The Pod to replicate.")},
      {"strategy", Object({
                       {"type", String().Enum({"RollingUpdate", "Recreate"}).Default(
                                    "RollingUpdate")},
                       {"rollingUpdate", Object({
                                             {"maxSurge", IntOrString().Default("25%")},
                                             {"maxUnavailable", IntOrString().Default("25%")},
                                         })},
                   }).Default(Json::object())},
      {"minReadySeconds", Int().Min(0).Default(0)},
      {"revisionHistoryLimit", Int().Min(0).Default(10)},
      {"progressDeadlineSeconds", Int().Min(1).Default(600)},
      {"paused", Bool()},
  });
  Schema status = Object({
      {"observedGeneration", Int()},
      {"replicas", Int()},
      {"updatedReplicas", Int()},
      {"readyReplicas", Int()},
      {"availableReplicas", Int()},
      {"unavailableReplicas", Int()},
      {"conditions", ConditionsSchema()},
  });
  k.schema = ObjectSchema(spec, status);
  k.scale = ScaleInfo{"/spec/replicas", "/status/replicas", "/spec/selector"};
  k.validate = [](const Json& obj, const Json*, std::vector<Cause>* causes) {
    ValidateRollingUpdate(At(obj, "/spec/strategy/rollingUpdate"), causes);
    const Json& selector = At(obj, "/spec/selector");
    const Json& labels = At(obj, "/spec/template/metadata/labels");
    auto sel = apimachinery::LabelSelector::FromJson(selector);
    if (!sel.ok()) return;  // reported by the schema
    if (sel->Empty()) {
      causes->push_back(InvalidValue("spec.selector", selector, "empty selector is invalid for "
                                                               "deployment"));
      return;
    }
    if (!sel->Matches(labels.is_object() ? labels : Json::object())) {
      causes->push_back(InvalidValue("spec.template.metadata.labels",
                                     labels.is_null() ? Json::object() : labels,
                                     "`selector` does not match template `labels`"));
    }
  };
  auto ratio = [](const char* field) {
    return [p = std::string("/status/") + field](const Json& o, auto) -> Json {
      const Json& v = At(o, p);
      return v.is_number() ? v : Json(0);
    };
  };
  k.columns = {
      {"Ready", "string", "", "Ready of desired replicas.", 0,
       [](const Json& o, auto) -> Json {
         const Json& r = At(o, "/status/readyReplicas");
         const Json& d = At(o, "/spec/replicas");
         return std::to_string(r.is_number() ? r.get<int64_t>() : 0) + "/" +
                std::to_string(d.is_number() ? d.get<int64_t>() : 0);
       }},
      {"Up-to-date", "integer", "", "Replicas of the current template.", 0,
       ratio("updatedReplicas")},
      {"Available", "integer", "", "Replicas ready for minReadySeconds.", 0,
       ratio("availableReplicas")},
      {"Images", "string", "", "Container images.", 1,
       [](const Json& o, auto) -> Json {
         std::string out;
         const Json& cs = At(o, "/spec/template/spec/containers");
         if (cs.is_array()) {
           for (const auto& c : cs) {
             if (!out.empty()) out += ",";
             out += c.value("image", "");
           }
         }
         return out;
       }},
      {"Selector", "string", "", "Label selector.", 1,
       [](const Json& o, auto) -> Json {
         auto sel = apimachinery::LabelSelector::FromJson(At(o, "/spec/selector"));
         return sel.ok() ? sel->ToString() : "";
       }},
  };
  return k;
}

}  // namespace lintel::api
