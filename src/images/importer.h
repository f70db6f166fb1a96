// Import of image archives into the blob store: OCI image layouts (a
// directory, or a tar of one) and docker-archive tarballs (`docker save`,
// `skopeo copy ... docker-archive:`). The format is detected from the content:
// `oci-layout` wins over `manifest.json` when an archive has both.
//
// Every blob is verified against its digest as it is stored. A docker
// archive has no manifest; one is written (OCI media types) from its config
// and layers, so the same archive always imports as the same digest.
//
// Thread-safe; the ImageStore holds its lock around an import.
#pragma once

#include <string>

#include "common/status.h"
#include "images/blob_store.h"
#include "images/digest.h"
#include "images/manifest.h"

namespace lintel::images {

struct ImportedImage {
  Digest manifest;
  // The archive's own name for the image: a docker archive's RepoTags[0]
  // ("busybox:latest"), an OCI layout's ref.name annotation ("latest", or a
  // full reference). Empty if it has none.
  std::string archive_name;
};

// Imports the image at `path`. An archive of one image yields it; of
// several, `tag` picks one (by an OCI layout's ref.name or a docker
// archive's RepoTags), empty meaning "latest". `tmp_dir` is on the blob store's filesystem (tar
// archives are extracted there and their files moved, not copied). Invalid
// "not an OCI layout or docker archive" when it is neither.
Result<ImportedImage> ImportArchive(const BlobStore& blobs, const std::string& path,
                                    const std::string& tag, const std::string& tmp_dir,
                                    const Platform& platform);

}  // namespace lintel::images
