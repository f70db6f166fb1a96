#include "drivers/oci/oci_spec.h"

#include <algorithm>

#include "drivers/oci/seccomp.h"

namespace lintel::drivers::oci {

namespace {

constexpr char kDefaultPath[] = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

std::string KeyOf(const std::string& kv) { return kv.substr(0, kv.find('=')); }

const std::string* Lookup(const std::vector<std::string>& env, const std::string& key) {
  for (auto it = env.rbegin(); it != env.rend(); ++it) {
    if (it->size() > key.size() && it->compare(0, key.size(), key) == 0 &&
        (*it)[key.size()] == '=') {
      return &*it;
    }
  }
  return nullptr;
}

void Upsert(std::vector<std::string>* env, const std::string& key, const std::string& value) {
  for (auto& kv : *env) {
    if (KeyOf(kv) == key) {
      kv = key;
      kv += '=';
      kv += value;
      return;
    }
  }
  env->push_back(key + "=" + value);
}

std::string WithCapPrefix(std::string name) {
  std::transform(name.begin(), name.end(), name.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  if (name.rfind("CAP_", 0) != 0) name = "CAP_" + name;
  return name;
}

Json Mount(const std::string& dest, const std::string& type, const std::string& source,
           std::vector<std::string> options) {
  return {{"destination", dest}, {"type", type}, {"source", source}, {"options", options}};
}

Json Namespace(const std::string& type, const std::string& path = "") {
  Json ns = {{"type", type}};
  if (!path.empty()) ns["path"] = path;
  return ns;
}

}  // namespace

Result<std::vector<std::string>> ProcessArgs(const ContainerPlan& c, const ImageDefaults& image) {
  std::vector<std::string> out;
  if (c.has_command) {
    out = c.command;
    if (c.has_args) out.insert(out.end(), c.args.begin(), c.args.end());
  } else {
    out = image.entrypoint;
    const auto& rest = c.has_args ? c.args : image.cmd;
    out.insert(out.end(), rest.begin(), rest.end());
  }
  if (out.empty() || out.front().empty()) {
    return Invalid(
        "no command specified: the container has no command and the image no "
        "Entrypoint or Cmd");
  }
  return out;
}

std::string ExpandVars(const std::string& in, const std::vector<std::string>& env) {
  std::string out;
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '$' || i + 1 >= in.size()) {
      out.push_back(in[i]);
      continue;
    }
    if (in[i + 1] == '$') {  // $$ -> $
      out.push_back('$');
      ++i;
      continue;
    }
    if (in[i + 1] == '(') {
      size_t close = in.find(')', i + 2);
      if (close != std::string::npos) {
        std::string name = in.substr(i + 2, close - i - 2);
        if (const std::string* kv = Lookup(env, name); kv && !name.empty()) {
          out += kv->substr(name.size() + 1);
          i = close;
          continue;
        }
      }
    }
    out.push_back('$');
  }
  return out;
}

std::vector<std::string> MergeEnv(const std::vector<std::string>& image_env,
                                  const std::vector<std::pair<std::string, std::string>>& env,
                                  const std::string& hostname) {
  std::vector<std::string> out;
  for (const auto& kv : image_env) {
    if (kv.find('=') == std::string::npos) continue;
    Upsert(&out, KeyOf(kv), kv.substr(kv.find('=') + 1));
  }
  if (!Lookup(out, "PATH")) out.insert(out.begin(), std::string("PATH=") + kDefaultPath);
  if (!Lookup(out, "HOSTNAME")) out.push_back("HOSTNAME=" + hostname);
  for (const auto& [key, value] : env) Upsert(&out, key, ExpandVars(value, out));
  return out;
}

const std::vector<std::string>& DefaultCapabilities() {
  static const std::vector<std::string> caps = {
      "CAP_CHOWN",   "CAP_DAC_OVERRIDE", "CAP_FSETID",           "CAP_FOWNER",
      "CAP_MKNOD",   "CAP_NET_RAW",      "CAP_SETGID",           "CAP_SETUID",
      "CAP_SETFCAP", "CAP_SETPCAP",      "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT",
      "CAP_KILL",    "CAP_AUDIT_WRITE",
  };
  return caps;
}

