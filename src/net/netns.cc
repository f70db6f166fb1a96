#include "net/netns.h"

#include <fcntl.h>
#include <sched.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <exception>
#include <thread>

namespace lintel::net {

Result<NetnsFd> NetnsFd::Open(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    int err = errno;
    std::string msg = "open netns " + path + ": " + std::strerror(err);
    return err == ENOENT ? NotFound(std::move(msg)) : Internal(std::move(msg));
  }
  return NetnsFd(fd);
}

NetnsFd& NetnsFd::operator=(NetnsFd&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = other.fd_;
    other.fd_ = -1;
  }
  return *this;
}

NetnsFd::~NetnsFd() {
  if (fd_ >= 0) ::close(fd_);
}

Status RunInNetns(const std::string& path, const std::function<Status()>& fn) {
  LINTEL_ASSIGN_OR_RETURN(NetnsFd ns, NetnsFd::Open(path));
  Status out;
  // A fresh thread, so that the caller's namespace never changes; it ends with
  // fn and takes its namespace membership with it.
  std::thread t([&] {
    if (::setns(ns.get(), CLONE_NEWNET) != 0) {
      out = Internal("setns " + path + ": " + std::strerror(errno));
      return;
    }
    try {
      out = fn();
    } catch (const std::exception& e) {
      out = Internal("in netns " + path + ": " + e.what());
    } catch (...) {
      out = Internal("in netns " + path + ": unknown exception");
    }
  });
  t.join();
  return out;
}

Result<std::unique_ptr<Netlink>> OpenNetlinkIn(const std::string& path) {
  std::unique_ptr<Netlink> nl;
  LINTEL_RETURN_IF_ERROR(RunInNetns(path, [&]() -> Status {
    LINTEL_ASSIGN_OR_RETURN(nl, Netlink::Open());
    return Status();
  }));
  return nl;
}

}  // namespace lintel::net
