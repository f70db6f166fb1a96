// ImageStore::MountRootfs / UnmountRootfs: a container's overlay rootfs and
// the lease that keeps its image from garbage collection while mounted.
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "common/fs.h"
#include "common/json.h"
#include "images/image_store_impl.h"
#include "images/overlay_mount.h"

namespace lintel::images {

namespace {

std::string LeasePath(const std::string& root, const std::string& container_dir) {
  return root + "/leases/" + Sha256Of(container_dir).hex.substr(0, 32) + ".json";
}

std::string Trimmed(std::string dir) {
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  return dir;
}

}  // namespace

Result<std::string> ImageStore::Impl::MountRootfs(const Image& image,
                                                  const std::string& container_dir_in) {
  std::string dir = Trimmed(container_dir_in);
  auto wrap = [&](const Status& s) { return s.Wrap("mount rootfs " + dir); };
  std::string rootfs = dir + "/rootfs";
  if (image.layers.empty())
    return wrap(Invalid("image " + image.digest.ToString() + " has no layers"));
  auto lock = Lock(FileLock::Mode::kShared);
  if (!lock.ok()) return wrap(lock.error());
  for (const auto& layer : image.layers) {
    if (!FileExists(layer)) {
      return wrap(
          NotFound("layer " + layer + " is gone (garbage collected?); resolve the image again"));
    }
  }
  for (const char* sub : {"/upper", "/work", "/rootfs"}) {
    if (Status s = MakeDirs(dir + sub, 0755); !s.ok()) return wrap(s);
  }
  Json lease = {{"containerDir", dir}, {"image", image.digest.ToString()}};
  Json layers = Json::array();
  for (const auto& d : image.config.diff_ids) layers.push_back(d.ToString());
  lease["layers"] = std::move(layers);
  if (Status s = WriteFileAtomic(LeasePath(root_, dir), lease.dump() + "\n", 0644); !s.ok()) {
    return wrap(s);
  }
  if (IsMountPoint(rootfs)) return rootfs;  // mounted before (an agent restart)
  OverlaySpec spec;
  spec.lower_dirs = {image.layers.rbegin(), image.layers.rend()};
  spec.upper_dir = dir + "/upper";
  spec.work_dir = dir + "/work";
  spec.target = rootfs;
  if (Status s = MountOverlay(spec); !s.ok()) {
    ::unlink(LeasePath(root_, dir).c_str());
    return wrap(s);
  }
  return rootfs;
}

Status ImageStore::Impl::UnmountRootfs(const std::string& container_dir_in) {
  std::string dir = Trimmed(container_dir_in);
  auto wrap = [&](const Status& s) { return s.Wrap("unmount rootfs " + dir); };
  if (Status s = Unmount(dir + "/rootfs"); !s.ok()) return wrap(s);
  for (const char* sub : {"/upper", "/work"}) {
    if (Status s = RemoveTree(dir + sub); !s.ok()) return wrap(s);
  }
  if (::rmdir((dir + "/rootfs").c_str()) != 0 && errno != ENOENT) {
    return wrap(ErrnoStatus("rmdir", dir + "/rootfs", errno));
  }
  ::unlink(LeasePath(root_, dir).c_str());
  return Status();
}

}  // namespace lintel::images