std::vector<std::string> EffectiveCapabilities(const SecurityContext& sc) {
  std::vector<std::string> caps;
  bool drop_all = false;
  std::vector<std::string> drop;
  for (const auto& d : sc.drop_caps) {
    std::string name = WithCapPrefix(d);
    if (name == "CAP_ALL") drop_all = true;
    drop.push_back(name);
  }
  if (!drop_all) {
    for (const auto& c : DefaultCapabilities()) {
      if (std::find(drop.begin(), drop.end(), c) == drop.end()) caps.push_back(c);
    }
  }
  for (const auto& a : sc.add_caps) {
    std::string name = WithCapPrefix(a);
    if (name == "CAP_ALL") continue;  // not granted: a host without CAP_SYS_RESOURCE refuses it
    if (std::find(caps.begin(), caps.end(), name) == caps.end()) caps.push_back(name);
  }
  return caps;
}

int OomScoreAdj(const PodPlan& pod, const ContainerPlan& c, const HostLimits& host) {
  // Kubernetes QoS: Guaranteed (every container's requests equal its limits
  // for cpu and memory) -997; BestEffort (no requests or limits) 1000;
  // Burstable 1000 - 1000 * memory request / host memory, within [2, 999].
  bool best_effort = true, guaranteed = true;
  for (const auto& x : pod.containers) {
    const Resources& r = x.resources;
    if (r.memory_limit || r.memory_request || r.cpu_limit || r.cpu_request) best_effort = false;
    if (!r.memory_limit || !r.cpu_limit || r.memory_request != r.memory_limit ||
        r.cpu_request != r.cpu_limit) {
      guaranteed = false;
    }
  }
  int score;
  if (best_effort) {
    score = 1000;
  } else if (guaranteed) {
    score = -997;
  } else {
    int64_t req = c.resources.memory_request.value_or(0);
    int64_t total = host.memory_bytes > 0 ? host.memory_bytes : 1;
    int64_t s = 1000 - (1000 * std::min(req, total)) / total;
    score = static_cast<int>(std::clamp<int64_t>(s, 2, 999));
  }
  return std::max(score, host.own_oom_score_adj);
}

Json LinuxResources(const Resources& r, int64_t pids_limit) {
  Json res = Json::object();
  if (r.memory_limit && *r.memory_limit > 0) {
    res["memory"] = {{"limit", *r.memory_limit}};
  }
  Json cpu = Json::object();
  if (r.cpu_limit && *r.cpu_limit > 0) {
    constexpr int64_t kPeriod = 100'000;
    // At least 1ms per period, as Kubernetes (the kernel refuses less).
    cpu["quota"] = std::max<int64_t>(*r.cpu_limit * kPeriod / 1000, 1000);
    cpu["period"] = kPeriod;
  }
  if (r.cpu_request && *r.cpu_request > 0) {
    cpu["shares"] = std::max<int64_t>(*r.cpu_request * 1024 / 1000, 2);
  }
  if (!cpu.empty()) res["cpu"] = std::move(cpu);
  if (pids_limit > 0) res["pids"] = {{"limit", pids_limit}};
  res["devices"] = Json::array({{{"allow", false}, {"access", "rwm"}}});
  return res;
}

