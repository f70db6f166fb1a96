#include "api/kinds/common_schemas.h"
#include "api/kinds/kinds.h"

namespace lintel::api {

KindInfo HostKind() {
  KindInfo k;
  k.kind = "Host";
  k.plural = "hosts";
  k.singular = "host";
  k.short_names = {"ho"};
  k.namespaced = false;
  k.description =
      "A machine running a Lintel agent: its capacity, what it can run (kvm or tcg, "
      "sandbox), and whether it takes new workloads.";
  Schema ratios =
      Object({
                 {"vmCpu", Number().Default(4).Doc("VM vCPUs per host CPU (default 4).")},
                 {"vmMemory", Number().Default(1).Doc("VM memory per host byte (default 1).")},
                 {"containerCpu", Number().Default(1).Doc("Container CPU requests per host CPU.")},
                 {"containerMemory",
                  Number().Default(1).Doc("Container memory requests per host byte.")},
             })
          .Check([](const Json& v, const std::string& path, std::vector<Cause>* causes) {
            for (auto it = v.begin(); it != v.end(); ++it) {
              if (it->is_number() && (it->get<double>() <= 0 || it->get<double>() > 64)) {
                causes->push_back(InvalidValue(JoinPath(path, it.key()), *it,
                                               "must be greater than 0 and at most 64"));
              }
            }
          });
  Schema spec = Object({
      {"unschedulable",
       Bool().Default(false).Doc("Maintenance: the scheduler places nothing new here.")},
      {"taints", Array(TaintSchema()).Doc("Repel workloads that do not tolerate them.")},
      {"overcommit",
       ratios.Default(Json::object()).Doc("Overcommit ratios per resource and workload kind.")},
  });
  Schema status = Object({
      {"capacity", ResourceListSchema().Doc("What the machine has: cpu, memory, pods, vms.")},
      {"allocatable", ResourceListSchema().Doc("What workloads may use (capacity minus "
                                               "reserved).")},
      {"conditions", ConditionsSchema()},
      {"addresses", Array(Object({
                        {"type", String().Doc("InternalIP or Hostname.")},
                        {"address", String()},
                    }))},
      {"runtime", Object({
                      {"accelerator", String()
                                          .Enum({"kvm", "tcg", "none"})
                                          .Doc("How VMs run here: kvm, or tcg (software "
                                               "emulation).")},
                      {"kernel", String()},
                      {"os", String()},
                      {"ociRuntime", String().Doc("runc or crun, with version.")},
                      {"qemuVersion", String()},
                      {"agentVersion", String()},
                      {"drivers", Array(String()).Doc("Drivers the agent runs.")},
                      {"sandbox", Bool().Doc("Can run isolation: vm Pods.")},
                  })},
      {"agentEndpoint",
       Object({
                  {"url", String().Doc("https://HOST:PORT of the agent's endpoint.")},
                  {"caBundle", String().Doc("PEM that signs the endpoint's certificate (pinned by "
                                            "the server).")},
              })
           .Doc("Where the API server reaches this host's agent (logs).")},
      {"podCIDR", String()
                      .WithFormat(Format::kCidr)
                      .Doc("Address range for workloads here: this Host's slice of the cluster "
                           "range, assigned by the server.")},
      {"clusterCIDR", String()
                          .WithFormat(Format::kCidr)
                          .Doc("The estate's workload range (every Host's podCIDR is in it), set "
                               "by the server.")},
      {"serviceCIDR", String()
                          .WithFormat(Format::kCidr)
                          .Doc("The estate's Service virtual IP range, set by the server.")},
      {"failover",
       Object({
                  {"vmsCanRestart", Bool().Doc("Whether every VM here could restart on the "
                                               "remaining ready hosts.")},
                  {"vms", Int().Doc("VMs on this host when checked.")},
                  {"unplaced", Array(String()).Doc("VMs (namespace/name) without room "
                                                   "elsewhere.")},
                  {"message", String()},
                  {"checkedAt", Time()},
              })
           .Doc("Failover capacity, computed by the scheduler: if this host fails, "
                "can its VMs restart elsewhere?")},
  });
  k.schema = ObjectSchema(spec, status);
  k.columns = {
      {"Status", "string", "", "Ready, NotReady or Unknown; SchedulingDisabled in maintenance.", 0,
       [](const Json& o, auto) -> Json {
         std::string s = ConditionStatus(o, "Ready");
         std::string out = s == "True" ? "Ready" : (s == "False" ? "NotReady" : "Unknown");
         if (At(o, "/spec/unschedulable") == true) out += ",SchedulingDisabled";
         return out;
       }},
      StringColumn("CPU", "/status/allocatable/cpu", "Allocatable CPU."),
      StringColumn("Memory", "/status/allocatable/memory", "Allocatable memory."),
      StringColumn("Accel", "/status/runtime/accelerator", "kvm or tcg."),
      {"Failover", "string", "", "Whether its VMs could restart elsewhere.", 1,
       [](const Json& o, auto) -> Json {
         const Json& ok = At(o, "/status/failover/vmsCanRestart");
         return ok.is_boolean() ? Json(ok.get<bool>() ? "OK" : "AtRisk") : Json("");
       }},
      StringColumn("Pod-CIDR", "/status/podCIDR", "Address range for workloads here.", 1),
      StringColumn("Kernel", "/status/runtime/kernel", "Kernel version.", 1),
      {"Address", "string", "", "The first address.", 1,
       [](const Json& o, auto) -> Json {
         const Json& a = At(o, "/status/addresses/0/address");
         return a.is_string() ? a : Json("");
       }},
      StringColumn("Agent", "/status/runtime/agentVersion", "Agent version.", 1),
  };
  return k;
}

}  // namespace lintel::api
