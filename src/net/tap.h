// Persistent tap devices for VMs, as `ip tuntap add dev NAME mode tap` makes
// them: created through /dev/net/tun (IFF_TAP|IFF_NO_PI, TUNSETPERSIST) and
// left without a queue attached, so that QEMU opens the device by name later
// (-netdev tap,ifname=NAME,script=no). Single queue; owned by root.
//
// Threading: any thread. The device is created in the network namespace of
// the calling thread (the one /dev/net/tun is opened from).
#pragma once

#include <string>

#include "common/status.h"
#include "net/netlink.h"

namespace lintel::net {

// Creates the tap `name` (at most 15 bytes) and makes it persistent; it is
// down and enslaved nowhere. Succeeds if a tap of that name exists and no one
// has it open; Unavailable ("Device or resource busy") if a process holds it.
Status CreatePersistentTap(const std::string& name);

// Removes the tap through netlink (works whether or not QEMU still holds it:
// the holder's file descriptor then fails). OK if there is none.
Status DeleteTap(Netlink& netlink, const std::string& name);

}  // namespace lintel::net
