#include "drivers/oci/sandbox.h"

#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <sstream>
#include <thread>

#include "common/fs.h"
#include "drivers/oci/sys_util.h"

namespace lintel::drivers::oci {

namespace {

struct NsFile {
  const char* proc_name;  // under /proc/thread-self/ns/
  std::string path;
};

std::vector<NsFile> NsFiles(const SandboxPaths& p) {
  return {{"net", p.netns}, {"ipc", p.ipcns}, {"uts", p.utsns}};
}

bool IsMounted(const std::string& path) {
  auto m = MountsUnder(path);
  return !m.empty() && m.back() == path;
}

// Runs on a throwaway thread: namespaces are per thread (nsproxy), so the
// agent's other threads never see them.
Status MakeNamespaces(const SandboxPaths& p, const std::string& hostname) {
  if (::unshare(CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS) != 0) {
    return SysError("unshare", "net/ipc/uts", errno);
  }
  if (::sethostname(hostname.data(), hostname.size()) != 0) {
    return SysError("sethostname", hostname, errno);
  }
  // Loopback up, in the new network namespace.
  UniqueFd sock(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!sock.valid()) return SysError("socket", "", errno);
  struct ifreq ifr = {};
  std::strncpy(ifr.ifr_name, "lo", IFNAMSIZ - 1);
  if (::ioctl(sock.get(), SIOCGIFFLAGS, &ifr) != 0) return SysError("SIOCGIFFLAGS", "lo", errno);
  ifr.ifr_flags = static_cast<short>(ifr.ifr_flags | IFF_UP | IFF_RUNNING);
  if (::ioctl(sock.get(), SIOCSIFFLAGS, &ifr) != 0) return SysError("SIOCSIFFLAGS", "lo", errno);
  for (const auto& ns : NsFiles(p)) {
    std::string src = std::string("/proc/thread-self/ns/") + ns.proc_name;
    if (::mount(src.c_str(), ns.path.c_str(), nullptr, MS_BIND, nullptr) != 0) {
      return SysError("bind-mount " + src + " on", ns.path, errno);
    }
  }
  return Status();
}

Status WriteIfChanged(const std::string& path, const std::string& content) {
  auto old = ReadFile(path);
  if (old.ok() && *old == content) return Status();
  return WriteFileAtomic(path, content, 0644);
}

void RemoveNamespaces(const SandboxPaths& p) {
  for (const auto& ns : NsFiles(p)) {
    (void)DetachMount(ns.path);
    ::unlink(ns.path.c_str());
  }
}

}  // namespace

std::string HostsFile(const std::string& hostname, const std::string& pod_ip) {
  std::string out =
      "127.0.0.1\tlocalhost\n"
      "::1\tlocalhost ip6-localhost ip6-loopback\n"
      "fe00::0\tip6-localnet\n"
      "ff00::0\tip6-mcastprefix\n"
      "ff02::1\tip6-allnodes\n"
      "ff02::2\tip6-allrouters\n";
  out += (pod_ip.empty() ? std::string("127.0.1.1") : pod_ip) + "\t" + hostname + "\n";
  return out;
}

std::string ResolvConf(const std::string& host) {
  std::istringstream in(host);
  std::string line, out;
  while (std::getline(in, line)) {
    std::istringstream f(line);
    std::string key, value;
    f >> key >> value;
    if (key == "nameserver" && (value.rfind("127.", 0) == 0 || value == "::1")) continue;
    out += line + "\n";
  }
  return out;
}

SandboxPaths SandboxPathsFor(const SandboxLayout& layout, const PodPlan& pod) {
  SandboxPaths p;
  p.netns = layout.ns_dir + "/" + pod.uid;
  p.ipcns = p.netns + ".ipc";
  p.utsns = p.netns + ".uts";
  p.hosts = layout.pod_dir + "/etc/hosts";
  p.hostname = layout.pod_dir + "/etc/hostname";
  p.resolv_conf = layout.pod_dir + "/etc/resolv.conf";
  for (const auto& v : pod.volumes) p.volumes[v.name] = layout.pod_dir + "/volumes/" + v.name;
  return p;
}

bool SandboxExists(const SandboxLayout& layout, const PodPlan& pod) {
  SandboxPaths p = SandboxPathsFor(layout, pod);
  for (const auto& ns : NsFiles(p)) {
    if (!IsMounted(ns.path)) return false;
  }
  return true;
}

std::string EstateResolvConf(const NetworkInterface& net) {
  std::string out;
  if (!net.search.empty()) {
    out += "search";
    for (const auto& s : net.search) out += " " + s;
    out += "\n";
  }
  for (const auto& s : net.nameservers) out += "nameserver " + s + "\n";
  // NAME.NS.svc has two dots: tried as is before the search list.
  out += "options ndots:2\n";
  return out;
}

namespace {

WorkloadSpec PodWorkload(const PodPlan& pod) {
  WorkloadSpec w;
  w.kind = WorkloadKind::kPod;
  w.ns = pod.ns;
  w.name = pod.name;
  w.uid = pod.uid;
  return w;
}

}  // namespace

Result<SandboxPaths> CreateSandbox(const SandboxLayout& layout, const PodPlan& pod,
                                   WorkloadNetwork* network) {
  SandboxPaths p = SandboxPathsFor(layout, pod);
  LINTEL_RETURN_IF_ERROR(MakeDirs(layout.ns_dir, 0755));
  LINTEL_RETURN_IF_ERROR(MakeDirs(layout.pod_dir + "/etc", 0755));
  std::string pod_ip;
  const bool created = !SandboxExists(layout, pod);
  if (created) {
    RemoveNamespaces(p);  // a half-made one from a crash
    for (const auto& ns : NsFiles(p)) {
      UniqueFd fd(::open(ns.path.c_str(), O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0444));
      if (!fd.valid()) {
        Status s = SysError("create", ns.path, errno);
        RemoveNamespaces(p);
        return s;
      }
    }
    Status made;
    std::thread t([&] { made = MakeNamespaces(p, pod.hostname); });
    t.join();
    if (!made.ok()) {
      RemoveNamespaces(p);
      return made.Wrap("pod sandbox");
    }
    if (network) {
      auto net = network->AttachNetns(PodWorkload(pod), p.netns);
      if (!net.ok()) {
        (void)network->Detach(pod.uid);
        RemoveNamespaces(p);
        return net.error().Wrap("pod network");
      }
      p.net = std::move(*net);
      pod_ip = p.net->ip;
    }
  } else if (network) {
    p.net = network->Lookup(pod.uid);
    if (p.net) pod_ip = p.net->ip;
  }
  auto fail = [&](const Status& s) {
    (void)DestroySandbox(layout, pod, network);
    return s.Wrap("pod sandbox");
  };
  if (Status s = WriteIfChanged(p.hostname, pod.hostname + "\n"); !s.ok()) return fail(s);
  if (!pod_ip.empty() || !FileExists(p.hosts)) {
    if (Status s = WriteIfChanged(p.hosts, HostsFile(pod.hostname, pod_ip)); !s.ok())
      return fail(s);
  }
  // A re-adopted Pod keeps the resolv.conf its containers have mounted.
  const bool fresh = created || !FileExists(p.resolv_conf);
  std::string resolv;
  if (!fresh) {
    // kept as is
  } else if (p.net && !p.net->nameservers.empty()) {
    resolv = EstateResolvConf(*p.net);
  } else {
    auto host_resolv = ReadFile("/etc/resolv.conf");
    resolv = ResolvConf(host_resolv.ok() ? *host_resolv : "");
  }
  if (fresh) {
    if (Status s = WriteIfChanged(p.resolv_conf, resolv); !s.ok()) return fail(s);
  }
  for (const auto& v : pod.volumes) {
    const std::string& dir = p.volumes[v.name];
    if (Status s = MakeDirs(dir, 0777); !s.ok()) return fail(s);
    ::chmod(dir.c_str(), 0777);  // as Kubernetes: any container user may write
    if (v.memory && !IsMounted(dir)) {
      std::string opts = "mode=1777";
      if (v.size_limit) opts += ",size=" + std::to_string(*v.size_limit);
      if (::mount("tmpfs", dir.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, opts.c_str()) != 0) {
        return fail(SysError("mount tmpfs on", dir, errno));
      }
    }
  }
  return p;
}

Status DestroySandbox(const SandboxLayout& layout, const PodPlan& pod, WorkloadNetwork* network) {
  SandboxPaths p = SandboxPathsFor(layout, pod);
  Status first;
  if (network) first = network->Detach(pod.uid);
  RemoveNamespaces(p);
  for (const auto& [name, dir] : p.volumes) {
    Status s = DetachMount(dir);
    if (!s.ok() && first.ok()) first = s;
  }
  return first;
}

}  // namespace lintel::drivers::oci
