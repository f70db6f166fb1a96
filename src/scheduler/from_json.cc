#include "scheduler/from_json.h"

#include <cmath>

#include "scheduler/from_json_util.h"

namespace lintel::scheduler {

using json_util::FieldError;
using json_util::Get;

namespace {

Result<TaintEffect> ParseEffect(const Json& j, std::string_view what, const std::string& field) {
  if (j == "NoSchedule") {
    return TaintEffect::kNoSchedule;
  }
  if (j == "PreferNoSchedule") {
    return TaintEffect::kPreferNoSchedule;
  }
  if (j == "NoExecute") {
    return TaintEffect::kNoExecute;
  }
  return FieldError(what, field, "must be NoSchedule, PreferNoSchedule or NoExecute");
}

Status ParseTaints(const Json& taints, std::string_view what, HostInfo* h) {
  if (taints.is_null()) {
    return Status::Ok();
  }
  if (!taints.is_array()) {
    return FieldError(what, "spec.taints", "must be an array");
  }
  for (size_t i = 0; i < taints.size(); ++i) {
    const std::string field = "spec.taints[" + std::to_string(i) + "]";
    Taint t;
    LINTEL_ASSIGN_OR_RETURN(t.key, json_util::String(Get(taints[i], "key"), what, field + ".key"));
    LINTEL_ASSIGN_OR_RETURN(t.value,
                            json_util::String(Get(taints[i], "value"), what, field + ".value"));
    LINTEL_ASSIGN_OR_RETURN(t.effect,
                            ParseEffect(Get(taints[i], "effect"), what, field + ".effect"));
    h->taints.push_back(std::move(t));
  }
  return Status::Ok();
}

Status ParseOvercommit(const Json& o, std::string_view what, Overcommit* out) {
  struct Field {
    const char* name;
    int64_t* ratio;
  };
  for (Field f : {Field{"vmCpu", &out->vm_cpu}, Field{"vmMemory", &out->vm_memory},
                  Field{"containerCpu", &out->container_cpu},
                  Field{"containerMemory", &out->container_memory}}) {
    const Json& v = Get(o, f.name);
    if (v.is_null()) {
      continue;
    }
    const std::string field = std::string("spec.overcommit.") + f.name;
    if (!v.is_number() || !(v.get<double>() > 0) || v.get<double>() > 64) {
      return FieldError(what, field, "must be a number greater than 0 and at most 64");
    }
    *f.ratio = std::max<int64_t>(1, std::llround(v.get<double>() * kRatioScale));
  }
  return Status::Ok();
}

// status.allocatable.<name>, else status.capacity.<name>.
Result<int64_t> Allocatable(const Json& status, const char* name, bool milli, int64_t absent,
                            std::string_view what) {
  for (const char* list : {"allocatable", "capacity"}) {
    const Json& v = Get(Get(status, list), name);
    if (!v.is_null()) {
      return json_util::Quantity(v, milli, what, std::string("status.") + list + "." + name);
    }
  }
  return absent;
}

}  // namespace

Result<HostInfo> HostFromJson(const Json& host) {
  HostInfo h;
  const Json& meta = Get(host, "metadata");
  LINTEL_ASSIGN_OR_RETURN(h.name, json_util::String(Get(meta, "name"), "host", "metadata.name"));
  if (h.name.empty()) {
    return FieldError("host", "metadata.name", "required");
  }
  const std::string what = "host " + h.name;
  LINTEL_ASSIGN_OR_RETURN(h.labels,
                          json_util::StringMap(Get(meta, "labels"), what, "metadata.labels"));

  const Json& spec = Get(host, "spec");
  const Json& unschedulable = Get(spec, "unschedulable");
  if (!unschedulable.is_null() && !unschedulable.is_boolean()) {
    return FieldError(what, "spec.unschedulable", "must be a boolean");
  }
  h.unschedulable = unschedulable == true;
  LINTEL_RETURN_IF_ERROR(ParseTaints(Get(spec, "taints"), what, &h));
  LINTEL_RETURN_IF_ERROR(ParseOvercommit(Get(spec, "overcommit"), what, &h.overcommit));

  const Json& status = Get(host, "status");
  LINTEL_ASSIGN_OR_RETURN(h.allocatable.cpu, Allocatable(status, "cpu", true, 0, what));
  LINTEL_ASSIGN_OR_RETURN(h.allocatable.memory, Allocatable(status, "memory", false, 0, what));
  LINTEL_ASSIGN_OR_RETURN(h.allocatable.pods,
                          Allocatable(status, "pods", false, kUnlimitedCount, what));
  LINTEL_ASSIGN_OR_RETURN(h.allocatable.vms,
                          Allocatable(status, "vms", false, kUnlimitedCount, what));

  h.ready = false;
  const Json& conditions = Get(status, "conditions");
  if (conditions.is_array()) {
    for (const Json& c : conditions) {
      if (Get(c, "type") == "Ready") {
        h.ready = Get(c, "status") == "True";
      }
    }
  }
  const Json& runtime = Get(status, "runtime");
  const Json& accel = Get(runtime, "accelerator");
  if (accel == "kvm") {
    h.accelerator = Accelerator::kKvm;
  } else if (accel == "tcg") {
    h.accelerator = Accelerator::kTcg;
  } else if (!accel.is_null() && accel != "none") {
    return FieldError(what, "status.runtime.accelerator", "must be kvm, tcg or none");
  }
  h.sandbox = Get(runtime, "sandbox") == true;
  return h;
}

}  // namespace lintel::scheduler
