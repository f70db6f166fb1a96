#include "drivers/oci/pod_plan.h"

#include "apimachinery/quantity.h"

namespace lintel::drivers::oci {

namespace {

using apimachinery::Quantity;

Status Bad(const std::string& path, const std::string& what) {
  return Invalid(path + ": " + what, {{"FieldValueInvalid", path, what}});
}

const Json* Find(const Json& obj, const char* key) {
  if (!obj.is_object()) return nullptr;
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return nullptr;
  return &*it;
}

Result<std::string> Str(const Json& obj, const char* key, const std::string& path) {
  const Json* v = Find(obj, key);
  if (!v) return std::string();
  if (!v->is_string()) return Bad(path + "." + key, "must be a string");
  return v->get<std::string>();
}

Result<std::vector<std::string>> Strings(const Json& obj, const char* key, const std::string& path,
                                         bool* present) {
  std::vector<std::string> out;
  const Json* v = Find(obj, key);
  if (present) *present = v != nullptr;
  if (!v) return out;
  if (!v->is_array()) return Bad(path + "." + key, "must be a list of strings");
  for (const auto& s : *v) {
    if (!s.is_string()) return Bad(path + "." + key, "must be a list of strings");
    out.push_back(s.get<std::string>());
  }
  return out;
}

Result<int> Int(const Json& obj, const char* key, int def, int min, const std::string& path) {
  const Json* v = Find(obj, key);
  if (!v) return def;
  if (!v->is_number_integer()) return Bad(path + "." + key, "must be an integer");
  int64_t n = v->get<int64_t>();
  if (n < min || n > 1'000'000) {
    return Bad(path + "." + key, "must be at least " + std::to_string(min));
  }
  return static_cast<int>(n);
}

Result<std::optional<int64_t>> QuantityOf(const Json& list, const char* key, bool milli,
                                          const std::string& path) {
  const Json* v = Find(list, key);
  if (!v) return std::optional<int64_t>();
  auto q = Quantity::FromJson(*v);
  if (!q.ok()) return Bad(path + "." + key, q.error().message());
  if (q->IsNegative()) return Bad(path + "." + key, "must not be negative");
  return std::optional<int64_t>(milli ? q->MilliValue() : q->Value());
}

// A port number, or the name of one of the container's ports.
Result<int> PortOf(const Json& port, const Json& ports, const std::string& path) {
  if (port.is_number_integer()) {
    int64_t n = port.get<int64_t>();
    if (n < 1 || n > 65535) return Bad(path, "must be between 1 and 65535");
    return static_cast<int>(n);
  }
  if (port.is_string()) {
    std::string name = port.get<std::string>();
    if (!name.empty() && name.find_first_not_of("0123456789") == std::string::npos) {
      return PortOf(Json(std::stoll(name.substr(0, 6))), ports, path);
    }
    if (ports.is_array()) {
      for (const auto& p : ports) {
        if (p.is_object() && p.value("name", "") == name && p.contains("containerPort") &&
            p["containerPort"].is_number_integer()) {
          return p["containerPort"].get<int>();
        }
      }
    }
    return Bad(path, "no container port named \"" + name + "\"");
  }
  return Bad(path, "must be a port number or name");
}

Result<Resources> ParseResources(const Json& c, const std::string& path) {
  Resources r;
  const Json* res = Find(c, "resources");
  if (!res) return r;
  const Json empty = Json::object();
  const Json* limits = Find(*res, "limits");
  const Json* requests = Find(*res, "requests");
  const std::string lp = path + ".resources.limits", rp = path + ".resources.requests";
  LINTEL_ASSIGN_OR_RETURN(r.memory_limit,
                          QuantityOf(limits ? *limits : empty, "memory", false, lp));
  LINTEL_ASSIGN_OR_RETURN(r.cpu_limit, QuantityOf(limits ? *limits : empty, "cpu", true, lp));
  LINTEL_ASSIGN_OR_RETURN(r.memory_request,
                          QuantityOf(requests ? *requests : empty, "memory", false, rp));
  LINTEL_ASSIGN_OR_RETURN(r.cpu_request, QuantityOf(requests ? *requests : empty, "cpu", true, rp));
  // As Kubernetes: a limit without a request requests the limit.
  if (!r.memory_request && r.memory_limit) r.memory_request = r.memory_limit;
  if (!r.cpu_request && r.cpu_limit) r.cpu_request = r.cpu_limit;
  return r;
}

Result<SecurityContext> ParseSecurity(const Json& c, const std::string& path) {
  SecurityContext s;
  const Json* sc = Find(c, "securityContext");
  if (!sc) return s;
  const std::string p = path + ".securityContext";
  for (auto [key, out] :
       {std::pair{"runAsUser", &s.run_as_user}, {"runAsGroup", &s.run_as_group}}) {
    if (const Json* v = Find(*sc, key)) {
      if (!v->is_number_integer() || v->get<int64_t>() < 0 || v->get<int64_t>() > 0xfffffffe) {
        return Bad(p + "." + key, "must be an id between 0 and 4294967294");
      }
      *out = v->get<int64_t>();
    }
  }
  if (const Json* v = Find(*sc, "readOnlyRootFilesystem"); v && v->is_boolean()) {
    s.read_only_root = v->get<bool>();
  }
  if (const Json* v = Find(*sc, "allowPrivilegeEscalation"); v && v->is_boolean()) {
    s.allow_privilege_escalation = v->get<bool>();
  }
  if (const Json* caps = Find(*sc, "capabilities")) {
    LINTEL_ASSIGN_OR_RETURN(s.add_caps, Strings(*caps, "add", p + ".capabilities", nullptr));
    LINTEL_ASSIGN_OR_RETURN(s.drop_caps, Strings(*caps, "drop", p + ".capabilities", nullptr));
  }
  return s;
}

Result<std::optional<ProbeSpec>> OptionalProbe(const Json& c, const char* key, const Json& ports,
                                               const std::string& path) {
  const Json* v = Find(c, key);
  if (!v) return std::optional<ProbeSpec>();
  LINTEL_ASSIGN_OR_RETURN(ProbeSpec p, ParseProbe(*v, ports, path + "." + key));
  return std::optional<ProbeSpec>(std::move(p));
}

Result<ContainerPlan> ParseContainer(const Json& c, const std::string& path) {
  ContainerPlan out;
  if (!c.is_object()) return Bad(path, "must be an object");
  LINTEL_ASSIGN_OR_RETURN(out.name, Str(c, "name", path));
  if (out.name.empty() || out.name.size() > 63 ||
      out.name.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789-") != std::string::npos ||
      out.name.front() == '-' || out.name.back() == '-') {
    return Bad(path + ".name", "must be a DNS label (lower case letters, digits, '-')");
  }
  LINTEL_ASSIGN_OR_RETURN(out.image, Str(c, "image", path));
  if (out.image.empty()) return Bad(path + ".image", "is required");
  LINTEL_ASSIGN_OR_RETURN(std::string pull, Str(c, "imagePullPolicy", path));
  if (pull == "Always") {
    out.pull_policy = PullPolicy::kAlways;
  } else if (pull == "IfNotPresent") {
    out.pull_policy = PullPolicy::kIfNotPresent;
  } else if (pull == "Never") {
    out.pull_policy = PullPolicy::kNever;
  } else if (!pull.empty()) {
    return Bad(path + ".imagePullPolicy", "must be Always, IfNotPresent or Never");
  }
  LINTEL_ASSIGN_OR_RETURN(out.command, Strings(c, "command", path, &out.has_command));
  LINTEL_ASSIGN_OR_RETURN(out.args, Strings(c, "args", path, &out.has_args));
  LINTEL_ASSIGN_OR_RETURN(out.working_dir, Str(c, "workingDir", path));
  if (!out.working_dir.empty() && out.working_dir.front() != '/') {
    return Bad(path + ".workingDir", "must be an absolute path");
  }
  if (const Json* env = Find(c, "env")) {
    if (!env->is_array()) return Bad(path + ".env", "must be a list");
    for (size_t i = 0; i < env->size(); ++i) {
      const Json& e = (*env)[i];
      std::string ep = path + ".env[" + std::to_string(i) + "]";
      LINTEL_ASSIGN_OR_RETURN(std::string name, Str(e, "name", ep));
      if (name.empty() || name.find('=') != std::string::npos) {
        return Bad(ep + ".name", "must be a non-empty name without '='");
      }
      LINTEL_ASSIGN_OR_RETURN(std::string value, Str(e, "value", ep));
      out.env.emplace_back(std::move(name), std::move(value));
    }
  }
  LINTEL_ASSIGN_OR_RETURN(out.resources, ParseResources(c, path));
  LINTEL_ASSIGN_OR_RETURN(out.security, ParseSecurity(c, path));
  if (const Json* mounts = Find(c, "volumeMounts")) {
    if (!mounts->is_array()) return Bad(path + ".volumeMounts", "must be a list");
    for (size_t i = 0; i < mounts->size(); ++i) {
      const Json& m = (*mounts)[i];
      std::string mp = path + ".volumeMounts[" + std::to_string(i) + "]";
      VolumeMountPlan vm;
      LINTEL_ASSIGN_OR_RETURN(vm.name, Str(m, "name", mp));
      LINTEL_ASSIGN_OR_RETURN(vm.mount_path, Str(m, "mountPath", mp));
      if (vm.mount_path.empty() || vm.mount_path.front() != '/') {
        return Bad(mp + ".mountPath", "must be an absolute path");
      }
      vm.read_only = m.value("readOnly", false);
      out.volume_mounts.push_back(std::move(vm));
    }
  }
  const Json ports = c.value("ports", Json::array());
  LINTEL_ASSIGN_OR_RETURN(out.liveness, OptionalProbe(c, "livenessProbe", ports, path));
  LINTEL_ASSIGN_OR_RETURN(out.readiness, OptionalProbe(c, "readinessProbe", ports, path));
  LINTEL_ASSIGN_OR_RETURN(out.startup, OptionalProbe(c, "startupProbe", ports, path));
  return out;
}

}  // namespace

std::string_view RestartPolicyName(RestartPolicy p) {
  switch (p) {
    case RestartPolicy::kAlways:
      return "Always";
    case RestartPolicy::kOnFailure:
      return "OnFailure";
    case RestartPolicy::kNever:
      return "Never";
  }
  return "";
}

Result<ProbeSpec> ParseProbe(const Json& v, const Json& ports, const std::string& path) {
  ProbeSpec p;
  if (!v.is_object()) return Bad(path, "must be an object");
  int handlers = 0;
  if (const Json* exec = Find(v, "exec")) {
    ++handlers;
    p.kind = ProbeSpec::Kind::kExec;
    LINTEL_ASSIGN_OR_RETURN(p.command, Strings(*exec, "command", path + ".exec", nullptr));
    if (p.command.empty()) return Bad(path + ".exec.command", "is required");
  }
  if (const Json* tcp = Find(v, "tcpSocket")) {
    ++handlers;
    p.kind = ProbeSpec::Kind::kTcp;
    const Json* port = Find(*tcp, "port");
    if (!port) return Bad(path + ".tcpSocket.port", "is required");
    LINTEL_ASSIGN_OR_RETURN(p.port, PortOf(*port, ports, path + ".tcpSocket.port"));
    LINTEL_ASSIGN_OR_RETURN(p.host, Str(*tcp, "host", path + ".tcpSocket"));
  }
  if (const Json* http = Find(v, "httpGet")) {
    ++handlers;
    p.kind = ProbeSpec::Kind::kHttp;
    const Json* port = Find(*http, "port");
    if (!port) return Bad(path + ".httpGet.port", "is required");
    LINTEL_ASSIGN_OR_RETURN(p.port, PortOf(*port, ports, path + ".httpGet.port"));
    LINTEL_ASSIGN_OR_RETURN(p.host, Str(*http, "host", path + ".httpGet"));
    LINTEL_ASSIGN_OR_RETURN(std::string probe_path, Str(*http, "path", path + ".httpGet"));
    if (!probe_path.empty()) p.path = probe_path[0] == '/' ? probe_path : "/" + probe_path;
    LINTEL_ASSIGN_OR_RETURN(std::string scheme, Str(*http, "scheme", path + ".httpGet"));
    if (scheme == "HTTPS") {
      p.https = true;
    } else if (!scheme.empty() && scheme != "HTTP") {
      return Bad(path + ".httpGet.scheme", "must be HTTP or HTTPS");
    }
  }
  if (handlers != 1) return Bad(path, "must specify exactly one of exec, tcpSocket, httpGet");
  LINTEL_ASSIGN_OR_RETURN(p.initial_delay_seconds, Int(v, "initialDelaySeconds", 0, 0, path));
  LINTEL_ASSIGN_OR_RETURN(p.period_seconds, Int(v, "periodSeconds", 10, 1, path));
  LINTEL_ASSIGN_OR_RETURN(p.timeout_seconds, Int(v, "timeoutSeconds", 1, 1, path));
  LINTEL_ASSIGN_OR_RETURN(p.success_threshold, Int(v, "successThreshold", 1, 1, path));
  LINTEL_ASSIGN_OR_RETURN(p.failure_threshold, Int(v, "failureThreshold", 3, 1, path));
  return p;
}

Result<PodPlan> ParsePodPlan(const WorkloadSpec& spec) {
  PodPlan plan;
  plan.ns = spec.ns;
  plan.name = spec.name;
  plan.uid = spec.uid;
  const Json& s = spec.spec;
  if (!s.is_object()) return Bad("spec", "must be an object");
  if (Find(s, "isolation") && s["isolation"] == "vm") {
    return NotSupported("isolation: vm needs the sandbox driver, which this host does not run");
  }
  LINTEL_ASSIGN_OR_RETURN(plan.hostname, Str(s, "hostname", "spec"));
  if (plan.hostname.empty()) plan.hostname = spec.name.substr(0, 63);
  while (!plan.hostname.empty() && (plan.hostname.back() == '.' || plan.hostname.back() == '-')) {
    plan.hostname.pop_back();
  }
  if (plan.hostname.empty()) plan.hostname = "pod";
  LINTEL_ASSIGN_OR_RETURN(std::string policy, Str(s, "restartPolicy", "spec"));
  if (policy.empty() || policy == "Always") {
    plan.restart_policy = RestartPolicy::kAlways;
  } else if (policy == "OnFailure") {
    plan.restart_policy = RestartPolicy::kOnFailure;
  } else if (policy == "Never") {
    plan.restart_policy = RestartPolicy::kNever;
  } else {
    return Bad("spec.restartPolicy", "must be Always, OnFailure or Never");
  }
  if (const Json* g = Find(s, "terminationGracePeriodSeconds")) {
    if (!g->is_number_integer() || g->get<int64_t>() < 0) {
      return Bad("spec.terminationGracePeriodSeconds", "must be a non-negative integer");
    }
    plan.grace_seconds = g->get<int64_t>();
  }
  if (const Json* vols = Find(s, "volumes")) {
    if (!vols->is_array()) return Bad("spec.volumes", "must be a list");
    for (size_t i = 0; i < vols->size(); ++i) {
      const Json& v = (*vols)[i];
      std::string vp = "spec.volumes[" + std::to_string(i) + "]";
      VolumePlan vol;
      LINTEL_ASSIGN_OR_RETURN(vol.name, Str(v, "name", vp));
      if (vol.name.empty() || vol.name.find('/') != std::string::npos || vol.name == "." ||
          vol.name == "..") {
        return Bad(vp + ".name", "must be a DNS label");
      }
      const Json* empty_dir = Find(v, "emptyDir");
      if (!empty_dir) return NotSupported(vp + ": only emptyDir volumes are supported");
      vol.memory = empty_dir->value("medium", "") == "Memory";
      LINTEL_ASSIGN_OR_RETURN(vol.size_limit,
                              QuantityOf(*empty_dir, "sizeLimit", false, vp + ".emptyDir"));
      plan.volumes.push_back(std::move(vol));
    }
  }
  const Json* containers = Find(s, "containers");
  if (!containers || !containers->is_array() || containers->empty()) {
    return Bad("spec.containers", "at least one container is required");
  }
  for (size_t i = 0; i < containers->size(); ++i) {
    std::string cp = "spec.containers[" + std::to_string(i) + "]";
    LINTEL_ASSIGN_OR_RETURN(ContainerPlan c, ParseContainer((*containers)[i], cp));
    for (const auto& other : plan.containers) {
      if (other.name == c.name) return Bad(cp + ".name", "duplicate container name " + c.name);
    }
    for (const auto& m : c.volume_mounts) {
      bool known = false;
      for (const auto& v : plan.volumes) known = known || v.name == m.name;
      if (!known) return Bad(cp + ".volumeMounts", "no volume named " + m.name);
    }
    plan.containers.push_back(std::move(c));
  }
  return plan;
}

}  // namespace lintel::drivers::oci
