// ImageStoreRootfs: the RootfsProvider over the host's images::ImageStore.
// Pull policies, with one deliberate difference from Kubernetes:
//   Never          the local image, else NotFound (ErrImageNeverPull)
//   IfNotPresent   the local image, else a pull
//   (unset)        as IfNotPresent, also for :latest: an image imported with
//                  `lintel image import` runs without a registry
//   Always         a pull; when the registry is unreachable and the image is
//                  here, the local copy (logged)
//
// Thread-safe (ImageStore is); blocking.
#pragma once

#include <memory>

#include "drivers/oci/rootfs_provider.h"
#include "images/image_store.h"

namespace lintel::drivers::oci {

class ImageStoreRootfs final : public RootfsProvider {
 public:
  // `store` must outlive this object.
  explicit ImageStoreRootfs(images::ImageStore* store) : store_(store) {}

  Result<ResolvedImage> Resolve(const std::string& image, PullPolicy policy) override;
  Result<std::string> Mount(const ResolvedImage& image, const std::string& dir) override;
  Status Unmount(const std::string& dir) override;

 private:
  images::ImageStore* store_;
};

}  // namespace lintel::drivers::oci
