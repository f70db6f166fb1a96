#include "api/kinds/common_schemas.h"
#include "api/kinds/kinds.h"
#include "common/cidr.h"

namespace lintel::api {

KindInfo ServiceKind() {
  KindInfo k;
  k.kind = "Service";
  k.plural = "services";
  k.singular = "service";
  k.short_names = {"svc"};
  k.categories = {"all"};
  k.name_is_label = true;
  k.description =
      "A stable virtual IP and DNS name load-balancing over the ready Pods and "
      "VirtualMachines its selector matches.";
  Schema spec = Object({
      {"selector", StringMap().Doc("Labels of the Pods and VirtualMachines to serve.")},
      {"ports",
       Array(Object({
                 {"name", String().WithFormat(Format::kDns1123Label)},
                 {"port", PortNumber().Required().Doc("Port on the virtual IP.")},
                 {"targetPort", IntOrString().Doc("Port on the backends (number or container port "
                                                  "name); default: port.")},
                 {"protocol", String().Enum({"TCP", "UDP"}).Doc("Default TCP.")},
             }))
           .ListMap({"port", "protocol"})
           .Doc("Ports to expose.")},
      {"type", String().Enum({"ClusterIP"}).Default("ClusterIP")},
      {"clusterIP",
       String().Immutable().Doc("The virtual IP, from the server's Service range; allocated when "
                                "empty. Kept when an update leaves it out.")},
      {"sessionAffinity", String().Enum({"None", "ClientIP"}).Default("None")},
  });
  Schema status = Object({
      {"endpoints",
       Array(Object({
                 {"kind", String().Doc("Pod or VirtualMachine.")},
                 {"name", String()},
                 {"ip", String().Doc("The Pod's status.podIP or the VM's status.ip.")},
                 {"host", String().Doc("The Host it runs on.")},
                 {"ready", Bool().Doc("Its Ready condition is True.")},
                 {"ports", Array(Object({
                                     {"name", String().Doc("The Service port's name.")},
                                     {"port", Int().Doc("spec.ports[].targetPort, resolved.")},
                                     {"protocol", String().Doc("TCP or UDP.")},
                                 }))
                               .Doc("Where each Service port goes on this backend: a named "
                                    "targetPort is looked up in a Pod's container ports, or "
                                    "in a VM's annotation lintel.dev/port.NAME; a port it does "
                                    "not name is left out.")},
             }))
           .Doc("The Pods and VirtualMachines the selector matches that have an address and "
                "are not being deleted, sorted by kind and name; written by the server.")},
      {"readyEndpoints", Int().Doc("How many endpoints are ready.")},
      {"conditions", ConditionsSchema()},
  });
  k.schema = ObjectSchema(spec, status);
  // An update that leaves the virtual IP out keeps it (as kube's
  // patchAllocatedValues does): it is the server's, not the writer's.
  k.prepare = [](Json* obj, const Json* old) {
    if (old == nullptr) return;
    const Json& was = At(*old, "/spec/clusterIP");
    if (!was.is_string() || was.get<std::string>().empty()) return;
    Json& spec = (*obj)["spec"];
    if (!spec.is_object()) return;
    auto ip = spec.find("clusterIP");
    if (ip == spec.end() || ip->is_null() || *ip == "") spec["clusterIP"] = was;
  };
  k.validate = [](const Json& obj, const Json*, std::vector<Cause>* causes) {
    const Json& ip = At(obj, "/spec/clusterIP");
    if (ip.is_string() && !ip.get<std::string>().empty() &&
        !Ipv4::Parse(ip.get<std::string>()).ok()) {
      causes->push_back(InvalidValue("spec.clusterIP", ip, "must be a valid IPv4 address"));
    }
    const Json& ports = At(obj, "/spec/ports");
    if (!ports.is_array() || ports.size() < 2) return;
    for (size_t i = 0; i < ports.size(); ++i) {
      if (!ports[i].is_object() || ports[i].value("name", "").empty()) {
        causes->push_back(RequiredValue(IndexPath("spec.ports", i) + ".name",
                                        "name is required when there are several ports"));
      }
    }
  };
  k.columns = {
      StringColumn("Type", "/spec/type", "Service type."),
      StringColumn("Cluster-IP", "/spec/clusterIP", "The virtual IP."),
      {"Ports", "string", "", "Ports and protocols.", 0,
       [](const Json& o, auto) -> Json {
         std::string out;
         const Json& ps = At(o, "/spec/ports");
         if (ps.is_array()) {
           for (const auto& p : ps) {
             if (!out.empty()) out += ",";
             out += std::to_string(p.value("port", 0)) + "/" + p.value("protocol", "TCP");
           }
         }
         return out.empty() ? "<none>" : out;
       }},
      {"Endpoints", "string", "", "Ready of all endpoints.", 0,
       [](const Json& o, auto) -> Json {
         const Json& eps = At(o, "/status/endpoints");
         const Json& ready = At(o, "/status/readyEndpoints");
         size_t total = eps.is_array() ? eps.size() : 0;
         return std::to_string(ready.is_number() ? ready.get<int64_t>() : 0) + "/" +
                std::to_string(total);
       }},
      {"Selector", "string", "", "Label selector.", 1,
       [](const Json& o, auto) -> Json {
         std::string out;
         const Json& s = At(o, "/spec/selector");
         if (s.is_object()) {
           for (auto it = s.begin(); it != s.end(); ++it) {
             if (!out.empty()) out += ",";
             out += it.key() + "=" + (it->is_string() ? it->get<std::string>() : it->dump());
           }
         }
         return out.empty() ? "<none>" : out;
       }},
  };
  k.field_selectors = {{"spec.clusterIP", "/spec/clusterIP"}};
  return k;
}

}  // namespace lintel::api
