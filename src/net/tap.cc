#include "net/tap.h"

#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace lintel::net {

Status CreatePersistentTap(const std::string& name) {
  if (name.empty() || name.size() >= IFNAMSIZ) {
    return BadRequest("create tap \"" + name + "\": invalid interface name");
  }
  int fd = ::open("/dev/net/tun", O_RDWR | O_CLOEXEC);
  if (fd < 0) return NetlinkError("create tap " + name + ": open /dev/net/tun", errno);
  struct ifreq ifr;
  std::memset(&ifr, 0, sizeof(ifr));
  std::memcpy(ifr.ifr_name, name.data(), name.size());
  ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
  Status s;
  if (::ioctl(fd, TUNSETIFF, &ifr) != 0) {
    s = NetlinkError("create tap " + name + ": TUNSETIFF", errno);
  } else if (::ioctl(fd, TUNSETPERSIST, 1) != 0) {
    s = NetlinkError("create tap " + name + ": TUNSETPERSIST", errno);
  }
  ::close(fd);  // the device stays: it is persistent
  return s;
}

Status DeleteTap(Netlink& netlink, const std::string& name) { return netlink.DeleteLink(name); }

}  // namespace lintel::net
