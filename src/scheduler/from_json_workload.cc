#include "scheduler/from_json.h"
#include "scheduler/from_json_util.h"

namespace lintel::scheduler {

using json_util::FieldError;
using json_util::Get;

namespace {

Status ParseTolerations(const Json& list, std::string_view what, WorkloadInfo* w) {
  if (list.is_null()) {
    return Status::Ok();
  }
  if (!list.is_array()) {
    return FieldError(what, "spec.tolerations", "must be an array");
  }
  for (size_t i = 0; i < list.size(); ++i) {
    const std::string field = "spec.tolerations[" + std::to_string(i) + "]";
    const Json& j = list[i];
    Toleration t;
    LINTEL_ASSIGN_OR_RETURN(t.key, json_util::String(Get(j, "key"), what, field + ".key"));
    LINTEL_ASSIGN_OR_RETURN(t.value, json_util::String(Get(j, "value"), what, field + ".value"));
    const Json& op = Get(j, "operator");
    if (op == "Exists") {
      t.exists = true;
    } else if (!op.is_null() && op != "Equal") {
      return FieldError(what, field + ".operator", "must be Exists or Equal");
    }
    const Json& effect = Get(j, "effect");
    if (effect == "NoSchedule") {
      t.effect = TaintEffect::kNoSchedule;
    } else if (effect == "PreferNoSchedule") {
      t.effect = TaintEffect::kPreferNoSchedule;
    } else if (effect == "NoExecute") {
      t.effect = TaintEffect::kNoExecute;
    } else if (!effect.is_null() && effect != "") {
      return FieldError(what, field + ".effect",
                        "must be NoSchedule, PreferNoSchedule, NoExecute or empty");
    }
    w->tolerations.push_back(std::move(t));
  }
  return Status::Ok();
}

// Sum of the containers' requests (a missing request defaults to the limit, as in kube).
Status ParsePodResources(const Json& spec, std::string_view what, WorkloadInfo* w) {
  const Json& containers = Get(spec, "containers");
  if (!containers.is_null() && !containers.is_array()) {
    return FieldError(what, "spec.containers", "must be an array");
  }
  for (size_t i = 0; containers.is_array() && i < containers.size(); ++i) {
    const std::string field = "spec.containers[" + std::to_string(i) + "].resources";
    const Json& resources = Get(containers[i], "resources");
    for (const char* name : {"cpu", "memory"}) {
      const bool cpu = name[0] == 'c';
      for (const char* list : {"requests", "limits"}) {
        const Json& v = Get(Get(resources, list), name);
        if (v.is_null()) {
          continue;
        }
        int64_t amount;
        LINTEL_ASSIGN_OR_RETURN(amount,
                                json_util::Quantity(v, cpu, what, field + "." + list + "." + name));
        (cpu ? w->requests.cpu : w->requests.memory) += amount;
        break;
      }
    }
  }
  const Json& isolation = Get(spec, "isolation");
  if (isolation == "vm") {
    w->needs_sandbox = true;
    w->overhead = kSandboxOverhead;
  } else if (!isolation.is_null() && isolation != "container") {
    return FieldError(what, "spec.isolation", "must be container or vm");
  }
  return Status::Ok();
}

Status ParseVmResources(const Json& spec, std::string_view what, WorkloadInfo* w) {
  const Json& cpu = Get(spec, "cpu");
  int64_t vcpus = 1;
  if (!cpu.is_null()) {
    if (!cpu.is_number_integer() || cpu.get<int64_t>() < 1 || cpu.get<int64_t>() > 256) {
      return FieldError(what, "spec.cpu", "must be an integer from 1 to 256");
    }
    vcpus = cpu.get<int64_t>();
  }
  int64_t memory = int64_t{256} << 20;
  if (const Json& m = Get(spec, "memory"); !m.is_null()) {
    LINTEL_ASSIGN_OR_RETURN(memory, json_util::Quantity(m, false, what, "spec.memory"));
  }
  w->requests.cpu = vcpus * 1000;
  w->requests.memory = memory;
  w->overhead.memory = VmMemoryOverhead(memory, vcpus);
  const Json& accel = Get(spec, "accelerator");
  if (accel == "KVM") {
    w->requires_kvm = true;
  } else if (!accel.is_null() && accel != "Auto" && accel != "TCG") {
    return FieldError(what, "spec.accelerator", "must be Auto, KVM or TCG");
  }
  return Status::Ok();
}

Status ParsePlacement(const Json& spec, std::string_view what, WorkloadInfo* w) {
  const Json& priority = Get(spec, "priority");
  if (!priority.is_null()) {
    if (!priority.is_number_integer() || priority.get<int64_t>() < -1000000000 ||
        priority.get<int64_t>() > 1000000000) {
      return FieldError(what, "spec.priority", "must be an integer within +/-1000000000");
    }
    w->priority = static_cast<int32_t>(priority.get<int64_t>());
  }
  const Json& policy = Get(spec, "schedulingPolicy");
  if (policy == "Spread") {
    w->policy = Policy::kSpread;
  } else if (!policy.is_null() && policy != "BinPack" && policy != "") {
    return FieldError(what, "spec.schedulingPolicy", "must be BinPack or Spread");
  }
  LINTEL_ASSIGN_OR_RETURN(w->pinned_host, json_util::String(Get(spec, "host"), what, "spec.host"));
  LINTEL_ASSIGN_OR_RETURN(
      w->host_selector, json_util::StringMap(Get(spec, "hostSelector"), what, "spec.hostSelector"));
  LINTEL_RETURN_IF_ERROR(ParseTolerations(Get(spec, "tolerations"), what, w));
  return json_util::ParseAffinity(Get(spec, "affinity"), what, w);
}

}  // namespace

Result<WorkloadInfo> WorkloadFromJson(const Json& object) {
  WorkloadInfo w;
  const Json& kind = Get(object, "kind");
  if (kind == "Pod") {
    w.kind = WorkloadKind::kPod;
  } else if (kind == "VirtualMachine") {
    w.kind = WorkloadKind::kVirtualMachine;
  } else {
    return FieldError("workload", "kind", "must be Pod or VirtualMachine");
  }
  const std::string kind_name = kind.get<std::string>();
  const Json& meta = Get(object, "metadata");
  LINTEL_ASSIGN_OR_RETURN(w.name, json_util::String(Get(meta, "name"), kind_name, "metadata.name"));
  if (w.name.empty()) {
    return FieldError(kind_name, "metadata.name", "required");
  }
  LINTEL_ASSIGN_OR_RETURN(
      w.ns, json_util::String(Get(meta, "namespace"), kind_name, "metadata.namespace"));
  if (w.ns.empty()) {
    w.ns = "default";
  }
  const std::string what = kind_name + " " + w.Key();
  LINTEL_ASSIGN_OR_RETURN(w.uid, json_util::String(Get(meta, "uid"), what, "metadata.uid"));
  if (w.uid.empty()) {
    w.uid = w.Key();  // not stored yet (tests, dry runs): the key identifies it
  }
  LINTEL_ASSIGN_OR_RETURN(w.labels,
                          json_util::StringMap(Get(meta, "labels"), what, "metadata.labels"));
  const Json& spec = Get(object, "spec");
  if (w.kind == WorkloadKind::kPod) {
    LINTEL_RETURN_IF_ERROR(ParsePodResources(spec, what, &w));
  } else {
    LINTEL_RETURN_IF_ERROR(ParseVmResources(spec, what, &w));
  }
  LINTEL_RETURN_IF_ERROR(ParsePlacement(spec, what, &w));
  return w;
}

}  // namespace lintel::scheduler