Result<Json> BuildConfig(const BundleInput& in) {
  const PodPlan& pod = *in.pod;
  const ContainerPlan& c = *in.container;
  std::vector<std::string> env = MergeEnv(in.image.env, c.env, pod.hostname);
  if (!in.user.home.empty() && !Lookup(env, "HOME")) env.push_back("HOME=" + in.user.home);
  LINTEL_ASSIGN_OR_RETURN(std::vector<std::string> args, ProcessArgs(c, in.image));
  if (c.has_command || c.has_args) {
    for (auto& a : args) a = ExpandVars(a, env);
  }
  std::string cwd = !c.working_dir.empty()          ? c.working_dir
                    : !in.image.working_dir.empty() ? in.image.working_dir
                                                    : "/";
  const std::vector<std::string> caps = EffectiveCapabilities(c.security);
  Json user = {{"uid", in.user.uid}, {"gid", in.user.gid}};
  if (!in.user.additional_gids.empty()) user["additionalGids"] = in.user.additional_gids;

  Json process = {
      {"terminal", false},
      {"user", user},
      {"args", args},
      {"env", env},
      {"cwd", cwd},
      {"capabilities",
       {{"bounding", caps},
        {"effective", caps},
        {"permitted", caps},
        {"inheritable", Json::array()}}},
      {"rlimits",
       Json::array(
           {{{"type", "RLIMIT_NOFILE"}, {"hard", in.host.nofile}, {"soft", in.host.nofile}}})},
      {"noNewPrivileges", !c.security.allow_privilege_escalation.value_or(false)},
      {"oomScoreAdj", OomScoreAdj(pod, c, in.host)},
  };

  Json mounts = Json::array({
      Mount("/proc", "proc", "proc", {"nosuid", "noexec", "nodev"}),
      Mount("/dev", "tmpfs", "tmpfs", {"nosuid", "strictatime", "mode=755", "size=65536k"}),
      Mount("/dev/pts", "devpts", "devpts",
            {"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"}),
      Mount("/dev/shm", "tmpfs", "shm", {"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}),
      Mount("/dev/mqueue", "mqueue", "mqueue", {"nosuid", "noexec", "nodev"}),
      Mount("/sys", "sysfs", "sysfs", {"nosuid", "noexec", "nodev", "ro"}),
      Mount("/sys/fs/cgroup", "cgroup", "cgroup", {"nosuid", "noexec", "nodev", "relatime", "ro"}),
  });
  for (const auto& [dest, src] : {std::pair{"/etc/hosts", in.sandbox.hosts},
                                  {"/etc/hostname", in.sandbox.hostname},
                                  {"/etc/resolv.conf", in.sandbox.resolv_conf}}) {
    if (!src.empty()) {
      mounts.push_back(Mount(dest, "bind", src, {"rbind", "rprivate", "nosuid", "nodev", "ro"}));
    }
  }
  for (const auto& m : c.volume_mounts) {
    auto it = in.sandbox.volumes.find(m.name);
    if (it == in.sandbox.volumes.end()) return Invalid("volume " + m.name + " is not prepared");
    mounts.push_back(Mount(m.mount_path, "bind", it->second,
                           {"rbind", "rprivate", "nosuid", "nodev", m.read_only ? "ro" : "rw"}));
  }

  Json namespaces =
      Json::array({Namespace("pid"), Namespace("mount"), Namespace("cgroup"),
                   Namespace("network", in.sandbox.netns), Namespace("ipc", in.sandbox.ipcns),
                   Namespace("uts", in.sandbox.utsns)});

  Json linux = {
      {"namespaces", namespaces},
      {"cgroupsPath", in.cgroups_path},
      {"resources", LinuxResources(c.resources, in.pids_limit)},
      {"seccomp", DefaultSeccompProfile()},
      {"maskedPaths", Json::array({"/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys",
                                   "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats",
                                   "/proc/sched_debug", "/sys/firmware", "/proc/scsi"})},
      {"readonlyPaths",
       Json::array({"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"})},
  };

  return Json{
      {"ociVersion", "1.0.2"},
      {"process", std::move(process)},
      {"root", {{"path", in.rootfs}, {"readonly", c.security.read_only_root}}},
      {"hostname", pod.hostname},
      {"mounts", std::move(mounts)},
      {"linux", std::move(linux)},
      {"annotations",
       {{"io.kubernetes.pod.namespace", pod.ns},
        {"io.kubernetes.pod.name", pod.name},
        {"io.kubernetes.pod.uid", pod.uid},
        {"io.kubernetes.container.name", c.name}}},
  };
}

}  // namespace lintel::drivers::oci
