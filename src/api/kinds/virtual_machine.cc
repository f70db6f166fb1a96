#include "api/kinds/common_schemas.h"
#include "api/kinds/kinds.h"

namespace lintel::api {

KindInfo VirtualMachineKind() {
  KindInfo k;
  k.kind = "VirtualMachine";
  k.plural = "virtualmachines";
  k.singular = "virtualmachine";
  k.short_names = {"vm", "vms"};
  k.categories = {"all"};
  k.description =
      "A virtual machine: a pet with its own kernel and disks, kept running per its "
      "runStrategy, restarted or live-migrated when its host fails or drains.";
  std::vector<Property> spec_props = {
      {"runStrategy", String()
                          .Enum({"Always", "RerunOnFailure", "Manual", "Halted"})
                          .Default("Always")
                          .Doc("Always: keep running; RerunOnFailure: restart only after a "
                               "failure; Manual: start/stop by request; Halted: keep "
                               "stopped.")},
      {"cpu", Int().Min(1).Max(256).Default(1).Doc("Virtual CPUs.")},
      {"memory", QuantityType().Positive().Default("256Mi").Doc("Guest memory, e.g. 256Mi.")},
      {"image", String().Required().Doc("Boot disk: a linked clone of this VM image.")},
      {"disks",
       Array(Object({
                 {"name", String().Required().WithFormat(Format::kDns1123Label)},
                 {"size", QuantityType().Positive().Doc("Size of an empty data disk, e.g. 1Gi.")},
                 {"image", String().Doc("Clone this image instead of an empty disk.")},
                 {"keep", Bool().Doc("Keep the disk when the VM is deleted (default false).")},
             }))
           .ListMap({"name"})
           .Doc("Additional disks.")},
      {"cloudInit",
       Object({
                  {"userData", String().MaxLength(64 * 1024).Doc(
                                   "cloud-init user data; a #! script runs once at "
                                   "boot.")},
                  {"networkData", String().MaxLength(64 * 1024).Doc("cloud-init network-config.")},
                  {"sshAuthorizedKeys", Array(String())},
                  {"userDataSecretRef",
                   Object({{"name", String().Required()}})
                       .Doc("Take the user data from this Secret of the VM's namespace (key "
                            "userdata or userData), read when the VM starts.")},
                  {"networkDataSecretRef",
                   Object({{"name", String().Required()}})
                       .Doc("Take the network-config from this Secret (key networkdata or "
                            "networkData).")},
              })
           .Doc("Guest configuration through a NoCloud seed disk.")},
      {"readinessProbe",
       ProbeSchema().Doc("When the VM is ready for its Services' traffic: tcpSocket or httpGet "
                         "against the guest's address (exec is not supported). Default: ready "
                         "whenever Running.")},
      {"networks", Array(Object({
                             {"name", String().Required().WithFormat(Format::kDns1123Label)},
                             {"macAddress", String()},
                         }))
                       .ListMap({"name"})
                       .Doc("Network interfaces; default: one on the estate network.")},
      {"evictionStrategy", String()
                               .Enum({"LiveMigrate", "Restart", "None"})
                               .Default("LiveMigrate")
                               .Doc("On drain or host maintenance: live-migrate, restart "
                                    "elsewhere, or stay.")},
      {"accelerator", String()
                          .Enum({"Auto", "KVM", "TCG"})
                          .Default("Auto")
                          .Doc("KVM requires a host where KVM works; Auto takes what is "
                               "there.")},
      {"machine", String()
                      .Enum({"microvm", "q35"})
                      .Doc("microvm for direct kernel boot, q35 for disk images with a boot "
                           "loader; default from the image.")},
  };
  for (auto& p : PlacementProperties()) spec_props.push_back(p);
  Schema spec = Extend(Object({}), spec_props);
  Schema status = Object({
      {"phase", String().Doc("Pending, Scheduled, Starting, Running, Stopping, Stopped, "
                             "Migrating, Failed or Unknown.")},
      {"host", String().Doc("The Host it is bound to.")},
      {"ip", String().Doc("Primary guest address.")},
      {"ipAddresses", Array(String())},
      {"accelerator", String().Doc("kvm or tcg, as running.")},
      {"conditions", ConditionsSchema()},
      {"startTime", Time()},
      {"lastExitReason", String()},
      {"observedGeneration", Int()},
      {"migration", Object({
                        {"name", String()},
                        {"phase", String()},
                        {"targetHost", String()},
                    })},
  });
  k.schema = ObjectSchema(spec, status);
  k.columns = {
      StringColumn("Phase", "/status/phase", "Lifecycle phase."),
      StringColumn("Host", "/status/host", "Where it runs."),
      IntColumn("CPUs", "/spec/cpu", "Virtual CPUs."),
      StringColumn("Memory", "/spec/memory", "Guest memory."),
      StringColumn("IP", "/status/ip", "Primary address."),
      StringColumn("Image", "/spec/image", "Boot image.", 1),
      StringColumn("RunStrategy", "/spec/runStrategy", "Run strategy.", 1),
      StringColumn("Accel", "/status/accelerator", "kvm or tcg.", 1),
  };
  k.field_selectors = {{"status.host", "/status/host"},
                       {"status.phase", "/status/phase"},
                       {"spec.host", "/spec/host"}};
  return k;
}

KindInfo VirtualMachineMigrationKind() {
  KindInfo k;
  k.kind = "VirtualMachineMigration";
  k.plural = "virtualmachinemigrations";
  k.singular = "virtualmachinemigration";
  k.short_names = {"vmm", "vmim"};
  k.description =
      "A request to live-migrate one VirtualMachine, with its progress and the "
      "downtime measured.";
  Schema spec = Object({
      {"vmName", String()
                     .Required()
                     .WithFormat(Format::kDns1123Subdomain)
                     .Immutable()
                     .Doc("The VirtualMachine to migrate, in this namespace.")},
      {"targetHost", String().Immutable().Doc("Destination; default: the scheduler picks.")},
  });
  Schema status = Object({
      {"phase", String().Doc("Pending, Scheduling, PreparingTarget, Running, Succeeded or "
                             "Failed.")},
      {"sourceHost", String()},
      {"targetHost", String()},
      {"startTime", Time()},
      {"completionTime", Time()},
      {"downtimeMilliseconds", Int()},
      {"transferredBytes", Int()},
      {"totalBytes", Int()},
      {"message", String()},
      {"conditions", ConditionsSchema()},
  });
  k.schema = ObjectSchema(spec, status);
  k.columns = {
      StringColumn("VM", "/spec/vmName", "The VirtualMachine."),
      StringColumn("Phase", "/status/phase", "Progress."),
      StringColumn("Source", "/status/sourceHost", "From."),
      StringColumn("Target", "/status/targetHost", "To."),
      {"Downtime", "string", "", "Measured pause of the guest.", 0,
       [](const Json& o, auto) -> Json {
         const Json& d = At(o, "/status/downtimeMilliseconds");
         return d.is_number() ? Json(std::to_string(d.get<int64_t>()) + "ms") : Json("");
       }},
  };
  k.field_selectors = {{"spec.vmName", "/spec/vmName"}, {"status.phase", "/status/phase"}};
  return k;
}

}  // namespace lintel::api
