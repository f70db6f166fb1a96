#include "api/kinds/common_schemas.h"

#include "apimachinery/labels.h"

namespace lintel::api {

void CheckLabelSelector(const Json& value, const std::string& path, std::vector<Cause>* causes) {
  auto sel = apimachinery::LabelSelector::FromJson(value);
  if (!sel.ok()) {
    if (!sel.error().causes().empty()) {
      for (const auto& c : sel.error().causes()) {
        Cause copy = c;
        if (copy.field.empty()) copy.field = path;
        else if (copy.field.rfind(path, 0) != 0) copy.field = JoinPath(path, copy.field);
        causes->push_back(std::move(copy));
      }
    } else {
      causes->push_back(InvalidValue(path, value, sel.error().message()));
    }
  }
}

Schema LabelSelectorSchema() {
  return Object({
             {"matchLabels", StringMap().Doc("Labels that must all match (AND).")},
             {"matchExpressions",
              Array(Object({
                  {"key", String().Required().Doc("The label key.")},
                  {"operator", String()
                                   .Required()
                                   .Enum({"In", "NotIn", "Exists", "DoesNotExist"})
                                   .Doc("How the key relates to the values.")},
                  {"values", Array(String()).Doc("Values for In and NotIn.")},
              })).Doc("Set-based requirements (AND).")},
         })
      .Check(CheckLabelSelector)
      .Doc("A label query over Pods and VirtualMachines alike.");
}

Schema ConditionSchema() {
  return Object({
      {"type", String().Required().Doc("The condition's type, e.g. Ready.")},
      {"status", String().Required().Enum({"True", "False", "Unknown"}).Doc("True, False or Unknown.")},
      {"reason", String().Doc("One CamelCase word for the last transition.")},
      {"message", String().Doc("Details for people.")},
      {"lastTransitionTime", Time().Doc("When status last changed.")},
      {"lastUpdateTime", Time().Doc("When the condition was last updated (Deployments).")},
      {"lastHeartbeatTime", Time().Doc("When the reporter last confirmed the condition.")},
      {"observedGeneration", Int().Doc("The generation the condition was computed for.")},
  });
}

Schema ConditionsSchema() {
  return Array(ConditionSchema()).ListMap({"type"}).Doc("Current observations of state.");
}

Schema TaintSchema() {
  return Object({
      {"key", String().Required().WithFormat(Format::kQualifiedName).Doc("The taint key.")},
      {"value", String().Doc("The taint value.")},
      {"effect", String()
                     .Required()
                     .Enum({"NoSchedule", "PreferNoSchedule", "NoExecute"})
                     .Doc("What happens to workloads that do not tolerate the taint.")},
  });
}

Schema TolerationSchema() {
  return Object({
      {"key", String().Doc("The taint key; empty with operator Exists matches every taint.")},
      {"operator", String().Enum({"Exists", "Equal"}).Doc("Exists or Equal (default).")},
      {"value", String().Doc("The taint value for Equal.")},
      {"effect", String()
                     .Enum({"", "NoSchedule", "PreferNoSchedule", "NoExecute"})
                     .Doc("The effect to tolerate; empty tolerates all.")},
      {"tolerationSeconds", Int().Doc("For NoExecute: how long to stay after the taint.")},
  });
}

namespace {

Schema WorkloadAffinityTerm() {
  return Object({
      {"labelSelector", LabelSelectorSchema().Doc(
                            "Selects Pods and VirtualMachines (by their labels).")},
      {"namespaces", Array(String()).Doc("Namespaces to look in; default: the workload's own.")},
      {"topologyKey", String()
                          .Required()
                          .Doc("Host label whose equal values form one domain, e.g. "
                               "lintel.dev/hostname.")},
  });
}

Schema WeightedTerm(Schema term, const char* field) {
  return Object({
      {"weight", Int().Min(1).Max(100).Required().Doc("1-100, added to the score when met.")},
      {field, term.Required()},
  });
}

Schema HostSelectorTerm() {
  return Object({
      {"matchExpressions",
       Array(Object({
           {"key", String().Required()},
           {"operator", String().Required().Enum({"In", "NotIn", "Exists", "DoesNotExist", "Gt",
                                                  "Lt"})},
           {"values", Array(String())},
       })).Doc("Requirements on the Host's labels.")},
  });
}

}  // namespace

Schema AffinitySchema() {
  return Object({
      {"hostAffinity",
       Object({
           {"requiredDuringScheduling",
            Object({{"hostSelectorTerms", Array(HostSelectorTerm()).Doc("ORed terms.")}})},
           {"preferredDuringScheduling",
            Array(WeightedTerm(HostSelectorTerm(), "preference"))},
       }).Doc("Which Hosts, by their labels.")},
      {"workloadAffinity",
       Object({
           {"requiredDuringScheduling", Array(WorkloadAffinityTerm())},
           {"preferredDuringScheduling",
            Array(WeightedTerm(WorkloadAffinityTerm(), "workloadAffinityTerm"))},
       }).Doc("Run near Pods and VirtualMachines matching these selectors.")},
      {"workloadAntiAffinity",
       Object({
           {"requiredDuringScheduling", Array(WorkloadAffinityTerm())},
           {"preferredDuringScheduling",
            Array(WeightedTerm(WorkloadAffinityTerm(), "workloadAffinityTerm"))},
       }).Doc("Stay apart from Pods and VirtualMachines matching these selectors.")},
  });
}

Schema ResourceListSchema() {
  return MapOf(QuantityType().NonNegative()).Doc("Resource name to quantity (cpu, memory, ...).");
}

Schema PortNumber() { return Int().Min(1).Max(65535); }

std::vector<Property> PlacementProperties() {
  return {
      {"host", String().WithFormat(Format::kDns1123Subdomain).Doc(
                   "Pin to this Host, bypassing the scheduler's choice (its filters still "
                   "apply).")},
      {"hostSelector", StringMap().Doc("Labels the Host must have.")},
      {"tolerations", Array(TolerationSchema()).Doc("Taints this workload tolerates.")},
      {"affinity", AffinitySchema()},
      {"priority", Int().Min(-1000000000).Max(1000000000).Default(0).Doc(
                       "Higher runs first and may preempt lower-priority Pods.")},
      {"schedulingPolicy", String().Enum({"", "BinPack", "Spread"}).Doc(
                               "BinPack (most allocated) or Spread (least allocated); default "
                               "from the namespace, else BinPack.")},
  };
}

Schema ProbeSchema() {
  return Object({
      {"exec", Object({{"command", Array(String()).Required()}}).Doc("Run a command.")},
      {"httpGet", Object({
                      {"path", String().Doc("Default /.")},
                      {"port", IntOrString().Required()},
                      {"host", String()},
                      {"scheme", String().Enum({"HTTP", "HTTPS"}).Doc("Default HTTP.")},
                  }).Doc("An HTTP GET; 200-399 is success.")},
      {"tcpSocket", Object({{"port", IntOrString().Required()}}).Doc("A TCP connect.")},
      {"initialDelaySeconds", Int().Min(0).Doc("Default 0.")},
      {"periodSeconds", Int().Min(1).Doc("Default 10.")},
      {"timeoutSeconds", Int().Min(1).Doc("Default 1.")},
      {"successThreshold", Int().Min(1).Doc("Default 1.")},
      {"failureThreshold", Int().Min(1).Doc("Default 3.")},
  }).Check([](const Json& v, const std::string& path, std::vector<Cause>* causes) {
    int handlers = 0;
    for (const char* h : {"exec", "httpGet", "tcpSocket"}) {
      if (v.contains(h) && !v[h].is_null()) ++handlers;
    }
    if (handlers != 1) {
      causes->push_back(handlers == 0 ? RequiredValue(path, "must specify a handler type")
                                      : ForbiddenField(path, "may not specify more than 1 "
                                                             "handler type"));
    }
  });
}

Schema ContainerSchema() {
  return Object({
      {"name", String().Required().WithFormat(Format::kDns1123Label).Doc(
                   "Unique within the Pod.")},
      {"image", String().Required().Doc("An OCI image reference, e.g. busybox or "
                                        "registry:5000/app:1.2.")},
      {"imagePullPolicy", String().Enum({"Always", "IfNotPresent", "Never"}).Doc(
                              "Default: Always for :latest, else IfNotPresent.")},
      {"command", Array(String()).Doc("Entrypoint; default: the image's.")},
      {"args", Array(String()).Doc("Arguments; default: the image's.")},
      {"workingDir", String()},
      {"env", Array(Object({
                        {"name", String().Required()},
                        {"value", String()},
                    }))
                  .ListMap({"name"})
                  .Doc("Environment variables.")},
      {"ports", Array(Object({
                          {"name", String().WithFormat(Format::kDns1123Label)},
                          {"containerPort", PortNumber().Required()},
                          {"protocol", String().Enum({"TCP", "UDP"}).Doc("Default TCP.")},
                      }))
                    .ListMap({"containerPort", "protocol"})
                    .Doc("Ports the container listens on (informational; used by Services "
                         "by name).")},
      {"resources", Object({
                        {"requests", ResourceListSchema().Doc(
                                         "What the scheduler reserves: cpu, memory.")},
                        {"limits", ResourceListSchema().Doc(
                                       "Hard caps enforced by cgroups: cpu, memory.")},
                    })},
      {"livenessProbe", ProbeSchema().Doc("Restart the container when this fails.")},
      {"readinessProbe", ProbeSchema().Doc("Remove from Service endpoints when this fails.")},
      {"startupProbe", ProbeSchema().Doc("Hold the other probes until this succeeds.")},
      {"securityContext",
       Object({
           {"runAsUser", Int().Min(0)},
           {"runAsGroup", Int().Min(0)},
           {"readOnlyRootFilesystem", Bool()},
           {"allowPrivilegeEscalation", Bool()},
           {"capabilities", Object({
                                {"add", Array(String())},
                                {"drop", Array(String())},
                            })},
       })},
      {"volumeMounts", Array(Object({
                                 {"name", String().Required()},
                                 {"mountPath", String().Required()},
                                 {"readOnly", Bool()},
                             }))
                           .ListMap({"mountPath"})},
      {"stdin", Bool()},
      {"tty", Bool()},
  });
}

}  // namespace lintel::api
