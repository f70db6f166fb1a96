#include "controllers/network/endpoints.h"

#include <algorithm>
#include <charconv>
#include <optional>
#include <string_view>
#include <tuple>

#include "api/kind.h"

namespace lintel::controllers::network {

namespace {

const std::string& Str(const Json& obj, const char* pointer) {
  static const std::string empty;
  const Json& v = api::At(obj, pointer);
  return v.is_string() ? v.get_ref<const std::string&>() : empty;
}

bool ConditionTrue(const Json& obj, const std::string& type) {
  const Json& conds = api::At(obj, "/status/conditions");
  if (!conds.is_array()) return false;
  for (const auto& c : conds) {
    if (c.is_object() && c.value("type", "") == type) return c.value("status", "") == "True";
  }
  return false;
}

// A port number from JSON (8080) or text ("8080"); nullopt when not one.
std::optional<int64_t> PortNumber(const Json& v) {
  int64_t n = 0;
  if (v.is_number()) {
    n = static_cast<int64_t>(v.get<double>());
  } else if (v.is_string()) {
    const std::string& s = v.get_ref<const std::string&>();
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
    if (s.empty() || ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  } else {
    return std::nullopt;
  }
  if (n < 1 || n > 65535) return std::nullopt;
  return n;
}

Json LabelsOf(const Json& obj) {
  const Json& l = api::At(obj, "/metadata/labels");
  return l.is_object() ? l : Json::object();
}

// Where `port` goes on `w`; nullopt when its targetPort names a port `w` lacks.
std::optional<int64_t> Resolve(const ServicePort& port, const WorkloadFacts& w) {
  if (port.target.is_null()) return port.port;
  if (auto n = PortNumber(port.target)) return n;
  if (!port.target.is_string()) return std::nullopt;
  const std::string& name = port.target.get_ref<const std::string&>();
  for (const auto& p : w.ports) {
    if (p.name == name && (p.protocol.empty() || p.protocol == port.protocol)) return p.port;
  }
  return std::nullopt;
}

const Json* FindCondition(const Json& status, const std::string& type) {
  const Json& conds = api::At(status, "/conditions");
  if (!conds.is_array()) return nullptr;
  for (const auto& c : conds) {
    if (c.is_object() && c.value("type", "") == type) return &c;
  }
  return nullptr;
}

}  // namespace

WorkloadFacts FactsOfPod(const Json& pod) {
  WorkloadFacts w;
  w.kind = "Pod";
  w.ns = Str(pod, "/metadata/namespace");
  w.name = Str(pod, "/metadata/name");
  w.labels = LabelsOf(pod);
  w.ip = Str(pod, "/status/podIP");
  w.host = Str(pod, "/status/host");
  w.ready = ConditionTrue(pod, "Ready");
  const std::string& phase = Str(pod, "/status/phase");
  w.serving = !w.ip.empty() && api::At(pod, "/metadata/deletionTimestamp").is_null() &&
              phase != "Succeeded" && phase != "Failed";
  const Json& containers = api::At(pod, "/spec/containers");
  if (containers.is_array()) {
    for (const auto& c : containers) {
      const Json& ports = api::At(c, "/ports");
      if (!ports.is_array()) continue;
      for (const auto& p : ports) {
        auto n = PortNumber(api::At(p, "/containerPort"));
        const std::string& name = Str(p, "/name");
        if (!n || name.empty()) continue;  // only named ports are looked up
        const std::string& proto = Str(p, "/protocol");
        w.ports.push_back({name, *n, proto.empty() ? "TCP" : proto});
      }
    }
  }
  return w;
}

WorkloadFacts FactsOfVm(const Json& vm) {
  WorkloadFacts w;
  w.kind = "VirtualMachine";
  w.ns = Str(vm, "/metadata/namespace");
  w.name = Str(vm, "/metadata/name");
  w.labels = LabelsOf(vm);
  w.ip = Str(vm, "/status/ip");
  w.host = Str(vm, "/status/host");
  w.ready = ConditionTrue(vm, "Ready");
  w.serving = !w.ip.empty() && api::At(vm, "/metadata/deletionTimestamp").is_null();
  const Json& annotations = api::At(vm, "/metadata/annotations");
  if (annotations.is_object()) {
    constexpr std::string_view kPrefix = kPortAnnotationPrefix;
    for (auto it = annotations.begin(); it != annotations.end(); ++it) {
      const std::string& key = it.key();
      if (key.size() <= kPrefix.size() || key.compare(0, kPrefix.size(), kPrefix) != 0) continue;
      auto n = PortNumber(*it);
      if (n) w.ports.push_back({key.substr(kPrefix.size()), *n, ""});
    }
  }
  return w;
}

ServiceFacts FactsOfService(const Json& service) {
  ServiceFacts s;
  s.ns = Str(service, "/metadata/namespace");
  s.name = Str(service, "/metadata/name");
  const Json& selector = api::At(service, "/spec/selector");
  if (selector.is_object() && !selector.empty()) {
    auto parsed = apimachinery::LabelSelector::FromMap(selector);
    if (parsed.ok()) {
      s.has_selector = true;
      s.selector = std::move(*parsed);
    }
  }
  const Json& ports = api::At(service, "/spec/ports");
  if (ports.is_array()) {
    for (const auto& p : ports) {
      ServicePort sp;
      sp.name = Str(p, "/name");
      sp.port = PortNumber(api::At(p, "/port")).value_or(0);
      const std::string& proto = Str(p, "/protocol");
      if (!proto.empty()) sp.protocol = proto;
      sp.target = api::At(p, "/targetPort");
      if (sp.port > 0) s.ports.push_back(std::move(sp));
    }
  }
  return s;
}

bool Selects(const ServiceFacts& service, const Json& labels) {
  return service.has_selector && service.selector.Matches(labels);
}

Json EndpointsOf(const ServiceFacts& service, const std::vector<WorkloadFacts>& workloads) {
  std::vector<const WorkloadFacts*> chosen;
  for (const auto& w : workloads) {
    if (w.serving && w.ns == service.ns && Selects(service, w.labels)) chosen.push_back(&w);
  }
  std::sort(chosen.begin(), chosen.end(), [](const WorkloadFacts* a, const WorkloadFacts* b) {
    return std::tie(a->kind, a->name) < std::tie(b->kind, b->name);
  });
  Json out = Json::array();
  for (const WorkloadFacts* w : chosen) {
    Json ports = Json::array();
    for (const auto& p : service.ports) {
      auto target = Resolve(p, *w);
      if (!target) continue;
      ports.push_back({{"name", p.name}, {"port", *target}, {"protocol", p.protocol}});
    }
    out.push_back({{"kind", w->kind},
                   {"name", w->name},
                   {"ip", w->ip},
                   {"host", w->host},
                   {"ready", w->ready},
                   {"ports", std::move(ports)}});
  }
  return out;
}

Json EndpointsStatus(const ServiceFacts& service, const Json& endpoints, const Json& old_status,
                     const std::string& now) {
  int64_t ready = 0;
  for (const auto& e : endpoints) {
    if (e.value("ready", false)) ++ready;
  }
  const auto total = static_cast<int64_t>(endpoints.size());
  Json cond = {{"type", kEndpointsReady}};
  if (total == 0) {
    cond["status"] = "False";
    cond["reason"] = "NoEndpoints";
    cond["message"] = service.has_selector
                          ? "No Pod or VirtualMachine with an address matches the selector."
                          : "The Service has no selector.";
  } else if (ready == 0) {
    cond["status"] = "False";
    cond["reason"] = "NoReadyEndpoints";
    cond["message"] = "None of the " + std::to_string(total) + " endpoints is ready.";
  } else {
    cond["status"] = "True";
    cond["reason"] = "EndpointsReady";
    cond["message"] = std::to_string(ready) + " of " + std::to_string(total) + " endpoints ready.";
  }
  const Json* was = FindCondition(old_status, kEndpointsReady);
  cond["lastTransitionTime"] = was && was->value("status", "") == cond["status"]
                                   ? was->value("lastTransitionTime", now)
                                   : now;

  Json status = old_status.is_object() ? old_status : Json::object();
  status["endpoints"] = endpoints;
  status["readyEndpoints"] = ready;
  Json conditions = Json::array();
  bool placed = false;
  if (const Json& old = api::At(old_status, "/conditions"); old.is_array()) {
    for (const auto& c : old) {
      if (c.is_object() && c.value("type", "") == kEndpointsReady) {
        conditions.push_back(cond);
        placed = true;
      } else {
        conditions.push_back(c);
      }
    }
  }
  if (!placed) conditions.push_back(cond);
  status["conditions"] = std::move(conditions);
  return status;
}

bool StatusDiffers(const Json& status, const Json& old_status) {
  if (api::At(status, "/endpoints") != api::At(old_status, "/endpoints") ||
      api::At(status, "/readyEndpoints") != api::At(old_status, "/readyEndpoints")) {
    return true;
  }
  const Json* now = FindCondition(status, kEndpointsReady);
  const Json* was = FindCondition(old_status, kEndpointsReady);
  if (!now || !was) return now != was;
  for (const char* f : {"status", "reason", "message"}) {
    if (now->value(f, "") != was->value(f, "")) return true;
  }
  return false;
}

}  // namespace lintel::controllers::network
