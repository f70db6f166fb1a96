// Small system helpers of the OCI driver: an owning descriptor, errno as a
// Status, files read inside a container's root, mount-table queries.
// Any thread.
#pragma once

#include <unistd.h>

#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace lintel::drivers::oci {

// Owns a file descriptor; closes it when destroyed.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& o) noexcept : fd_(o.release()) {}
  UniqueFd& operator=(UniqueFd&& o) noexcept {
    if (this != &o) reset(o.release());
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd() { reset(); }

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  int release() {
    int fd = fd_;
    fd_ = -1;
    return fd;
  }
  void reset(int fd = -1) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }

 private:
  int fd_ = -1;
};

// strerror, thread-safe.
std::string ErrnoText(int err);

// "<what> <path>: <strerror>": NotFound for ENOENT, Internal otherwise.
Status SysError(std::string_view what, const std::string& path, int err);

// Reads `path` as seen from inside `root` (symlinks and ".." resolved within
// it: openat2 RESOLVE_IN_ROOT), so an image cannot point us at host files.
Result<std::string> ReadFileInRoot(const std::string& root, const std::string& path);

struct MountEntry {
  std::string mount_point;
  std::string fstype;
  std::string super_options;  // "rw,memory" for a cgroup v1 hierarchy
};

// This process's mount table (/proc/self/mountinfo).
std::vector<MountEntry> ReadMounts();

// Mount points at or below `prefix`, deepest first.
std::vector<std::string> MountsUnder(const std::string& prefix);

// umount2(MNT_DETACH) of `path` if it is a mount point; OK otherwise.
Status DetachMount(const std::string& path);

// rm -rf without following symlinks and without crossing into mount points
// (a mount found below `path` is an error: unmount first).
Status RemoveAll(const std::string& path);

// Writes all of `data` to a descriptor (EINTR and short writes handled).
Status WriteAll(int fd, std::string_view data);

}  // namespace lintel::drivers::oci
