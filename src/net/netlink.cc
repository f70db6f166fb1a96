#include "net/netlink.h"

#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/if.h>
#include <linux/if_link.h>
#include <linux/neighbour.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace lintel::net {

namespace {

constexpr size_t kReceiveBuffer = 64 * 1024;  // large enough for any dump message
constexpr size_t kRequestBuffer = 4096;

// One request under construction: a zeroed, aligned buffer and its header.
class Request {
 public:
  Request(uint16_t type, uint16_t flags) {
    nlh_ = mnl_nlmsg_put_header(buf_);
    nlh_->nlmsg_type = type;
    nlh_->nlmsg_flags = NLM_F_REQUEST | flags;
  }
  template <typename T>
  T* Header() {
    return static_cast<T*>(mnl_nlmsg_put_extra_header(nlh_, sizeof(T)));
  }
  nlmsghdr* nlh() { return nlh_; }
  void Str(uint16_t type, const std::string& s) { mnl_attr_put_strz(nlh_, type, s.c_str()); }
  void U8(uint16_t type, uint8_t v) { mnl_attr_put_u8(nlh_, type, v); }
  void U16(uint16_t type, uint16_t v) { mnl_attr_put_u16(nlh_, type, v); }
  void U32(uint16_t type, uint32_t v) { mnl_attr_put_u32(nlh_, type, v); }
  void Ip(uint16_t type, Ipv4 ip) { mnl_attr_put_u32(nlh_, type, htonl(ip.value)); }
  void Bytes(uint16_t type, const void* data, size_t len) { mnl_attr_put(nlh_, type, len, data); }
  nlattr* Nest(uint16_t type) { return mnl_attr_nest_start(nlh_, type); }
  void End(nlattr* nest) { mnl_attr_nest_end(nlh_, nest); }

 private:
  alignas(8) char buf_[kRequestBuffer] = {};
  nlmsghdr* nlh_;
};

// Attributes by type; types above `max` are ignored.
using Attrs = std::vector<const nlattr*>;

int CollectAttr(const nlattr* attr, void* data) {
  auto* tb = static_cast<Attrs*>(data);
  uint16_t type = mnl_attr_get_type(attr);
  if (type < tb->size()) (*tb)[type] = attr;
  return MNL_CB_OK;
}

Attrs ParseAttrs(const nlmsghdr* nlh, size_t header_size, int max) {
  Attrs tb(static_cast<size_t>(max) + 1, nullptr);
  mnl_attr_parse(nlh, static_cast<unsigned>(MNL_ALIGN(header_size)), CollectAttr, &tb);
  return tb;
}

Attrs ParseNested(const nlattr* nest, int max) {
  Attrs tb(static_cast<size_t>(max) + 1, nullptr);
  if (nest != nullptr) mnl_attr_parse_nested(nest, CollectAttr, &tb);
  return tb;
}

std::optional<uint32_t> GetU32(const nlattr* a) {
  if (a == nullptr || mnl_attr_get_payload_len(a) < sizeof(uint32_t)) return std::nullopt;
  return mnl_attr_get_u32(a);
}

std::optional<Ipv4> GetIp(const nlattr* a) {
  if (a == nullptr || mnl_attr_get_payload_len(a) != sizeof(uint32_t)) return std::nullopt;
  return Ipv4{ntohl(mnl_attr_get_u32(a))};
}

std::string GetStr(const nlattr* a) {
  if (a == nullptr) return {};
  const char* p = static_cast<const char*>(mnl_attr_get_payload(a));
  return std::string(p, strnlen(p, mnl_attr_get_payload_len(a)));
}

bool IsDump(const nlmsghdr* nlh) { return (nlh->nlmsg_flags & NLM_F_DUMP) == NLM_F_DUMP; }

Link ParseLink(const nlmsghdr* nlh) {
  const auto* ifi = static_cast<const ifinfomsg*>(mnl_nlmsg_get_payload(nlh));
  Attrs tb = ParseAttrs(nlh, sizeof(ifinfomsg), IFLA_MAX);
  Link link;
  link.index = ifi->ifi_index;
  link.up = (ifi->ifi_flags & IFF_UP) != 0;
  link.name = GetStr(tb[IFLA_IFNAME]);
  link.mtu = static_cast<int>(GetU32(tb[IFLA_MTU]).value_or(0));
  link.master = static_cast<int>(GetU32(tb[IFLA_MASTER]).value_or(0));
  if (tb[IFLA_ADDRESS] != nullptr && mnl_attr_get_payload_len(tb[IFLA_ADDRESS]) == 6) {
    Mac mac;
    std::memcpy(mac.data(), mnl_attr_get_payload(tb[IFLA_ADDRESS]), mac.size());
    link.mac = FormatMac(mac);
  }
  Attrs info = ParseNested(tb[IFLA_LINKINFO], IFLA_INFO_MAX);
  link.kind = GetStr(info[IFLA_INFO_KIND]);
  if (link.kind == "vxlan") {
    Attrs vx = ParseNested(info[IFLA_INFO_DATA], IFLA_VXLAN_MAX);
    link.vxlan_id = GetU32(vx[IFLA_VXLAN_ID]).value_or(0);
    link.vxlan_local = GetIp(vx[IFLA_VXLAN_LOCAL]).value_or(Ipv4{});
    if (vx[IFLA_VXLAN_PORT] != nullptr && mnl_attr_get_payload_len(vx[IFLA_VXLAN_PORT]) >= 2) {
      link.vxlan_port = ntohs(mnl_attr_get_u16(vx[IFLA_VXLAN_PORT]));
    }
    link.vxlan_learning =
        vx[IFLA_VXLAN_LEARNING] != nullptr && mnl_attr_get_u8(vx[IFLA_VXLAN_LEARNING]) != 0;
  }
  return link;
}

bool IgnorableOnDelete(const Status& s) { return s.code() == Code::kNotFound; }

}  // namespace

