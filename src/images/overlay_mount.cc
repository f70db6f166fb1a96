#include "images/overlay_mount.h"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "images/fs_util.h"

namespace lintel::images {

namespace {

// The new mount API. Returns ENOSYS-like errno (EINVAL for an unknown key)
// through `*err` when the kernel lacks it, so the caller can fall back.
Status MountWithFsconfig(const OverlaySpec& spec, int* err) {
  *err = 0;
  int fs = ::fsopen("overlay", FSOPEN_CLOEXEC);
  if (fs < 0) {
    *err = errno;
    return ErrnoStatus("fsopen", "overlay", errno);
  }
  auto set = [&](const char* key, const std::string& value) {
    if (::fsconfig(fs, FSCONFIG_SET_STRING, key, value.c_str(), 0) == 0) return true;
    *err = errno;
    return false;
  };
  bool ok = set("source", "overlay");
  for (const auto& dir : spec.lower_dirs) {
    ok = ok && set("lowerdir+", dir);
  }
  if (ok && !spec.upper_dir.empty()) {
    ok = set("upperdir", spec.upper_dir) && set("workdir", spec.work_dir);
  }
  if (!ok) {
    int e = *err;
    ::close(fs);
    return Internal("overlay option: " + std::string(std::strerror(e)));
  }
  if (::fsconfig(fs, FSCONFIG_CMD_CREATE, nullptr, nullptr, 0) != 0) {
    int e = errno;
    ::close(fs);
    *err = -1;  // the kernel understood and refused: no fallback
    return ErrnoStatus("mount overlay on", spec.target, e);
  }
  int mnt = ::fsmount(fs, FSMOUNT_CLOEXEC, 0);
  int e = errno;
  ::close(fs);
  if (mnt < 0) {
    *err = -1;
    return ErrnoStatus("fsmount overlay for", spec.target, e);
  }
  int rc = ::move_mount(mnt, "", AT_FDCWD, spec.target.c_str(), MOVE_MOUNT_F_EMPTY_PATH);
  e = errno;
  ::close(mnt);
  if (rc != 0) {
    *err = -1;
    return ErrnoStatus("move mount overlay to", spec.target, e);
  }
  return Status();
}

Status MountClassic(const OverlaySpec& spec) {
  std::string lower;
  for (const auto& dir : spec.lower_dirs) {
    if (dir.find_first_of(":,") != std::string::npos) {
      return Invalid("overlay lowerdir " + dir + ": ':' and ',' are not allowed in layer paths");
    }
    lower += (lower.empty() ? "" : ":") + dir;
  }
  std::string options = "lowerdir=" + lower;
  if (!spec.upper_dir.empty()) {
    options += ",upperdir=" + spec.upper_dir + ",workdir=" + spec.work_dir;
  }
  long page = ::sysconf(_SC_PAGESIZE);
  if (static_cast<long>(options.size()) >= page) {
    return Invalid("image has " + std::to_string(spec.lower_dirs.size()) +
                   " layers: the overlay mount options take " + std::to_string(options.size()) +
                   " bytes, over the kernel's limit of " + std::to_string(page) +
                   " (this kernel lacks overlay's lowerdir+; use a shorter store path)");
  }
  unsigned long flags = spec.upper_dir.empty() ? MS_RDONLY : 0;
  if (::mount("overlay", spec.target.c_str(), "overlay", flags, options.c_str()) != 0) {
    return ErrnoStatus("mount overlay on", spec.target, errno);
  }
  return Status();
}

}  // namespace

Status MountOverlay(const OverlaySpec& spec) {
  if (spec.lower_dirs.empty()) return Invalid("overlay: no lower layers");
  if (spec.upper_dir.empty() && spec.lower_dirs.size() == 1) {
    // overlayfs wants two lowers without an upper; a read-only bind would do,
    // but callers always pass an upper. Keep the contract simple.
    return Invalid("overlay: one layer needs an upper directory");
  }
  int err = 0;
  Status s = MountWithFsconfig(spec, &err);
  if (s.ok() || err == -1) return s;
  // ENOSYS (no new mount API) or EINVAL (no lowerdir+): the classic way.
  return MountClassic(spec);
}

bool IsMountPoint(const std::string& path) {
  struct statx stx {};
  if (::statx(AT_FDCWD, path.c_str(), AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS, &stx) == 0 &&
      (stx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT) != 0) {
    return (stx.stx_attributes & STATX_ATTR_MOUNT_ROOT) != 0;
  }
  struct stat st {
  }, parent{};
  if (::lstat(path.c_str(), &st) != 0) return false;
  if (::lstat((path + "/..").c_str(), &parent) != 0) return false;
  return st.st_dev != parent.st_dev || st.st_ino == parent.st_ino;
}

Status Unmount(const std::string& path) {
  if (!IsMountPoint(path)) return Status();
  if (::umount2(path.c_str(), UMOUNT_NOFOLLOW) == 0) return Status();
  if (errno == EBUSY && ::umount2(path.c_str(), MNT_DETACH | UMOUNT_NOFOLLOW) == 0) {
    return Status();
  }
  if (errno == EINVAL || errno == ENOENT) return Status();  // not mounted after all
  return ErrnoStatus("unmount", path, errno);
}

}  // namespace lintel::images
