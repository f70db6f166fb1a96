// RootfsProvider: where the OCI driver gets a container's root filesystem and
// the image's defaults. The agent gives it the host's ImageStore
// (image_store_rootfs.h); tests may give it a directory.
//
// Two steps, because their failures mean different things to a Pod:
//   Resolve  the image: local, or pulled (errors: ErrImagePull, with the
//            registry's message; retried with back-off)
//   Mount    a fresh copy-on-write rootfs for one run in DIR/rootfs
//            (errors: CreateContainerError)
//
// Threading: implementations are thread-safe; every method blocks.
#pragma once

#include <string>

#include "common/status.h"
#include "drivers/oci/oci_spec.h"
#include "drivers/oci/pod_plan.h"

namespace lintel::drivers::oci {

struct ResolvedImage {
  std::string reference;  // as given
  std::string id;         // digest ("sha256:..."), reported as imageID
  ImageDefaults defaults;
  // Opaque to the driver; handed back to Mount.
  std::string handle;
};

class RootfsProvider {
 public:
  virtual ~RootfsProvider() = default;

  // Finds (or pulls, as `policy` says) `image`. NotFound when it is neither
  // here nor pullable; Unavailable (retryable) when the registry cannot be
  // reached; other errors carry the registry's message.
  virtual Result<ResolvedImage> Resolve(const std::string& image, PullPolicy policy) = 0;

  // Mounts a writable rootfs of `image` at DIR/rootfs (upper and work dirs in
  // DIR too) and returns its path. Idempotent: an existing mount is kept.
  virtual Result<std::string> Mount(const ResolvedImage& image, const std::string& dir) = 0;

  // Unmounts DIR/rootfs and removes what Mount made in DIR. OK if nothing is mounted.
  virtual Status Unmount(const std::string& dir) = 0;
};

}  // namespace lintel::drivers::oci
