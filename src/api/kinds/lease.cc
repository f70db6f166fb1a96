#include "api/kinds/common_schemas.h"
#include "api/kinds/kinds.h"

namespace lintel::api {

// Kubernetes' coordination Lease, in lintel.dev: a small object renewed often.
// Each host's agent renews one in lintel-host-leases (named after the Host,
// owned by it) as its heartbeat, so that liveness costs a write of a few
// hundred bytes that no scheduler or Host watcher has to look at.
KindInfo LeaseKind() {
  KindInfo k;
  k.kind = "Lease";
  k.plural = "leases";
  k.singular = "lease";
  k.has_status = false;
  k.description =
      "A lease held by one holder and renewed while it lives: host heartbeats "
      "(namespace lintel-host-leases) and leader election.";
  Schema spec = Object({
      {"holderIdentity", String().Doc("Who holds the lease.")},
      {"leaseDurationSeconds",
       Int().Min(1).Doc("How long after renewTime others may consider it lapsed.")},
      {"acquireTime", String().Doc("When the current holder acquired it (RFC 3339, micro).")},
      {"renewTime", String().Doc("When the holder last renewed it (RFC 3339, micro).")},
      {"leaseTransitions", Int().Min(0).Doc("How many times the holder changed.")},
  });
  k.schema = ObjectSchema(spec, std::nullopt);
  k.columns = {
      StringColumn("Holder", "/spec/holderIdentity", "Who holds the lease."),
      {"Age", "string", "", "Since creation.", 0,
       [](const Json& o, std::chrono::system_clock::time_point now) -> Json {
         return AgeCell(o, "/metadata/creationTimestamp", now);
       }},
  };
  return k;
}

}  // namespace lintel::api
