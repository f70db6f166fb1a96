// Network namespaces by path: run a function inside one, or open a netlink
// socket there. A socket keeps the namespace it was created in, so the socket
// returned by OpenNetlinkIn acts on that namespace from any thread afterwards.
//
// Threading: any thread. Each call runs `fn` on a short-lived thread that
// setns()es into the namespace (only that thread moves; the caller's
// namespace never changes) and blocks until it has finished.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "common/status.h"
#include "net/netlink.h"

namespace lintel::net {

// Runs `fn` on a new thread that has joined the network namespace at `path`
// (a bind-mounted netns file such as /run/netns/NAME, or /proc/PID/ns/net) and
// returns what it returns. NotFound when `path` does not exist; Internal when
// it is not a network namespace or `fn` throws.
Status RunInNetns(const std::string& path, const std::function<Status()>& fn);

// A netlink socket inside the namespace at `path`.
Result<std::unique_ptr<Netlink>> OpenNetlinkIn(const std::string& path);

// An open file descriptor of the namespace at `path` (O_RDONLY|O_CLOEXEC),
// e.g. for IFLA_NET_NS_FD; closed when the object goes away.
class NetnsFd {
 public:
  static Result<NetnsFd> Open(const std::string& path);
  NetnsFd(NetnsFd&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  NetnsFd& operator=(NetnsFd&& other) noexcept;
  NetnsFd(const NetnsFd&) = delete;
  NetnsFd& operator=(const NetnsFd&) = delete;
  ~NetnsFd();
  int get() const { return fd_; }

 private:
  explicit NetnsFd(int fd) : fd_(fd) {}
  int fd_;
};

}  // namespace lintel::net
