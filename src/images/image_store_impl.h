// Internal to the image store: ImageStore::Impl, shared by image_store.cc
// (open, import, resolve, list, remove), pull.cc, gc.cc and rootfs.cc.
#pragma once

#include <functional>
#include <map>
#include <string>

#include "images/blob_store.h"
#include "images/fs_util.h"
#include "images/image_store.h"
#include "images/layer_store.h"
#include "images/ref_index.h"

namespace lintel::images {

class ImageStore::Impl {
 public:
  Impl(std::string root, ImageStoreOptions options)
      : root_(std::move(root)),
        options_(std::move(options)),
        blobs_(root_, options_.sync),
        layers_(root_, options_.unpack, options_.sync),
        refs_(root_) {}

  Result<Image> Import(const std::string& path, const std::string& name);
  Result<Image> Pull(const std::string& ref, const PullOptions& options);
  Result<Image> Resolve(const std::string& ref);
  Result<std::vector<ImageSummary>> List();
  Result<std::vector<std::string>> Remove(const std::string& ref);
  Result<GcResult> GarbageCollect(const std::set<std::string>& in_use, bool remove_unused);
  Result<std::string> MountRootfs(const Image& image, const std::string& container_dir);
  Status UnmountRootfs(const std::string& container_dir);

  // Fetches a missing blob (config or layer) into the blob store.
  using Fetcher = std::function<Status(const Descriptor&)>;

  // The store-wide lock: shared by writers and mounts, exclusive for GC.
  Result<FileLock> Lock(FileLock::Mode mode) const;
  // Reads the manifest and config and unpacks missing layers; missing blobs
  // come from `fetch` if given, else are NotFound. Caller holds the lock.
  Result<Image> Materialize(const Digest& manifest, std::string reference, const Fetcher* fetch);
  // The manifest digest a reference string names (see ImageStore::Resolve);
  // sets *canonical to the reference it matched ("" by digest).
  Result<Digest> Lookup(const std::string& ref, std::string* canonical) const;
  // Records reference → manifest.
  Status Tag(const std::string& canonical, const Digest& manifest) const;
  // Manifest, config and layer blobs and diff ids of a stored image.
  struct Parts {
    Manifest manifest;
    ImageConfig config;
  };
  Result<Parts> ReadParts(const Digest& manifest) const;

  std::string root_;
  ImageStoreOptions options_;
  BlobStore blobs_;
  LayerStore layers_;
  RefIndex refs_;
};

}  // namespace lintel::images
