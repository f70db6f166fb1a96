// Endpoints: which Pods and VirtualMachines back a Service, and the status
// that says so. Pure; endpoints_controller.h keeps them current.
//
// An endpoint is a workload of the Service's namespace whose labels match
// spec.selector (no selector, or an empty one: no endpoints) that has an
// address (a Pod's status.podIP, a VM's status.ip), is not being deleted and,
// for a Pod, has not ended (Succeeded, Failed). It is ready when its Ready
// condition is True (for a VM the agent sets it).
//
// Its ports are the Service's, with targetPort resolved per endpoint: absent,
// the port; a number, as is; a name, through a Pod's container ports (name
// and protocol) or a VM's annotation `lintel.dev/port.NAME: "8080"`. A name
// the endpoint lacks leaves that port out for it.
//
//   status: {endpoints: [{kind, name, ip, host, ready,
//                         ports: [{name, port, protocol}]}],   sorted by (kind, name)
//            readyEndpoints: N,
//            conditions: [{type: EndpointsReady, status: True|False,
//                          reason: EndpointsReady|NoReadyEndpoints|NoEndpoints, ...}]}
//
// Pure functions; any thread.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "apimachinery/labels.h"
#include "common/json.h"

namespace lintel::controllers::network {

// A VM's named ports: `lintel.dev/port.http: "8080"`.
inline constexpr char kPortAnnotationPrefix[] = "lintel.dev/port.";
inline constexpr char kEndpointsReady[] = "EndpointsReady";

struct NamedPort {
  std::string name;
  int64_t port = 0;
  std::string protocol;  // "" (a VM's annotation): any
  bool operator==(const NamedPort&) const = default;
};

// What of a Pod or a VM the endpoints read.
struct WorkloadFacts {
  std::string kind;  // "Pod" or "VirtualMachine"
  std::string ns, name;
  Json labels = Json::object();
  std::string ip, host;
  bool ready = false;
  bool serving = false;  // an address, not being deleted, not ended
  std::vector<NamedPort> ports;
  bool operator==(const WorkloadFacts&) const = default;
};

WorkloadFacts FactsOfPod(const Json& pod);
WorkloadFacts FactsOfVm(const Json& vm);

struct ServicePort {
  std::string name;
  int64_t port = 0;
  std::string protocol = "TCP";
  Json target;  // null, a number or a name
  bool operator==(const ServicePort&) const = default;
};

// What of a Service the endpoints read.
struct ServiceFacts {
  std::string ns, name;
  bool has_selector = false;  // a non-empty, valid spec.selector
  apimachinery::LabelSelector selector;
  std::vector<ServicePort> ports;
  bool operator==(const ServiceFacts&) const = default;
};

ServiceFacts FactsOfService(const Json& service);

// Whether `service` selects a workload labelled `labels`.
bool Selects(const ServiceFacts& service, const Json& labels);

// The endpoints of `service` among `workloads` (any; those it does not
// select or that do not serve are skipped), sorted by (kind, name).
Json EndpointsOf(const ServiceFacts& service, const std::vector<WorkloadFacts>& workloads);

// `old_status` with `endpoints`, readyEndpoints and the EndpointsReady
// condition (its lastTransitionTime kept unless its status changes; other
// conditions kept). `now` is RFC 3339.
Json EndpointsStatus(const ServiceFacts& service, const Json& endpoints, const Json& old_status,
                     const std::string& now);

// Whether `status` says something `old_status` does not (times aside).
bool StatusDiffers(const Json& status, const Json& old_status);

}  // namespace lintel::controllers::network
