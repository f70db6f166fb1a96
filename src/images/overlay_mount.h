// Overlay mounts of image layers: the read-only layers as lowerdirs (top
// first), a container's upper and work directories, mounted on a target.
//
// The lowerdir list is passed one layer at a time through the new mount API
// (fsopen/fsconfig "lowerdir+", Linux 6.8+), which has no length limit. On
// older kernels the classic mount(2) option string is used, which the kernel
// caps at one page: an image whose layer paths do not fit is refused with a
// clear error (about 35 layers under /var/lib/lintel/images).
//
// Needs CAP_SYS_ADMIN. Thread-safe (no chdir).
#pragma once

#include <string>
#include <vector>

#include "common/status.h"

namespace lintel::images {

struct OverlaySpec {
  std::vector<std::string> lower_dirs;  // top layer first; at least one
  std::string upper_dir;                // empty for a read-only overlay
  std::string work_dir;
  std::string target;
};

// Mounts; Invalid when the options cannot be expressed, Internal (with errno
// text) when the kernel refuses.
Status MountOverlay(const OverlaySpec& spec);

// True when `path` is a mount point.
bool IsMountPoint(const std::string& path);

// Unmounts `path` if it is a mount point (lazily when busy). OK if it is not.
Status Unmount(const std::string& path);

}  // namespace lintel::images