std::string FormatMac(const Mac& mac) {
  char out[18];
  std::snprintf(out, sizeof(out), "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3],
                mac[4], mac[5]);
  return out;
}

Result<Mac> ParseMac(std::string_view text) {
  Mac mac{};
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  if (text.size() != 17) return BadRequest("invalid MAC address \"" + std::string(text) + "\"");
  for (size_t i = 0; i < 6; ++i) {
    int hi = hex(text[i * 3]);
    int lo = hex(text[i * 3 + 1]);
    if (hi < 0 || lo < 0 || (i < 5 && text[i * 3 + 2] != ':')) {
      return BadRequest("invalid MAC address \"" + std::string(text) + "\"");
    }
    mac[i] = static_cast<uint8_t>(hi * 16 + lo);
  }
  return mac;
}

Status NetlinkError(std::string_view what, int err, std::string_view detail) {
  std::string msg = std::string(what) + ": " + std::strerror(err);
  if (!detail.empty()) msg += " (" + std::string(detail) + ")";
  switch (err) {
    case EEXIST:
      return AlreadyExists(std::move(msg));
    case ENOENT:
    case ENODEV:
    case ESRCH:
    case EADDRNOTAVAIL:
      return NotFound(std::move(msg));
    case EPERM:
    case EACCES:
      return Forbidden(std::move(msg));
    case EBUSY:
    case EAGAIN:
    case ENOBUFS:
      return Unavailable(std::move(msg));
    case EOPNOTSUPP:
      return NotSupported(std::move(msg));
    default:
      return Internal(std::move(msg));
  }
}

Result<std::unique_ptr<Netlink>> Netlink::Open() {
  mnl_socket* s = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
  if (s == nullptr) return NetlinkError("open netlink socket", errno);
  if (mnl_socket_bind(s, 0, MNL_SOCKET_AUTOPID) < 0) {
    int err = errno;
    mnl_socket_close(s);
    return NetlinkError("bind netlink socket", err);
  }
  int on = 1;
  // Best effort: the kernel's own explanation of an error ("VNI already exists").
  (void)mnl_socket_setsockopt(s, NETLINK_EXT_ACK, &on, sizeof(on));
  return std::unique_ptr<Netlink>(new Netlink(s));
}

