// ImageStore: the host's OCI images. Content-addressed blobs, references
// (name:tag → manifest digest), layers unpacked once and shared, overlay
// root filesystems for containers, and garbage collection.
//
//   ROOT/blobs/sha256/<hex>          manifests, configs, compressed layers
//   ROOT/layers/sha256/<diff id>/    root/ (an overlay lowerdir) + layer.json marker
//   ROOT/refs.json                   references → manifest digests (refs.lock guards writes)
//   ROOT/leases/<id>.json            rootfs mounted for a container dir: GC keeps its image
//   ROOT/tmp/                        partial blobs, layers and extracted archives
//   ROOT/lock                        shared by writers and mounts, exclusive for GC
//
// Crash safety: a blob or layer appears only complete (temp + verify + rename);
// a reference is written only after everything it points to exists; GC is the
// only deleter of content and holds the exclusive lock, so it never races a
// pull, import or mount (in this process or another, e.g. `lintel image` next
// to the agent).
//
// Threading: every method is thread-safe and blocking (disk and network).
// Several ImageStore objects (or processes) may share one root.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "images/digest.h"
#include "images/layer_unpack.h"
#include "images/manifest.h"

namespace lintel::images {

struct ImageStoreOptions {
  // fsync blobs and refs, syncfs unpacked layers. Off only for tests that
  // measure something else.
  bool sync = true;
  UnpackOptions unpack = DefaultUnpackOptions();
  Platform platform;  // what image indexes resolve to: linux/amd64
};

// A resolved image, ready to run: every layer is unpacked.
struct Image {
  std::string reference;  // canonical ("docker.io/library/busybox:latest"); empty by digest
  Digest digest;          // the manifest's
  Digest config_digest;
  ImageConfig config;               // Entrypoint, Cmd, Env, WorkingDir, User, ...
  std::vector<std::string> layers;  // unpacked layer trees, bottom layer first
  int64_t size = 0;                 // unpacked bytes of all layers
};

// One reference, as `lintel image ls` lists it.
struct ImageSummary {
  std::string reference;  // canonical
  std::string name;       // familiar: "busybox", "127.0.0.1:5000/test/busybox"
  std::string tag;        // "<none>" for a reference by digest only
  Digest digest;
  int64_t size = 0;
  std::string created;  // the config's, RFC 3339; may be empty
};

struct PullOptions {
  bool insecure = false;  // HTTPS without verification, then plain HTTP
  std::string username;   // for Basic auth or the token server
  std::string password;
  std::string ca_pem;
  std::chrono::milliseconds request_timeout{60'000};
  // Progress lines ("sha256:abc123...: 1.2MB"), on the pulling thread.
  std::function<void(std::string_view)> progress;
};

struct GcResult {
  int64_t freed_bytes = 0;
  int removed_images = 0;
  int removed_blobs = 0;
  int removed_layers = 0;
};

class ImageStore {
 public:
  // Creates the layout under `root` if needed.
  static Result<std::unique_ptr<ImageStore>> Open(const std::string& root,
                                                  ImageStoreOptions options = {});
  ~ImageStore();
  ImageStore(const ImageStore&) = delete;
  ImageStore& operator=(const ImageStore&) = delete;

  // Imports an OCI layout (directory or tar) or a docker archive and names it
  // `name` ("busybox", "busybox:1.36", "registry.example/app:v1"). Without a
  // tag in `name`, the archive's tag is used, else "latest"; without `name`,
  // the archive's own name, else the file name. An archive of several images
  // imports the one `name`'s tag (else "latest") names; of one, that one.
  // Invalid "not an OCI layout or docker archive"; digest mismatches are
  // Internal.
  Result<Image> Import(const std::string& path, const std::string& name = "");

  // Pulls `ref` from its registry: the index resolved to the store's
  // platform, every blob verified, blobs and layers already here skipped.
  // Errors carry the registry's message (NotFound for an unknown manifest,
  // Unauthorized, Unavailable when unreachable: retryable).
  Result<Image> Pull(const std::string& ref, const PullOptions& options = {});

  // Resolves a reference ("busybox", "busybox:latest", "name@sha256:...",
  // "sha256:<manifest digest>", or a unique digest prefix of at least 12 hex
  // digits) to an image whose layers are all unpacked (unpacking any that are
  // missing). NotFound if the store has no such image.
  Result<Image> Resolve(const std::string& ref);

  // Every reference, sorted.
  Result<std::vector<ImageSummary>> List();

  // Removes a reference, or by digest (or prefix) every reference to that
  // image. Returns the references removed; NotFound if none. Content stays
  // until GarbageCollect.
  Result<std::vector<std::string>> Remove(const std::string& ref);

  // Deletes blobs and layers no reference, no `in_use` entry (references or
  // digests) and no mounted rootfs needs, and temporary leftovers. With
  // `remove_unused_images`, references not in `in_use` and not mounted are
  // removed first (the agent's "images no workload uses").
  Result<GcResult> GarbageCollect(const std::set<std::string>& in_use = {},
                                  bool remove_unused_images = false);

  // The overlay lowerdir list: layer trees, top layer first.
  std::vector<std::string> RootfsLowerDirs(const Image& image) const;

  // Mounts the image as CONTAINER_DIR/rootfs: overlay of its layers with
  // CONTAINER_DIR/upper and CONTAINER_DIR/work (an image of one layer too, so
  // the layer stays read-only). Records a lease so GC keeps the image while
  // mounted. Idempotent: an existing mount is kept (re-adoption). Returns the
  // rootfs path. Needs root.
  Result<std::string> MountRootfs(const Image& image, const std::string& container_dir);

  // Unmounts CONTAINER_DIR/rootfs, removes upper/ and work/ and the lease.
  // OK if nothing is mounted.
  Status UnmountRootfs(const std::string& container_dir);

  const std::string& root() const;

 private:
  class Impl;
  explicit ImageStore(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace lintel::images
