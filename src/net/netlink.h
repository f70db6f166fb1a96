// Netlink: a small rtnetlink client over libmnl for the host plumbing of the
// estate network (links, IPv4 addresses and routes, VXLAN flood entries).
//
// A socket acts on the network namespace it was opened in: Open() uses the
// calling thread's, and netns.h opens one inside another namespace. Each
// request waits for the kernel's answer; errors read "create veth lv1a2b3c4d:
// File exists" (plus the kernel's extended-ack text when it gives one), with
// the code taken from the errno (EEXIST AlreadyExists, ENOENT/ENODEV NotFound,
// EPERM Forbidden, others Internal).
//
// Threading: one object serves one thread at a time (no internal locking);
// distinct objects are independent.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/cidr.h"
#include "common/status.h"

struct mnl_socket;
struct nlmsghdr;

namespace lintel::net {

using Mac = std::array<uint8_t, 6>;

// "52:54:0a:f4:03:05" (lower case).
std::string FormatMac(const Mac& mac);
// Inverse of FormatMac (either case); BadRequest otherwise.
Result<Mac> ParseMac(std::string_view text);

// One network interface, as RTM_GETLINK reports it.
struct Link {
  int index = 0;
  std::string name;
  std::string kind;  // IFLA_INFO_KIND: "bridge", "veth", "vxlan", "tun"; empty for plain devices
  int master = 0;    // the bridge it is enslaved to; 0 if none
  int mtu = 0;
  bool up = false;  // IFF_UP (administratively up)
  std::string mac;  // FormatMac form; empty without a link-layer address
  // VXLAN only (kind "vxlan").
  uint32_t vxlan_id = 0;
  Ipv4 vxlan_local;
  uint16_t vxlan_port = 0;
  bool vxlan_learning = false;
};

// What SetLink changes; unset fields stay as they are.
struct LinkChanges {
  std::optional<int> master;  // 0 releases from a bridge
  std::optional<int> mtu;
  std::optional<bool> up;
  std::optional<Mac> mac;
};

struct VethSpec {
  std::string name;             // this namespace's end
  std::string peer_name;        // the other end, created in peer_netns_fd (or here if -1)
  int peer_netns_fd = -1;       // an open network namespace file
  std::optional<Mac> peer_mac;  // random if unset
  int mtu = 0;                  // both ends; kernel default if 0
};

struct VxlanSpec {
  std::string name;
  uint32_t vni = 0;
  Ipv4 local;         // the underlay source address
  uint16_t port = 0;  // UDP destination port
  bool learning = true;
  int mtu = 0;
};

// An IPv4 route of the main table.
struct Route {
  Cidr dst;                     // 0.0.0.0/0 for the default route
  int oif = 0;                  // output interface
  std::optional<Ipv4> gateway;  // none: on-link (scope link)
  uint8_t protocol = 4;         // RTPROT_STATIC
};

class Netlink {
 public:
  // A NETLINK_ROUTE socket in the calling thread's network namespace.
  static Result<std::unique_ptr<Netlink>> Open();
  ~Netlink();
  Netlink(const Netlink&) = delete;
  Netlink& operator=(const Netlink&) = delete;

  // Links.
  Result<std::vector<Link>> ListLinks();
  // nullopt when there is no such link.
  Result<std::optional<Link>> GetLink(const std::string& name);
  // A bridge with the given MTU and (fixed, so that it does not follow its
  // ports') MAC; down.
  Status CreateBridge(const std::string& name, int mtu, const Mac& mac);
  Status CreateVxlan(const VxlanSpec& spec);
  Status CreateVeth(const VethSpec& spec);
  Status SetLink(int index, const LinkChanges& changes);
  // Hairpin mode of a bridge port (bridge link set dev X hairpin on).
  Status SetHairpin(int index, bool on);
  // OK when the link does not exist.
  Status DeleteLink(const std::string& name);

  // IPv4 addresses of one link, as address/prefix.
  Result<std::vector<Cidr>> ListAddresses(int index);
  Status AddAddress(int index, const Cidr& address);
  Status DeleteAddress(int index, const Cidr& address);  // OK when absent

  // IPv4 routes of the main table (kernel routes included).
  Result<std::vector<Route>> ListRoutes();
  Status ReplaceRoute(const Route& route);  // creates or replaces the route to route.dst
  Status DeleteRoute(const Route& route);   // OK when absent

  // VXLAN flood list: the all-zeros FDB entries of a VXLAN device and their
  // remote addresses (bridge fdb append 00:00:00:00:00:00 dst PEER dev VX).
  Result<std::vector<Ipv4>> ListFloodPeers(int vxlan_index);
  Status AppendFloodPeer(int vxlan_index, Ipv4 peer);
  Status DeleteFloodPeer(int vxlan_index, Ipv4 peer);  // OK when absent

 private:
  using Callback = std::function<void(const nlmsghdr*)>;
  explicit Netlink(mnl_socket* socket);
  // Sends `nlh` (with NLM_F_ACK or NLM_F_DUMP set by the caller) and reads
  // until the ack or the end of the dump, passing each answer to `on_message`.
  // `what` prefixes errors.
  Status Transact(nlmsghdr* nlh, std::string_view what, const Callback& on_message = {});

  mnl_socket* socket_;
  uint32_t port_id_;
  uint32_t seq_;
  std::vector<char> buf_;
};

// Maps an errno from netlink or a syscall to a Status: "what: strerror".
Status NetlinkError(std::string_view what, int err, std::string_view detail = {});

}  // namespace lintel::net