Netlink::Netlink(mnl_socket* socket)
    : socket_(socket), port_id_(mnl_socket_get_portid(socket)), seq_(0), buf_(kReceiveBuffer) {}

Netlink::~Netlink() { mnl_socket_close(socket_); }

Status Netlink::Transact(nlmsghdr* nlh, std::string_view what, const Callback& on_message) {
  uint32_t seq = ++seq_;
  nlh->nlmsg_seq = seq;
  if (!IsDump(nlh)) nlh->nlmsg_flags |= NLM_F_ACK;
  if (mnl_socket_sendto(socket_, nlh, nlh->nlmsg_len) < 0) return NetlinkError(what, errno);
  for (;;) {
    ssize_t n = mnl_socket_recvfrom(socket_, buf_.data(), buf_.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return NetlinkError(what, errno);
    }
    int left = static_cast<int>(n);
    for (auto* m = reinterpret_cast<nlmsghdr*>(buf_.data()); mnl_nlmsg_ok(m, left);
         m = mnl_nlmsg_next(m, &left)) {
      if (m->nlmsg_seq != seq || m->nlmsg_pid != port_id_) continue;  // a stale answer
      if (m->nlmsg_type == NLMSG_ERROR) {
        if (m->nlmsg_len < mnl_nlmsg_size(sizeof(nlmsgerr))) {
          return Internal(std::string(what) + ": truncated netlink error");
        }
        const auto* e = static_cast<const nlmsgerr*>(mnl_nlmsg_get_payload(m));
        if (e->error == 0) return Status();
        std::string detail;
        if ((m->nlmsg_flags & NLM_F_ACK_TLVS) != 0) {
          size_t offset = sizeof(nlmsgerr);
          if ((m->nlmsg_flags & NLM_F_CAPPED) == 0) offset += e->msg.nlmsg_len - sizeof(nlmsghdr);
          Attrs tb(NLMSGERR_ATTR_MAX + 1, nullptr);
          if (offset < m->nlmsg_len) {
            mnl_attr_parse(m, static_cast<unsigned>(MNL_ALIGN(offset)), CollectAttr, &tb);
          }
          detail = GetStr(tb[NLMSGERR_ATTR_MSG]);
        }
        return NetlinkError(what, -e->error, detail);
      }
      if (m->nlmsg_type == NLMSG_DONE) {
        if (m->nlmsg_len >= mnl_nlmsg_size(sizeof(int))) {
          int err = *static_cast<const int*>(mnl_nlmsg_get_payload(m));
          if (err < 0) return NetlinkError(what, -err);
        }
        return Status();
      }
      if (m->nlmsg_type == NLMSG_NOOP || m->nlmsg_type == NLMSG_OVERRUN) continue;
      if (on_message) on_message(m);
    }
  }
}

Result<std::vector<Link>> Netlink::ListLinks() {
  Request r(RTM_GETLINK, NLM_F_DUMP);
  r.Header<ifinfomsg>()->ifi_family = AF_UNSPEC;
  std::vector<Link> links;
  LINTEL_RETURN_IF_ERROR(Transact(r.nlh(), "list links", [&](const nlmsghdr* m) {
    if (m->nlmsg_type == RTM_NEWLINK) links.push_back(ParseLink(m));
  }));
  return links;
}

Result<std::optional<Link>> Netlink::GetLink(const std::string& name) {
  Request r(RTM_GETLINK, 0);
  r.Header<ifinfomsg>()->ifi_family = AF_UNSPEC;
  r.Str(IFLA_IFNAME, name);
  std::optional<Link> link;
  Status s = Transact(r.nlh(), "get link " + name, [&](const nlmsghdr* m) {
    if (m->nlmsg_type == RTM_NEWLINK) link = ParseLink(m);
  });
  if (s.code() == Code::kNotFound) return std::optional<Link>();
  if (!s.ok()) return s;
  return link;
}

