// Unpacking one layer blob (a tar, plain or gzip/zstd/xz/bzip2 compressed)
// into a directory that becomes one overlayfs lower layer.
//
// Each layer is its own lowerdir, so the OCI whiteouts are converted to
// overlayfs' own form instead of being applied:
//   .wh.NAME        → NAME as a 0/0 character device (hides NAME below)
//   .wh..wh..opq    → the directory gets the xattr <prefix>opaque = "y"
// Paths are confined to the layer: ".." components are refused, a symlink is
// never followed while extracting (ARCHIVE_EXTRACT_SECURE_SYMLINKS and our own
// O_NOFOLLOW walks), absolute symlink targets are stored as they are. Hard
// links must point inside the same layer. Permissions, numeric ownership (as
// root), mtimes and xattrs are restored; overlay xattrs a layer carries itself
// are dropped so an image cannot forge whiteouts or redirects.
//
// The uncompressed stream is hashed as it is read, giving the layer's diff id
// in the same pass.
//
// Thread-safe: no process-wide state (no chdir, no umask changes).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"
#include "images/digest.h"

namespace lintel::images {

struct UnpackOptions {
  // "trusted.overlay." for a root overlay mount; "user.overlay." for one
  // mounted with userxattr (rootless).
  std::string overlay_xattr_prefix = "trusted.overlay.";
  // chown entries to their numeric uid/gid (needs root).
  bool restore_owner = true;
};

// As root: trusted xattrs and ownership. Otherwise: user xattrs, no chown.
UnpackOptions DefaultUnpackOptions();

struct UnpackStats {
  Digest diff_id;       // sha256 of the uncompressed tar
  int64_t entries = 0;  // tar entries written (whiteouts included)
  int64_t bytes = 0;    // regular file content written
  int64_t whiteouts = 0;
  int64_t opaque_dirs = 0;
};

// Unpacks the blob at `blob_path` into `dest`, an existing empty directory
// whose path has no symlinks (use a realpath). On error `dest` is left
// partially filled; the caller removes it. Errors name the entry: Invalid for
// an unsafe or malformed archive, Unavailable "no space left on device" for
// ENOSPC, Internal otherwise.
Result<UnpackStats> UnpackLayer(const std::string& blob_path, const std::string& dest,
                                const UnpackOptions& options);

// A tar entry's path made relative to the layer root: "./a//b/" → "a/b",
// "/a" → "a", "." → "". Invalid for a ".." component.
Result<std::string> CleanLayerPath(std::string_view path);

}  // namespace lintel::images
