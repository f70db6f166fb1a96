#include "cli/agent_oci.h"

// The OCI driver is built only with the image store (src/drivers/CMakeLists.txt);
// TODO(oci): drop this guard once src/images is part of every build.
#if __has_include("images/image_store.h")
#include "drivers/by_kind.h"
#include "drivers/oci/image_store_rootfs.h"
#include "drivers/oci/oci_driver.h"
#include "images/image_store.h"
#define LINTEL_HAVE_OCI 1
#endif

namespace lintel::cli {

#ifdef LINTEL_HAVE_OCI

namespace {

struct OciHost {
  std::unique_ptr<images::ImageStore> images;
  std::unique_ptr<drivers::oci::ImageStoreRootfs> rootfs;
};

}  // namespace

Result<std::unique_ptr<drivers::Driver>> MakeOciHostDriver(const OciAgentFlags& f,
                                                           std::shared_ptr<void>* keep) {
  auto store = images::ImageStore::Open(f.images_dir);
  if (!store.ok()) return store.error().Wrap("image store " + f.images_dir);
  auto host = std::make_shared<OciHost>();
  host->images = std::move(*store);
  host->rootfs = std::make_unique<drivers::oci::ImageStoreRootfs>(host->images.get());
  drivers::oci::OciOptions o;
  o.data_dir = f.data_dir;
  o.run_dir = f.run_dir;
  o.runtime = f.runtime;
  o.rootfs = host->rootfs.get();
  auto oci = drivers::oci::OciDriver::Create(std::move(o));
  if (!oci.ok()) return oci.error().Wrap("oci driver");
  *keep = host;
  // No VM driver on this host yet: VirtualMachines bound here fail at once
  // with that reason (and the Host reports accelerator none, so the
  // scheduler does not place them here).
  return std::unique_ptr<drivers::Driver>(
      std::make_unique<drivers::ByKindDriver>(std::move(*oci), nullptr));
}

#else

Result<std::unique_ptr<drivers::Driver>> MakeOciHostDriver(const OciAgentFlags&,
                                                           std::shared_ptr<void>*) {
  return NotSupported("this build has no image store, so no oci driver");
}

#endif

}  // namespace lintel::cli
