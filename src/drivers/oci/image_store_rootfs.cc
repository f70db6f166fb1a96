#include "drivers/oci/image_store_rootfs.h"

#include <spdlog/spdlog.h>

namespace lintel::drivers::oci {

namespace {

ResolvedImage FromImage(const std::string& ref, const images::Image& image) {
  ResolvedImage r;
  r.reference = ref;
  r.id = image.digest.ToString();
  r.defaults.entrypoint = image.config.entrypoint;
  r.defaults.cmd = image.config.cmd;
  r.defaults.env = image.config.env;
  r.defaults.working_dir = image.config.working_dir;
  r.defaults.user = image.config.user;
  r.defaults.stop_signal = image.config.stop_signal;
  r.handle = r.id;
  return r;
}

}  // namespace

Result<ResolvedImage> ImageStoreRootfs::Resolve(const std::string& ref, PullPolicy policy) {
  if (policy != PullPolicy::kAlways) {
    auto local = store_->Resolve(ref);
    if (local.ok()) return FromImage(ref, *local);
    if (local.error().code() != Code::kNotFound || policy == PullPolicy::kNever) {
      if (policy == PullPolicy::kNever) {
        return NotFound("image " + ref + " is not present with pull policy of Never");
      }
      return local.error();
    }
  }
  auto pulled = store_->Pull(ref);
  if (pulled.ok()) return FromImage(ref, *pulled);
  if (policy == PullPolicy::kAlways && pulled.error().retryable()) {
    auto local = store_->Resolve(ref);
    if (local.ok()) {
      spdlog::warn("oci: pull {}: {}; using the local image", ref, pulled.error().message());
      return FromImage(ref, *local);
    }
  }
  return pulled.error();
}

Result<std::string> ImageStoreRootfs::Mount(const ResolvedImage& image, const std::string& dir) {
  // By digest: the reference may have moved to another image since Resolve.
  LINTEL_ASSIGN_OR_RETURN(images::Image resolved, store_->Resolve(image.handle));
  return store_->MountRootfs(resolved, dir);
}

Status ImageStoreRootfs::Unmount(const std::string& dir) { return store_->UnmountRootfs(dir); }

}  // namespace lintel::drivers::oci
