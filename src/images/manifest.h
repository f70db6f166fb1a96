// The OCI image documents Lintel reads: image indexes (and docker manifest
// lists), image manifests (OCI and docker v2 schema 2) and image configs.
// Parsing is strict about what Lintel needs (digests, sizes, media types) and
// lenient about the rest, since registries add fields freely.
//
// Pure values and functions; any thread.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/json.h"
#include "common/status.h"
#include "images/digest.h"

namespace lintel::images {

namespace media {
inline constexpr std::string_view kOciIndex = "application/vnd.oci.image.index.v1+json";
inline constexpr std::string_view kOciManifest = "application/vnd.oci.image.manifest.v1+json";
inline constexpr std::string_view kOciConfig = "application/vnd.oci.image.config.v1+json";
inline constexpr std::string_view kOciLayer = "application/vnd.oci.image.layer.v1.tar";
inline constexpr std::string_view kOciLayerGzip = "application/vnd.oci.image.layer.v1.tar+gzip";
inline constexpr std::string_view kOciLayerZstd = "application/vnd.oci.image.layer.v1.tar+zstd";
inline constexpr std::string_view kDockerManifestList =
    "application/vnd.docker.distribution.manifest.list.v2+json";
inline constexpr std::string_view kDockerManifest =
    "application/vnd.docker.distribution.manifest.v2+json";
inline constexpr std::string_view kDockerConfig = "application/vnd.docker.container.image.v1+json";
inline constexpr std::string_view kDockerLayerGzip =
    "application/vnd.docker.image.rootfs.diff.tar.gzip";
inline constexpr std::string_view kDockerSchema1 =
    "application/vnd.docker.distribution.manifest.v1+json";
inline constexpr std::string_view kDockerSchema1Signed =
    "application/vnd.docker.distribution.manifest.v1+prettyjws";
}  // namespace media

// The Accept header for manifest requests: every index and manifest type above.
std::string ManifestAcceptHeader();

// OCI annotation naming a manifest's tag in an OCI layout's index.json.
inline constexpr std::string_view kRefNameAnnotation = "org.opencontainers.image.ref.name";

struct Platform {
  std::string os = "linux";
  std::string architecture = "amd64";
  std::string variant;
  std::string ToString() const;
};

struct Descriptor {
  std::string media_type;
  Digest digest;
  int64_t size = 0;
  std::map<std::string, std::string> annotations;
  std::optional<Platform> platform;
  std::vector<std::string> urls;  // foreign layers: not fetched from the registry
  Json ToJson() const;
};

struct Manifest {
  std::string media_type;
  Descriptor config;
  std::vector<Descriptor> layers;  // bottom first
  Json ToJson() const;
};

struct Index {
  std::string media_type;
  std::vector<Descriptor> manifests;
};

// What a container is started with by default, from the image config.
struct ImageConfig {
  std::vector<std::string> entrypoint;
  std::vector<std::string> cmd;
  std::vector<std::string> env;  // "KEY=value"
  std::string working_dir;
  std::string user;
  std::string stop_signal;
  std::map<std::string, std::string> labels;
  std::string created;  // RFC 3339, may be empty
  std::string os;
  std::string architecture;
  std::vector<Digest> diff_ids;  // uncompressed layer digests, bottom first
};

enum class DocumentKind { kIndex, kManifest };

// Decides from the document's mediaType, else the response's Content-Type,
// else its shape. NotSupported for docker schema 1; Invalid for anything else.
Result<DocumentKind> ClassifyDocument(const Json& doc, std::string_view content_type = "");

Result<Manifest> ParseManifest(std::string_view body);
Result<Index> ParseIndex(std::string_view body);
Result<ImageConfig> ParseImageConfig(std::string_view body);

// The index entry for `want` (os and architecture equal; a variant only when
// both name one). An index whose single entry names no platform (as OCI
// layouts often have) yields that entry. NotFound listing the platforms
// offered otherwise.
Result<Descriptor> SelectPlatform(const Index& index, const Platform& want = {});

// Layer media types Lintel unpacks (tar, gzip, zstd; OCI and docker).
bool IsLayerMediaType(std::string_view media_type);

}  // namespace lintel::images