Status Netlink::CreateBridge(const std::string& name, int mtu, const Mac& mac) {
  Request r(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
  r.Header<ifinfomsg>()->ifi_family = AF_UNSPEC;
  r.Str(IFLA_IFNAME, name);
  if (mtu > 0) r.U32(IFLA_MTU, static_cast<uint32_t>(mtu));
  r.Bytes(IFLA_ADDRESS, mac.data(), mac.size());
  nlattr* info = r.Nest(IFLA_LINKINFO);
  r.Str(IFLA_INFO_KIND, "bridge");
  r.End(info);
  return Transact(r.nlh(), "create bridge " + name);
}

Status Netlink::CreateVxlan(const VxlanSpec& spec) {
  Request r(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
  r.Header<ifinfomsg>()->ifi_family = AF_UNSPEC;
  r.Str(IFLA_IFNAME, spec.name);
  if (spec.mtu > 0) r.U32(IFLA_MTU, static_cast<uint32_t>(spec.mtu));
  nlattr* info = r.Nest(IFLA_LINKINFO);
  r.Str(IFLA_INFO_KIND, "vxlan");
  nlattr* data = r.Nest(IFLA_INFO_DATA);
  r.U32(IFLA_VXLAN_ID, spec.vni);
  r.Ip(IFLA_VXLAN_LOCAL, spec.local);
  r.U16(IFLA_VXLAN_PORT, htons(spec.port));
  r.U8(IFLA_VXLAN_LEARNING, spec.learning ? 1 : 0);
  r.End(data);
  r.End(info);
  return Transact(r.nlh(), "create vxlan " + spec.name);
}

Status Netlink::CreateVeth(const VethSpec& spec) {
  Request r(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
  r.Header<ifinfomsg>()->ifi_family = AF_UNSPEC;
  r.Str(IFLA_IFNAME, spec.name);
  if (spec.mtu > 0) r.U32(IFLA_MTU, static_cast<uint32_t>(spec.mtu));
  nlattr* info = r.Nest(IFLA_LINKINFO);
  r.Str(IFLA_INFO_KIND, "veth");
  nlattr* data = r.Nest(IFLA_INFO_DATA);
  nlattr* peer = r.Nest(VETH_INFO_PEER);
  r.Header<ifinfomsg>()->ifi_family = AF_UNSPEC;  // the peer's own link message
  r.Str(IFLA_IFNAME, spec.peer_name);
  if (spec.mtu > 0) r.U32(IFLA_MTU, static_cast<uint32_t>(spec.mtu));
  if (spec.peer_netns_fd >= 0) r.U32(IFLA_NET_NS_FD, static_cast<uint32_t>(spec.peer_netns_fd));
  if (spec.peer_mac) r.Bytes(IFLA_ADDRESS, spec.peer_mac->data(), spec.peer_mac->size());
  r.End(peer);
  r.End(data);
  r.End(info);
  return Transact(r.nlh(), "create veth " + spec.name);
}

Status Netlink::SetLink(int index, const LinkChanges& changes) {
  Request r(RTM_NEWLINK, 0);
  auto* ifi = r.Header<ifinfomsg>();
  ifi->ifi_family = AF_UNSPEC;
  ifi->ifi_index = index;
  if (changes.up) {
    ifi->ifi_change = IFF_UP;
    ifi->ifi_flags = *changes.up ? IFF_UP : 0;
  }
  if (changes.mtu) r.U32(IFLA_MTU, static_cast<uint32_t>(*changes.mtu));
  if (changes.mac) r.Bytes(IFLA_ADDRESS, changes.mac->data(), changes.mac->size());
  if (changes.master) r.U32(IFLA_MASTER, static_cast<uint32_t>(*changes.master));
  return Transact(r.nlh(), "set link " + std::to_string(index));
}

Status Netlink::SetHairpin(int index, bool on) {
  Request r(RTM_SETLINK, 0);
  auto* ifi = r.Header<ifinfomsg>();
  ifi->ifi_family = AF_BRIDGE;
  ifi->ifi_index = index;
  nlattr* protinfo = r.Nest(IFLA_PROTINFO | NLA_F_NESTED);
  r.U8(IFLA_BRPORT_MODE, on ? 1 : 0);
  r.End(protinfo);
  return Transact(r.nlh(), "set hairpin on link " + std::to_string(index));
}

Status Netlink::DeleteLink(const std::string& name) {
  Request r(RTM_DELLINK, 0);
  r.Header<ifinfomsg>()->ifi_family = AF_UNSPEC;
  r.Str(IFLA_IFNAME, name);
  Status s = Transact(r.nlh(), "delete link " + name);
  return IgnorableOnDelete(s) ? Status() : s;
}

Result<std::vector<Cidr>> Netlink::ListAddresses(int index) {
  Request r(RTM_GETADDR, NLM_F_DUMP);
  r.Header<ifaddrmsg>()->ifa_family = AF_INET;
  std::vector<Cidr> out;
  LINTEL_RETURN_IF_ERROR(Transact(r.nlh(), "list addresses", [&](const nlmsghdr* m) {
    if (m->nlmsg_type != RTM_NEWADDR) return;
    const auto* ifa = static_cast<const ifaddrmsg*>(mnl_nlmsg_get_payload(m));
    if (ifa->ifa_family != AF_INET || static_cast<int>(ifa->ifa_index) != index) return;
    Attrs tb = ParseAttrs(m, sizeof(ifaddrmsg), IFA_MAX);
    std::optional<Ipv4> ip = GetIp(tb[IFA_LOCAL] != nullptr ? tb[IFA_LOCAL] : tb[IFA_ADDRESS]);
    if (ip) out.push_back(Cidr{*ip, ifa->ifa_prefixlen});
  }));
  return out;
}

Status Netlink::AddAddress(int index, const Cidr& address) {
  Request r(RTM_NEWADDR, NLM_F_CREATE | NLM_F_REPLACE);
  auto* ifa = r.Header<ifaddrmsg>();
  ifa->ifa_family = AF_INET;
  ifa->ifa_prefixlen = static_cast<uint8_t>(address.prefix);
  ifa->ifa_scope = RT_SCOPE_UNIVERSE;
  ifa->ifa_index = static_cast<uint32_t>(index);
  r.Ip(IFA_LOCAL, address.address);
  r.Ip(IFA_ADDRESS, address.address);
  return Transact(r.nlh(),
                  "add address " + address.ToString() + " to link " + std::to_string(index));
}

Status Netlink::DeleteAddress(int index, const Cidr& address) {
  Request r(RTM_DELADDR, 0);
  auto* ifa = r.Header<ifaddrmsg>();
  ifa->ifa_family = AF_INET;
  ifa->ifa_prefixlen = static_cast<uint8_t>(address.prefix);
  ifa->ifa_index = static_cast<uint32_t>(index);
  r.Ip(IFA_LOCAL, address.address);
  Status s = Transact(
      r.nlh(), "delete address " + address.ToString() + " from link " + std::to_string(index));
  return IgnorableOnDelete(s) ? Status() : s;
}

Result<std::vector<Route>> Netlink::ListRoutes() {
  Request r(RTM_GETROUTE, NLM_F_DUMP);
  r.Header<rtmsg>()->rtm_family = AF_INET;
  std::vector<Route> out;
  LINTEL_RETURN_IF_ERROR(Transact(r.nlh(), "list routes", [&](const nlmsghdr* m) {
    if (m->nlmsg_type != RTM_NEWROUTE) return;
    const auto* rtm = static_cast<const rtmsg*>(mnl_nlmsg_get_payload(m));
    Attrs tb = ParseAttrs(m, sizeof(rtmsg), RTA_MAX);
    uint32_t table = GetU32(tb[RTA_TABLE]).value_or(rtm->rtm_table);
    if (rtm->rtm_family != AF_INET || table != RT_TABLE_MAIN || rtm->rtm_type != RTN_UNICAST) {
      return;
    }
    Route route;
    route.dst = Cidr{GetIp(tb[RTA_DST]).value_or(Ipv4{}), rtm->rtm_dst_len};
    route.oif = static_cast<int>(GetU32(tb[RTA_OIF]).value_or(0));
    route.gateway = GetIp(tb[RTA_GATEWAY]);
    route.protocol = rtm->rtm_protocol;
    out.push_back(route);
  }));
  return out;
}

namespace {
void FillRoute(Request& r, const Route& route, bool remove) {
  auto* rtm = r.Header<rtmsg>();
  rtm->rtm_family = AF_INET;
  rtm->rtm_dst_len = static_cast<uint8_t>(route.dst.prefix);
  rtm->rtm_table = RT_TABLE_MAIN;
  rtm->rtm_protocol = route.protocol;
  rtm->rtm_type = RTN_UNICAST;
  rtm->rtm_scope = remove ? RT_SCOPE_NOWHERE : route.gateway ? RT_SCOPE_UNIVERSE : RT_SCOPE_LINK;
  if (route.dst.prefix > 0) r.Ip(RTA_DST, route.dst.Network());
  if (route.oif > 0) r.U32(RTA_OIF, static_cast<uint32_t>(route.oif));
  if (route.gateway) r.Ip(RTA_GATEWAY, *route.gateway);
}
}  // namespace

Status Netlink::ReplaceRoute(const Route& route) {
  Request r(RTM_NEWROUTE, NLM_F_CREATE | NLM_F_REPLACE);
  FillRoute(r, route, false);
  return Transact(r.nlh(), "add route " + route.dst.ToString());
}

Status Netlink::DeleteRoute(const Route& route) {
  Request r(RTM_DELROUTE, 0);
  FillRoute(r, route, true);
  Status s = Transact(r.nlh(), "delete route " + route.dst.ToString());
  return IgnorableOnDelete(s) ? Status() : s;
}

Result<std::vector<Ipv4>> Netlink::ListFloodPeers(int vxlan_index) {
  Request r(RTM_GETNEIGH, NLM_F_DUMP);
  r.Header<ndmsg>()->ndm_family = AF_BRIDGE;
  std::vector<Ipv4> out;
  LINTEL_RETURN_IF_ERROR(Transact(r.nlh(), "list fdb", [&](const nlmsghdr* m) {
    if (m->nlmsg_type != RTM_NEWNEIGH) return;
    const auto* ndm = static_cast<const ndmsg*>(mnl_nlmsg_get_payload(m));
    if (ndm->ndm_ifindex != vxlan_index) return;
    Attrs tb = ParseAttrs(m, sizeof(ndmsg), NDA_MAX);
    const nlattr* lladdr = tb[NDA_LLADDR];
    if (lladdr == nullptr || mnl_attr_get_payload_len(lladdr) != 6) return;
    static constexpr Mac kZero{};
    if (std::memcmp(mnl_attr_get_payload(lladdr), kZero.data(), kZero.size()) != 0) return;
    if (std::optional<Ipv4> dst = GetIp(tb[NDA_DST])) out.push_back(*dst);
  }));
  return out;
}

namespace {
void FillFlood(Request& r, int vxlan_index, Ipv4 peer) {
  auto* ndm = r.Header<ndmsg>();
  ndm->ndm_family = AF_BRIDGE;
  ndm->ndm_ifindex = vxlan_index;
  ndm->ndm_state = NUD_PERMANENT;
  ndm->ndm_flags = NTF_SELF;
  static constexpr Mac kZero{};
  r.Bytes(NDA_LLADDR, kZero.data(), kZero.size());
  r.Ip(NDA_DST, peer);
}
}  // namespace

Status Netlink::AppendFloodPeer(int vxlan_index, Ipv4 peer) {
  Request r(RTM_NEWNEIGH, NLM_F_CREATE | NLM_F_APPEND);
  FillFlood(r, vxlan_index, peer);
  Status s = Transact(r.nlh(), "append fdb 00:00:00:00:00:00 dst " + peer.ToString());
  return s.code() == Code::kAlreadyExists ? Status() : s;
}

Status Netlink::DeleteFloodPeer(int vxlan_index, Ipv4 peer) {
  Request r(RTM_DELNEIGH, 0);
  FillFlood(r, vxlan_index, peer);
  Status s = Transact(r.nlh(), "delete fdb 00:00:00:00:00:00 dst " + peer.ToString());
  return IgnorableOnDelete(s) ? Status() : s;
}

}  // namespace lintel::net
