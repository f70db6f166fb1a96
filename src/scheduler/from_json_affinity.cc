#include "apimachinery/labels.h"
#include "scheduler/from_json_util.h"

namespace lintel::scheduler::json_util {

using apimachinery::LabelRequirement;
using apimachinery::LabelSelector;
using apimachinery::SelectorOperator;

namespace {

std::string Index(const std::string& field, size_t i) {
  return field + "[" + std::to_string(i) + "]";
}

Result<SelectorOperator> HostOperator(const Json& op, std::string_view what,
                                      const std::string& field) {
  static constexpr std::pair<const char*, SelectorOperator> kOps[] = {
      {"In", SelectorOperator::kIn},          {"NotIn", SelectorOperator::kNotIn},
      {"Exists", SelectorOperator::kExists},  {"DoesNotExist", SelectorOperator::kDoesNotExist},
      {"Gt", SelectorOperator::kGreaterThan}, {"Lt", SelectorOperator::kLessThan},
  };
  for (const auto& [name, value] : kOps) {
    if (op == name) {
      return value;
    }
  }
  return FieldError(what, field, "must be In, NotIn, Exists, DoesNotExist, Gt or Lt");
}

// A hostSelectorTerm: matchExpressions ANDed. An empty term matches no host (as kube's
// "null or empty node selector term matches no objects").
Result<LabelSelector> HostTerm(const Json& term, std::string_view what, const std::string& field) {
  const Json& exprs = Get(term, "matchExpressions");
  if (!exprs.is_null() && !exprs.is_array()) {
    return FieldError(what, field + ".matchExpressions", "must be an array");
  }
  if (exprs.is_null() || exprs.empty()) {
    return LabelSelector::Nothing();
  }
  LabelSelector s;
  for (size_t i = 0; i < exprs.size(); ++i) {
    const std::string f = Index(field + ".matchExpressions", i);
    std::string key;
    LINTEL_ASSIGN_OR_RETURN(key, String(Get(exprs[i], "key"), what, f + ".key"));
    SelectorOperator op;
    LINTEL_ASSIGN_OR_RETURN(op, HostOperator(Get(exprs[i], "operator"), what, f + ".operator"));
    std::vector<std::string> values;
    const Json& vs = Get(exprs[i], "values");
    if (!vs.is_null() && !vs.is_array()) {
      return FieldError(what, f + ".values", "must be an array");
    }
    for (size_t j = 0; vs.is_array() && j < vs.size(); ++j) {
      if (!vs[j].is_string()) {
        return FieldError(what, Index(f + ".values", j), "must be a string");
      }
      values.push_back(vs[j].get<std::string>());
    }
    auto r = LabelRequirement::Make(std::move(key), op, std::move(values));
    if (!r.ok()) {
      return FieldError(what, f, r.error().message());
    }
    s.Add(std::move(*r));
  }
  return s;
}

Result<WorkloadTerm> Term(const Json& term, std::string_view what, const std::string& field) {
  WorkloadTerm t;
  auto selector = LabelSelector::FromJson(Get(term, "labelSelector"));
  if (!selector.ok()) {
    return FieldError(what, field + ".labelSelector", selector.error().message());
  }
  t.selector = std::move(*selector);
  const Json& namespaces = Get(term, "namespaces");
  if (!namespaces.is_null() && !namespaces.is_array()) {
    return FieldError(what, field + ".namespaces", "must be an array");
  }
  for (size_t i = 0; namespaces.is_array() && i < namespaces.size(); ++i) {
    if (!namespaces[i].is_string()) {
      return FieldError(what, Index(field + ".namespaces", i), "must be a string");
    }
    t.namespaces.push_back(namespaces[i].get<std::string>());
  }
  LINTEL_ASSIGN_OR_RETURN(t.topology_key,
                          String(Get(term, "topologyKey"), what, field + ".topologyKey"));
  if (t.topology_key.empty()) {
    return FieldError(what, field + ".topologyKey", "required");
  }
  return t;
}

Result<int32_t> Weight(const Json& j, std::string_view what, const std::string& field) {
  if (!j.is_number_integer() || j.get<int64_t>() < 1 || j.get<int64_t>() > 100) {
    return FieldError(what, field + ".weight", "must be an integer from 1 to 100");
  }
  return static_cast<int32_t>(j.get<int64_t>());
}

// Iterates an optional array at `field`.
template <typename Each>
Status ForEach(const Json& list, std::string_view what, const std::string& field, Each&& each) {
  if (list.is_null()) {
    return Status::Ok();
  }
  if (!list.is_array()) {
    return FieldError(what, field, "must be an array");
  }
  for (size_t i = 0; i < list.size(); ++i) {
    LINTEL_RETURN_IF_ERROR(each(list[i], Index(field, i)));
  }
  return Status::Ok();
}

Status WorkloadTerms(const Json& block, std::string_view what, const std::string& field,
                     std::vector<WorkloadTerm>* required,
                     std::vector<WeightedWorkloadTerm>* preferred) {
  LINTEL_RETURN_IF_ERROR(ForEach(Get(block, "requiredDuringScheduling"), what,
                                 field + ".requiredDuringScheduling",
                                 [&](const Json& j, const std::string& f) -> Status {
                                   LINTEL_ASSIGN_OR_RETURN(auto t, Term(j, what, f));
                                   required->push_back(std::move(t));
                                   return Status::Ok();
                                 }));
  return ForEach(
      Get(block, "preferredDuringScheduling"), what, field + ".preferredDuringScheduling",
      [&](const Json& j, const std::string& f) -> Status {
        WeightedWorkloadTerm wt;
        LINTEL_ASSIGN_OR_RETURN(wt.weight, Weight(Get(j, "weight"), what, f));
        LINTEL_ASSIGN_OR_RETURN(
            wt.term, Term(Get(j, "workloadAffinityTerm"), what, f + ".workloadAffinityTerm"));
        preferred->push_back(std::move(wt));
        return Status::Ok();
      });
}

}  // namespace

Status ParseAffinity(const Json& affinity, std::string_view what, WorkloadInfo* w) {
  const std::string base = "spec.affinity";
  const Json& host = Get(affinity, "hostAffinity");
  LINTEL_RETURN_IF_ERROR(ForEach(Get(Get(host, "requiredDuringScheduling"), "hostSelectorTerms"),
                                 what,
                                 base + ".hostAffinity.requiredDuringScheduling.hostSelectorTerms",
                                 [&](const Json& j, const std::string& f) -> Status {
                                   LINTEL_ASSIGN_OR_RETURN(auto s, HostTerm(j, what, f));
                                   w->required_host_terms.push_back(std::move(s));
                                   return Status::Ok();
                                 }));
  LINTEL_RETURN_IF_ERROR(
      ForEach(Get(host, "preferredDuringScheduling"), what,
              base + ".hostAffinity.preferredDuringScheduling",
              [&](const Json& j, const std::string& f) -> Status {
                PreferredHostTerm p;
                LINTEL_ASSIGN_OR_RETURN(p.weight, Weight(Get(j, "weight"), what, f));
                LINTEL_ASSIGN_OR_RETURN(p.preference,
                                        HostTerm(Get(j, "preference"), what, f + ".preference"));
                w->preferred_host_terms.push_back(std::move(p));
                return Status::Ok();
              }));
  LINTEL_RETURN_IF_ERROR(WorkloadTerms(Get(affinity, "workloadAffinity"), what,
                                       base + ".workloadAffinity", &w->required_affinity,
                                       &w->preferred_affinity));
  return WorkloadTerms(Get(affinity, "workloadAntiAffinity"), what, base + ".workloadAntiAffinity",
                       &w->required_anti_affinity, &w->preferred_anti_affinity);
}

}  // namespace lintel::scheduler::json_util
