#include "drivers/oci/sys_util.h"

#include <fcntl.h>
#include <ftw.h>
#include <linux/openat2.h>
#include <sys/mount.h>
#include <sys/syscall.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <sstream>
#include <system_error>

#include "common/fs.h"

namespace lintel::drivers::oci {

std::string ErrnoText(int err) { return std::system_category().message(err); }

Status SysError(std::string_view what, const std::string& path, int err) {
  std::string msg(what);
  if (!path.empty()) {
    msg += ' ';
    msg += path;
  }
  msg += ": ";
  msg += ErrnoText(err);
  if (err == ENOENT) return NotFound(std::move(msg));
  return Internal(std::move(msg));
}

Result<std::string> ReadFileInRoot(const std::string& root, const std::string& path) {
  UniqueFd dir(::open(root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!dir.valid()) return SysError("open", root, errno);
  struct open_how how = {};
  how.flags = O_RDONLY | O_CLOEXEC | O_NOCTTY;
  how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
  std::string rel = path;
  while (!rel.empty() && rel.front() == '/') rel.erase(0, 1);
  UniqueFd fd(static_cast<int>(::syscall(SYS_openat2, dir.get(), rel.c_str(), &how, sizeof(how))));
  if (!fd.valid()) return SysError("open", path + " in " + root, errno);
  std::string out;
  char buf[16384];
  for (;;) {
    ssize_t n = ::read(fd.get(), buf, sizeof(buf));
    if (n < 0) {
      if (errno == EINTR) continue;
      return SysError("read", path, errno);
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
    if (out.size() > (16u << 20)) return Invalid(path + " in the image is larger than 16 MiB");
  }
  return out;
}

namespace {

// mountinfo escapes space, tab, newline and backslash as \ooo.
std::string Unescape(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 3 < s.size()) {
      int v = 0;
      bool ok = true;
      for (size_t k = 1; k <= 3; ++k) {
        char c = s[i + k];
        if (c < '0' || c > '7') ok = false;
        v = v * 8 + (c - '0');
      }
      if (ok) {
        out.push_back(static_cast<char>(v));
        i += 3;
        continue;
      }
    }
    out.push_back(s[i]);
  }
  return out;
}

}  // namespace

std::vector<MountEntry> ReadMounts() {
  std::vector<MountEntry> out;
  auto text = ReadFile("/proc/self/mountinfo");
  if (!text.ok()) return out;
  std::istringstream in(*text);
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string id, parent, devno, root, mount_point, field;
    if (!(fields >> id >> parent >> devno >> root >> mount_point)) continue;
    while (fields >> field && field != "-") {
    }
    MountEntry e;
    e.mount_point = Unescape(mount_point);
    std::string source;
    fields >> e.fstype >> source >> e.super_options;
    out.push_back(std::move(e));
  }
  return out;
}

std::vector<std::string> MountsUnder(const std::string& prefix) {
  std::vector<std::string> out;
  for (auto& m : ReadMounts()) {
    const std::string& mp = m.mount_point;
    if (mp == prefix || (mp.size() > prefix.size() && mp.compare(0, prefix.size(), prefix) == 0 &&
                         (prefix.back() == '/' || mp[prefix.size()] == '/'))) {
      out.push_back(mp);
    }
  }
  std::sort(out.begin(), out.end(), [](const std::string& a, const std::string& b) {
    return a.size() != b.size() ? a.size() > b.size() : a < b;
  });
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

Status DetachMount(const std::string& path) {
  if (::umount2(path.c_str(), MNT_DETACH | UMOUNT_NOFOLLOW) == 0) return Status();
  if (errno == EINVAL || errno == ENOENT) return Status();  // not a mount point, or gone
  return SysError("umount", path, errno);
}

namespace {

int RemoveEntry(const char* path, const struct stat*, int type, struct FTW*) {
  int rc = (type == FTW_DP) ? ::rmdir(path) : ::unlink(path);
  if (rc != 0 && errno != ENOENT) return errno;
  return 0;
}

}  // namespace

Status RemoveAll(const std::string& path) {
  struct stat st;
  if (::lstat(path.c_str(), &st) != 0) {
    return errno == ENOENT ? Status() : SysError("stat", path, errno);
  }
  if (!S_ISDIR(st.st_mode)) {
    if (::unlink(path.c_str()) != 0 && errno != ENOENT) return SysError("unlink", path, errno);
    return Status();
  }
  // nftw without FTW_CHDIR does not touch the cwd: safe next to other threads.
  int rc = ::nftw(path.c_str(), RemoveEntry, 32,  // NOLINT(concurrency-mt-unsafe)
                  FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
  if (rc != 0) {
    return SysError("remove", path, rc > 0 ? rc : errno);
  }
  return Status();
}

Status WriteAll(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return SysError("write", "", errno);
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return Status();
}

}  // namespace lintel::drivers::oci
