#include "net/host_network.h"

#include <fcntl.h>
#include <linux/if.h>
#include <linux/rtnetlink.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <utility>

#include "net/netlink.h"
#include "net/netns.h"
#include "net/tap.h"

namespace lintel::net {

namespace {

using std::strerror;

constexpr char kPodInterface[] = "eth0";
constexpr char kForwardingSysctl[] = "/proc/sys/net/ipv4/ip_forward";

Status ValidName(const std::string& what, const std::string& name) {
  if (name.empty() || name.size() >= IFNAMSIZ || name.find_first_of("/: \t\n") != name.npos) {
    return BadRequest(what + " \"" + name + "\": not a valid interface name (1-15 bytes)");
  }
  return Status();
}

// /proc/sys/net belongs to the namespace of the thread that opens it.
Status EnableForwarding() {
  int fd = ::open(kForwardingSysctl, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return Internal(std::string("open ") + kForwardingSysctl + ": " + strerror(errno));
  ssize_t n = ::write(fd, "1\n", 2);
  int err = errno;
  ::close(fd);
  if (n != 2) return Internal(std::string("write ") + kForwardingSysctl + ": " + strerror(err));
  return Status();
}

Result<Link> MustGetLink(Netlink& nl, const std::string& name) {
  LINTEL_ASSIGN_OR_RETURN(std::optional<Link> link, nl.GetLink(name));
  if (!link) return NotFound("link " + name + " vanished");
  return *link;
}

}  // namespace

HostNetwork::HostNetwork(HostNetworkConfig config) : config_(std::move(config)) {
  if (!config_.vtep_ip.empty()) {
    if (Result<Ipv4> ip = Ipv4::Parse(config_.vtep_ip); ip.ok()) vtep_ = *ip;
  }
}

std::string HostNetwork::HostInterfaceName(std::string_view prefix, const std::string& owner) {
  uint32_t hash = 2166136261u;
  for (unsigned char c : owner) {
    hash ^= c;
    hash *= 16777619u;
  }
  char hex[9];
  std::snprintf(hex, sizeof(hex), "%08x", hash);
  return std::string(prefix) + hex;
}

bool HostNetwork::IsHostInterfaceName(std::string_view name) {
  if (name.size() != 10) return false;
  if (name.substr(0, 2) != kVethPrefix && name.substr(0, 2) != kTapPrefix) return false;
  for (char c : name.substr(2)) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

std::string HostNetwork::MacFor(Ipv4 ip) {
  uint32_t v = ip.value;
  return FormatMac(Mac{0x52, 0x54, static_cast<uint8_t>(v >> 24), static_cast<uint8_t>(v >> 16),
                       static_cast<uint8_t>(v >> 8), static_cast<uint8_t>(v)});
}

Ipv4 HostNetwork::Gateway() const { return {config_.host_range.Network().value + 1}; }

Status HostNetwork::Validate() const {
  const Cidr& cluster = config_.cluster_range;
  const Cidr& host = config_.host_range;
  LINTEL_RETURN_IF_ERROR(ValidName("bridge", config_.bridge));
  if (cluster.prefix < 1 || cluster.prefix > 30) {
    return BadRequest("cluster range " + cluster.ToString() + ": prefix must be 1-30");
  }
  if (host.prefix > 30 || !cluster.Contains(host)) {
    return BadRequest("host range " + host.ToString() + ": must be a /30 or larger inside " +
                      cluster.ToString());
  }
  if (config_.service_range && config_.service_range->Overlaps(cluster)) {
    return BadRequest("service range " + config_.service_range->ToString() + " overlaps " +
                      cluster.ToString());
  }
  if (config_.mtu < 68 || config_.mtu > 65535) {
    return BadRequest("mtu " + std::to_string(config_.mtu) + ": must be 68-65535");
  }
  if (!config_.vtep_ip.empty()) {
    LINTEL_RETURN_IF_ERROR(ValidName("vxlan", config_.vxlan));
    if (!vtep_) return BadRequest("vtep ip \"" + config_.vtep_ip + "\": not an IPv4 address");
    if (config_.vni == 0 || config_.vni >= (1u << 24)) {
      return BadRequest("vni " + std::to_string(config_.vni) + ": must be 1-16777215");
    }
    if (config_.vxlan_port == 0) return BadRequest("vxlan port must not be 0");
  }
  return Status();
}

Result<int> HostNetwork::BridgeIndex(Netlink& nl) const {
  LINTEL_ASSIGN_OR_RETURN(std::optional<Link> bridge, nl.GetLink(config_.bridge));
  if (!bridge || bridge->kind != "bridge") {
    return Unavailable("bridge " + config_.bridge + " is missing (network not set up yet)");
  }
  return bridge->index;
}

Status HostNetwork::Setup() {
  std::lock_guard<std::mutex> lock(mu_);
  return SetupLocked().Wrap("set up host network");
}

Status HostNetwork::SetupLocked() {
  LINTEL_RETURN_IF_ERROR(Validate());
  LINTEL_ASSIGN_OR_RETURN(std::unique_ptr<Netlink> nl, Netlink::Open());
  LINTEL_RETURN_IF_ERROR(EnableForwarding());
  LINTEL_ASSIGN_OR_RETURN(int bridge, EnsureBridge(*nl));
  LINTEL_RETURN_IF_ERROR(EnsureBridgeAddress(*nl, bridge));
  LINTEL_RETURN_IF_ERROR(EnsureVxlan(*nl, bridge));
  return EnsureServiceRoute(*nl, bridge);
}

Result<int> HostNetwork::EnsureBridge(Netlink& nl) const {
  LINTEL_ASSIGN_OR_RETURN(Mac mac, ParseMac(MacFor(Gateway())));
  LINTEL_ASSIGN_OR_RETURN(std::optional<Link> link, nl.GetLink(config_.bridge));
  if (link && link->kind != "bridge") {
    return Conflict("bridge " + config_.bridge + ": a link of kind \"" + link->kind +
                    "\" has that name");
  }
  if (!link) {
    LINTEL_RETURN_IF_ERROR(nl.CreateBridge(config_.bridge, config_.mtu, mac));
    LINTEL_ASSIGN_OR_RETURN(link, MustGetLink(nl, config_.bridge));
  }
  LinkChanges changes;
  changes.mtu = config_.mtu;
  changes.up = true;
  if (link->mac != FormatMac(mac)) changes.mac = mac;
  Status s = nl.SetLink(link->index, changes);
  if (!s.ok()) return s.Wrap("bridge " + config_.bridge);
  return link->index;
}

Status HostNetwork::EnsureBridgeAddress(Netlink& nl, int bridge) const {
  Cidr want{Gateway(), config_.cluster_range.prefix};
  LINTEL_ASSIGN_OR_RETURN(std::vector<Cidr> have, nl.ListAddresses(bridge));
  bool present = false;
  for (const Cidr& a : have) {
    if (a == want) {
      present = true;
    } else {
      LINTEL_RETURN_IF_ERROR(nl.DeleteAddress(bridge, a));
    }
  }
  return present ? Status() : nl.AddAddress(bridge, want);
}

Status HostNetwork::EnsureVxlan(Netlink& nl, int bridge) {
  if (!vtep_) return nl.DeleteLink(config_.vxlan);
  LINTEL_ASSIGN_OR_RETURN(std::optional<Link> link, nl.GetLink(config_.vxlan));
  bool recreate = !link || link->kind != "vxlan" || link->vxlan_id != config_.vni ||
                  link->vxlan_local != *vtep_ || link->vxlan_port != config_.vxlan_port ||
                  !link->vxlan_learning;
  if (link && recreate) LINTEL_RETURN_IF_ERROR(nl.DeleteLink(config_.vxlan));
  if (recreate) {
    VxlanSpec spec{config_.vxlan, config_.vni, *vtep_, config_.vxlan_port, true, config_.mtu};
    LINTEL_RETURN_IF_ERROR(nl.CreateVxlan(spec));
    LINTEL_ASSIGN_OR_RETURN(link, MustGetLink(nl, config_.vxlan));
  }
  LinkChanges changes;
  changes.master = bridge;
  changes.mtu = config_.mtu;
  changes.up = true;
  Status s = nl.SetLink(link->index, changes);
  if (!s.ok()) return s.Wrap("vxlan " + config_.vxlan);
  return recreate ? ApplyPeers(nl, link->index, peers_) : Status();
}

Status HostNetwork::EnsureServiceRoute(Netlink& nl, int bridge) const {
  std::optional<Cidr> want;
  if (config_.service_range) {
    want = Cidr{config_.service_range->Network(), config_.service_range->prefix};
  }
  LINTEL_ASSIGN_OR_RETURN(std::vector<Route> routes, nl.ListRoutes());
  for (const Route& r : routes) {
    // Ours: static, on the bridge, no gateway. Anything else there is stale
    // (a Service range that changed).
    if (r.oif == bridge && r.protocol == RTPROT_STATIC && !r.gateway && r.dst != want) {
      LINTEL_RETURN_IF_ERROR(nl.DeleteRoute(r));
    }
  }
  if (!want) return Status();
  return nl.ReplaceRoute(Route{*want, bridge, std::nullopt, RTPROT_STATIC});
}

Status HostNetwork::SetPeers(const std::vector<std::string>& vtep_ips) {
  std::lock_guard<std::mutex> lock(mu_);
  std::set<Ipv4> want;
  for (const std::string& text : vtep_ips) {
    Result<Ipv4> ip = Ipv4::Parse(text);
    if (!ip.ok()) return ip.error().Wrap("set vxlan peers");
    if (vtep_ && *ip == *vtep_) continue;
    want.insert(*ip);
  }
  if (!vtep_) {
    if (want.empty()) return Status();
    return BadRequest("set vxlan peers: this host has no VXLAN (vtep ip not set)");
  }
  Status s = [&]() -> Status {
    LINTEL_ASSIGN_OR_RETURN(std::unique_ptr<Netlink> nl, Netlink::Open());
    LINTEL_ASSIGN_OR_RETURN(std::optional<Link> vx, nl->GetLink(config_.vxlan));
    if (!vx || vx->kind != "vxlan") {
      return Unavailable("vxlan " + config_.vxlan + " is missing (network not set up yet)");
    }
    return ApplyPeers(*nl, vx->index, want);
  }();
  if (s.ok()) peers_ = std::move(want);
  return s.Wrap("set vxlan peers");
}

Status HostNetwork::ApplyPeers(Netlink& nl, int vxlan, const std::set<Ipv4>& want) {
  LINTEL_ASSIGN_OR_RETURN(std::vector<Ipv4> have_list, nl.ListFloodPeers(vxlan));
  std::set<Ipv4> have(have_list.begin(), have_list.end());
  for (Ipv4 ip : have) {
    if (want.count(ip) == 0) LINTEL_RETURN_IF_ERROR(nl.DeleteFloodPeer(vxlan, ip));
  }
  for (Ipv4 ip : want) {
    if (have.count(ip) == 0) LINTEL_RETURN_IF_ERROR(nl.AppendFloodPeer(vxlan, ip));
  }
  return Status();
}

Result<Attachment> HostNetwork::AttachNetns(const std::string& owner, const std::string& netns_path,
                                            Ipv4 ip) {
  std::lock_guard<std::mutex> lock(mu_);
  const std::string name = HostInterfaceName(kVethPrefix, owner);
  const std::string context = "attach " + name + " (" + owner + ") to netns " + netns_path;
  LINTEL_RETURN_IF_ERROR(Validate().Wrap(context));
  if (!config_.cluster_range.Contains(ip) || ip == Gateway()) {
    return BadRequest(context + ": address " + ip.ToString() + " is not a workload address of " +
                      config_.cluster_range.ToString());
  }
  Attachment a{name, MacFor(ip), ip, config_.cluster_range.prefix, Gateway(), config_.mtu};
  LINTEL_ASSIGN_OR_RETURN(std::unique_ptr<Netlink> nl, Netlink::Open());
  Status s = [&]() -> Status {
    LINTEL_ASSIGN_OR_RETURN(int bridge, BridgeIndex(*nl));
    LINTEL_ASSIGN_OR_RETURN(NetnsFd ns, NetnsFd::Open(netns_path));
    LINTEL_ASSIGN_OR_RETURN(std::unique_ptr<Netlink> pod, OpenNetlinkIn(netns_path));
    LINTEL_RETURN_IF_ERROR(nl->DeleteLink(name));
    // An eth0 left by an earlier attempt whose host end is gone.
    LINTEL_ASSIGN_OR_RETURN(std::optional<Link> old, pod->GetLink(kPodInterface));
    if (old && old->kind != "veth") {
      return Conflict(std::string("the netns has an ") + kPodInterface + " of kind \"" + old->kind +
                      "\"");
    }
    if (old) LINTEL_RETURN_IF_ERROR(pod->DeleteLink(kPodInterface));

    LINTEL_ASSIGN_OR_RETURN(Mac mac, ParseMac(a.mac));
    LINTEL_RETURN_IF_ERROR(nl->CreateVeth({name, kPodInterface, ns.get(), mac, config_.mtu}));
    LINTEL_ASSIGN_OR_RETURN(Link host, MustGetLink(*nl, name));
    LinkChanges changes;
    changes.master = bridge;
    changes.mtu = config_.mtu;
    changes.up = true;
    LINTEL_RETURN_IF_ERROR(nl->SetLink(host.index, changes).Wrap(name));
    LINTEL_RETURN_IF_ERROR(nl->SetHairpin(host.index, true).Wrap(name));
    return ConfigurePodSide(*pod, a);
  }();
  if (!s.ok()) {
    (void)nl->DeleteLink(name);  // best effort; takes the netns end with it
    return s.Wrap(context);
  }
  return a;
}

Status HostNetwork::ConfigurePodSide(Netlink& pod, const Attachment& a) {
  LINTEL_ASSIGN_OR_RETURN(Link eth0, MustGetLink(pod, kPodInterface));
  LINTEL_RETURN_IF_ERROR(pod.AddAddress(eth0.index, Cidr{a.ip, a.prefix}));
  LinkChanges up;
  up.up = true;
  LINTEL_RETURN_IF_ERROR(pod.SetLink(eth0.index, up).Wrap(kPodInterface));
  LINTEL_ASSIGN_OR_RETURN(Link lo, MustGetLink(pod, "lo"));
  LINTEL_RETURN_IF_ERROR(pod.SetLink(lo.index, up).Wrap("lo"));
  return pod.ReplaceRoute(Route{Cidr{Ipv4{}, 0}, eth0.index, a.gateway, RTPROT_STATIC});
}

Result<Attachment> HostNetwork::AttachTap(const std::string& owner, Ipv4 ip) {
  std::lock_guard<std::mutex> lock(mu_);
  const std::string name = HostInterfaceName(kTapPrefix, owner);
  const std::string context = "attach tap " + name + " (" + owner + ")";
  LINTEL_RETURN_IF_ERROR(Validate().Wrap(context));
  if (!config_.cluster_range.Contains(ip) || ip == Gateway()) {
    return BadRequest(context + ": address " + ip.ToString() + " is not a workload address of " +
                      config_.cluster_range.ToString());
  }
  Status s = [&]() -> Status {
    LINTEL_ASSIGN_OR_RETURN(std::unique_ptr<Netlink> nl, Netlink::Open());
    LINTEL_ASSIGN_OR_RETURN(int bridge, BridgeIndex(*nl));
    LINTEL_ASSIGN_OR_RETURN(std::optional<Link> link, nl->GetLink(name));
    if (link && link->kind != "tun") {
      LINTEL_RETURN_IF_ERROR(nl->DeleteLink(name));
      link.reset();
    }
    if (!link) {
      LINTEL_RETURN_IF_ERROR(CreatePersistentTap(name));
      LINTEL_ASSIGN_OR_RETURN(link, MustGetLink(*nl, name));
    }
    LinkChanges changes;
    changes.master = bridge;
    changes.mtu = config_.mtu;
    changes.up = true;
    LINTEL_RETURN_IF_ERROR(nl->SetLink(link->index, changes).Wrap(name));
    // As for Pods: a VM that backs a Service reaches itself through the VIP.
    return nl->SetHairpin(link->index, true).Wrap(name);
  }();
  if (!s.ok()) return s.Wrap(context);
  return Attachment{name, MacFor(ip), ip, config_.cluster_range.prefix, Gateway(), config_.mtu};
}

Status HostNetwork::Detach(const std::string& owner) {
  std::lock_guard<std::mutex> lock(mu_);
  Status s = [&]() -> Status {
    LINTEL_ASSIGN_OR_RETURN(std::unique_ptr<Netlink> nl, Netlink::Open());
    LINTEL_RETURN_IF_ERROR(nl->DeleteLink(HostInterfaceName(kVethPrefix, owner)));
    return DeleteTap(*nl, HostInterfaceName(kTapPrefix, owner));
  }();
  return s.Wrap("detach " + owner);
}

Result<int> HostNetwork::RemoveAllExcept(const std::set<std::string>& owners) {
  std::lock_guard<std::mutex> lock(mu_);
  LINTEL_ASSIGN_OR_RETURN(std::unique_ptr<Netlink> nl, Netlink::Open());
  return RemoveOrphans(*nl, owners);
}

Result<int> HostNetwork::RemoveOrphans(Netlink& nl, const std::set<std::string>& owners) {
  std::set<std::string> keep;
  for (const std::string& owner : owners) {
    keep.insert(HostInterfaceName(kVethPrefix, owner));
    keep.insert(HostInterfaceName(kTapPrefix, owner));
  }
  LINTEL_ASSIGN_OR_RETURN(std::vector<Link> links, nl.ListLinks());
  int removed = 0;
  for (const Link& link : links) {
    if (!IsHostInterfaceName(link.name) || keep.count(link.name) != 0) continue;
    bool veth = link.name.compare(0, kVethPrefix.size(), kVethPrefix) == 0;
    if (link.kind != (veth ? "veth" : "tun")) continue;  // not ours after all
    LINTEL_RETURN_IF_ERROR(nl.DeleteLink(link.name).Wrap("remove orphaned interfaces"));
    ++removed;
  }
  return removed;
}

Status HostNetwork::Teardown() {
  std::lock_guard<std::mutex> lock(mu_);
  Status s = [&]() -> Status {
    LINTEL_ASSIGN_OR_RETURN(std::unique_ptr<Netlink> nl, Netlink::Open());
    LINTEL_RETURN_IF_ERROR(RemoveOrphans(*nl, {}).status());
    LINTEL_RETURN_IF_ERROR(nl->DeleteLink(config_.vxlan));
    return nl->DeleteLink(config_.bridge);
  }();
  if (s.ok()) peers_.clear();
  return s.Wrap("tear down host network");
}

}  // namespace lintel::net
