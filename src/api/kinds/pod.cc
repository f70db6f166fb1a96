#include "api/kinds/common_schemas.h"
#include "api/kinds/kinds.h"

namespace lintel::api {

Schema PodSpecSchema() {
  std::vector<Property> props = {
      {"isolation", String().Enum({"container", "vm"}).Default("container").Doc(
                        "container: shared kernel; vm: the Pod runs in its own micro-VM.")},
      {"restartPolicy", String().Enum({"Always", "OnFailure", "Never"}).Default("Always")},
      {"containers", Array(ContainerSchema())
                         .ListMap({"name"})
                         .Required()
                         .Doc("The containers; they share the Pod's network identity.")},
      {"volumes", Array(Object({
                            {"name", String().Required().WithFormat(Format::kDns1123Label)},
                            {"emptyDir", Object({
                                             {"medium", String().Enum({"", "Memory"})},
                                             {"sizeLimit", QuantityType().NonNegative()},
                                         })},
                        }))
                      .ListMap({"name"})},
      {"terminationGracePeriodSeconds", Int().Min(0).Default(30).Doc(
                                            "SIGTERM, then SIGKILL after this long.")},
      {"hostname", String().WithFormat(Format::kDns1123Label)},
  };
  for (auto& p : PlacementProperties()) props.push_back(p);
  return Extend(Object({}), props).Check([](const Json& spec, const std::string& path,
                                             std::vector<Cause>* causes) {
    const Json& containers = At(spec, "/containers");
    if (containers.is_array() && containers.empty()) {
      causes->push_back(RequiredValue(JoinPath(path, "containers"), "at least one container"));
    }
    // Mounts must name declared volumes.
    std::vector<std::string> volumes;
    if (const Json& v = At(spec, "/volumes"); v.is_array()) {
      for (const auto& vol : v) {
        if (vol.is_object() && vol.contains("name") && vol["name"].is_string())
          volumes.push_back(vol["name"]);
      }
    }
    if (!containers.is_array()) return;
    for (size_t i = 0; i < containers.size(); ++i) {
      const Json& mounts = At(containers[i], "/volumeMounts");
      if (!mounts.is_array()) continue;
      for (size_t j = 0; j < mounts.size(); ++j) {
        const Json& name = At(mounts[j], "/name");
        if (name.is_string() &&
            std::find(volumes.begin(), volumes.end(), name.get<std::string>()) == volumes.end()) {
          causes->push_back(
              {"FieldValueNotFound",
               IndexPath(JoinPath(IndexPath(JoinPath(path, "containers"), i), "volumeMounts"), j) +
                   ".name",
               "Not found: " + QuoteValue(name)});
        }
      }
    }
  });
}

namespace {

Schema ContainerStateSchema() {
  return Object({
      {"waiting", Object({{"reason", String()}, {"message", String()}})},
      {"running", Object({{"startedAt", Time()}})},
      {"terminated", Object({
                         {"exitCode", Int()},
                         {"signal", Int()},
                         {"reason", String()},
                         {"message", String()},
                         {"startedAt", Time()},
                         {"finishedAt", Time()},
                         {"containerID", String()},
                     })},
  });
}

}  // namespace

KindInfo PodKind() {
  KindInfo k;
  k.kind = "Pod";
  k.plural = "pods";
  k.singular = "pod";
  k.short_names = {"po"};
  k.categories = {"all"};
  k.description = "A group of containers sharing a network identity, run in a shared kernel "
                  "or in its own micro-VM.";
  Schema status = Object({
      {"phase", String().Doc("Pending, Running, Succeeded, Failed or Unknown.")},
      {"host", String().Doc("The Host it is bound to.")},
      {"podIP", String()},
      {"podIPs", Array(Object({{"ip", String()}}))},
      {"reason", String()},
      {"message", String()},
      {"startTime", Time()},
      {"conditions", ConditionsSchema()},
      {"containerStatuses",
       Array(Object({
                 {"name", String()},
                 {"ready", Bool()},
                 {"started", Bool()},
                 {"restartCount", Int()},
                 {"image", String()},
                 {"imageID", String()},
                 {"containerID", String()},
                 {"state", ContainerStateSchema()},
                 {"lastState", ContainerStateSchema()},
             }))
           .ListMap({"name"})},
      {"observedGeneration", Int()},
  });
  k.schema = ObjectSchema(PodSpecSchema(), status);
  k.columns = {
      {"Ready", "string", "", "Ready containers of all.", 0,
       [](const Json& o, auto) -> Json {
         const Json& cs = At(o, "/status/containerStatuses");
         const Json& spec = At(o, "/spec/containers");
         size_t total = spec.is_array() ? spec.size() : 0, ready = 0;
         if (cs.is_array()) {
           for (const auto& c : cs) ready += c.value("ready", false) ? 1 : 0;
         }
         return std::to_string(ready) + "/" + std::to_string(total);
       }},
      {"Status", "string", "", "Phase, or the reason a container waits or ended.", 0,
       [](const Json& o, auto) -> Json {
         if (At(o, "/metadata/deletionTimestamp").is_string()) return "Terminating";
         const Json& cs = At(o, "/status/containerStatuses");
         if (cs.is_array()) {
           for (const auto& c : cs) {
             const Json& w = At(c, "/state/waiting/reason");
             if (w.is_string() && !w.get<std::string>().empty()) return w;
             const Json& t = At(c, "/state/terminated/reason");
             if (t.is_string() && !t.get<std::string>().empty() &&
                 At(o, "/status/phase") != "Succeeded")
               return t;
           }
         }
         const Json& reason = At(o, "/status/reason");
         if (reason.is_string() && !reason.get<std::string>().empty()) return reason;
         const Json& p = At(o, "/status/phase");
         return p.is_string() ? p : Json("Pending");
       }},
      {"Restarts", "integer", "", "Container restarts.", 0,
       [](const Json& o, auto) -> Json {
         int64_t n = 0;
         const Json& cs = At(o, "/status/containerStatuses");
         if (cs.is_array()) {
           for (const auto& c : cs) n += c.value("restartCount", int64_t{0});
         }
         return n;
       }},
      StringColumn("Host", "/status/host", "Where it runs."),
      StringColumn("IP", "/status/podIP", "Pod address."),
      StringColumn("Isolation", "/spec/isolation", "container or vm.", 1),
  };
  k.field_selectors = {{"status.host", "/status/host"},
                       {"status.phase", "/status/phase"},
                       {"spec.host", "/spec/host"},
                       {"status.podIP", "/status/podIP"}};
  return k;
}

}  // namespace lintel::api
