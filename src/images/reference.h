// Image references as the distribution spec and docker name them:
//
//   [registry/]repository[:tag][@sha256:digest]
//
// Normalisation follows docker: no registry means docker.io; a one-component
// repository on docker.io gets "library/"; no tag and no digest means "latest".
// The first component is a registry when it has a '.' or ':' or is
// "localhost". `Familiar()` is the short form people type and `ls` prints.
//
// Pure values and functions; any thread.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"
#include "images/digest.h"

namespace lintel::images {

inline constexpr std::string_view kDockerHub = "docker.io";

struct Reference {
  std::string registry;    // "docker.io", "127.0.0.1:5000", "ghcr.io"
  std::string repository;  // "library/busybox", "test/busybox"
  std::string tag;         // "latest"; empty when only a digest was given
  std::optional<Digest> digest;

  // "docker.io/library/busybox" (registry/repository).
  std::string Name() const;
  // The canonical form: Name() plus ":tag" and/or "@sha256:...".
  std::string ToString() const;
  // docker's short form: "busybox", "user/app", "127.0.0.1:5000/test/busybox".
  std::string FamiliarName() const;
  // What the registry API is asked for: the digest if there is one, else the tag.
  std::string ManifestRef() const;
  bool operator==(const Reference&) const = default;
};

// Parses and normalises. Invalid with the reason when malformed (upper case
// in the repository, empty components, a bad tag or digest).
Result<Reference> ParseReference(std::string_view s);

}  // namespace lintel::images
