#include "images/importer.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <memory>

#include "common/fs.h"
#include "common/json.h"
#include "images/fs_util.h"
#include "images/layer_unpack.h"

namespace lintel::images {

namespace {

constexpr std::string_view kNotAnImage = "not an OCI layout or docker archive";

// A file of the archive, confined to it: its real path, and whether it may be
// moved (a plain file with one link, in an extracted temporary copy).
struct Member {
  std::string path;
  bool movable = false;
};

class Source {
 public:
  Source(std::string dir, bool extracted) : dir_(std::move(dir)), extracted_(extracted) {}

  Result<Member> File(std::string_view rel) const {
    auto clean = CleanLayerPath(rel);
    if (!clean.ok() || clean->empty())
      return Invalid("archive member \"" + std::string(rel) + "\": unsafe path");
    std::string p = dir_ + "/" + *clean;
    struct stat lst {};
    if (::lstat(p.c_str(), &lst) != 0) return ErrnoStatus("archive member", *clean, errno);
    char real[PATH_MAX];
    if (::realpath(p.c_str(), real) == nullptr) return ErrnoStatus("archive member", *clean, errno);
    std::string r(real);
    if (!r.starts_with(dir_ + "/")) {
      return Invalid("archive member \"" + *clean + "\" points outside the archive");
    }
    struct stat st {};
    if (::stat(real, &st) != 0 || !S_ISREG(st.st_mode)) {
      return Invalid("archive member \"" + *clean + "\": not a regular file");
    }
    return Member{r, extracted_ && S_ISREG(lst.st_mode) && lst.st_nlink == 1};
  }

  Result<std::string> Read(std::string_view rel) const {
    LINTEL_ASSIGN_OR_RETURN(Member m, File(rel));
    return ReadFile(m.path);
  }

  // Stores a member as a blob, checked against `expected` if given.
  Result<Digest> Store(const BlobStore& blobs, std::string_view rel,
                       const std::optional<Digest>& expected) const {
    if (expected && blobs.Has(*expected)) return *expected;
    LINTEL_ASSIGN_OR_RETURN(Member m, File(rel));
    return blobs.PutFile(m.path, expected, m.movable);
  }

  bool Has(std::string_view rel) const { return FileExists(dir_ + "/" + std::string(rel)); }

 private:
  std::string dir_;  // a realpath
  bool extracted_;
};

// Extracts a tar (optionally compressed) into `dest`: files and directories
// only matter; paths are confined, symlinks never followed.
Status ExtractTar(const std::string& path, const std::string& dest) {
  std::unique_ptr<archive, decltype(&archive_read_free)> in(archive_read_new(), archive_read_free);
  archive_read_support_filter_gzip(in.get());
  archive_read_support_filter_zstd(in.get());
  archive_read_support_filter_xz(in.get());
  archive_read_support_format_tar(in.get());
  if (archive_read_open_filename(in.get(), path.c_str(), 1 << 17) != ARCHIVE_OK) {
    return Invalid(std::string(kNotAnImage));
  }
  std::unique_ptr<archive, decltype(&archive_write_free)> out(archive_write_disk_new(),
                                                              archive_write_free);
  archive_write_disk_set_options(out.get(), ARCHIVE_EXTRACT_SECURE_SYMLINKS |
                                                ARCHIVE_EXTRACT_SECURE_NODOTDOT |
                                                ARCHIVE_EXTRACT_UNLINK);
  bool any = false;
  for (;;) {
    archive_entry* e = nullptr;
    int r = archive_read_next_header(in.get(), &e);
    if (r == ARCHIVE_EOF) break;
    if (r < ARCHIVE_WARN) {
      if (!any) return Invalid(std::string(kNotAnImage));
      return Invalid(std::string("damaged archive: ") + archive_error_string(in.get()));
    }
    any = true;
    const char* name = archive_entry_pathname(e);
    auto clean = CleanLayerPath(name != nullptr ? name : "");
    if (!clean.ok()) return clean.error();
    if (clean->empty()) continue;
    auto type = archive_entry_filetype(e);
    if (type != AE_IFREG && type != AE_IFDIR && type != AE_IFLNK) continue;
    archive_entry_set_pathname(e, (dest + "/" + *clean).c_str());
    if (const char* link = archive_entry_hardlink(e); link != nullptr) {
      auto target = CleanLayerPath(link);
      if (!target.ok()) return target.error();
      archive_entry_set_hardlink(e, (dest + "/" + *target).c_str());
    }
    archive_entry_set_perm(e, type == AE_IFDIR ? 0755 : 0644);
    if (archive_write_header(out.get(), e) < ARCHIVE_WARN) {
      return ErrnoStatus("extract", *clean, archive_errno(out.get()));
    }
    const void* buf = nullptr;
    size_t size = 0;
    la_int64_t offset = 0;
    while ((r = archive_read_data_block(in.get(), &buf, &size, &offset)) == ARCHIVE_OK) {
      if (archive_write_data_block(out.get(), buf, size, offset) < ARCHIVE_WARN) {
        return ErrnoStatus("extract", *clean, archive_errno(out.get()));
      }
    }
    if (r < ARCHIVE_WARN) {
      return Invalid("damaged archive: " + std::string(archive_error_string(in.get())));
    }
    if (archive_write_finish_entry(out.get()) < ARCHIVE_WARN) {
      return ErrnoStatus("extract", *clean, archive_errno(out.get()));
    }
  }
  if (archive_write_close(out.get()) != ARCHIVE_OK) {
    return ErrnoStatus("extract", path, archive_errno(out.get()));
  }
  return any ? Status() : Invalid(std::string(kNotAnImage));
}

std::string BlobPath(const Digest& d) { return "blobs/sha256/" + d.hex; }

// Copies the manifest's config and layers from an OCI layout.
Status StoreManifestParts(const BlobStore& blobs, const Source& src, const Manifest& m) {
  LINTEL_RETURN_IF_ERROR(src.Store(blobs, BlobPath(m.config.digest), m.config.digest).status());
  for (const auto& layer : m.layers) {
    if (!IsLayerMediaType(layer.media_type)) {
      return NotSupported("layer " + layer.digest.ToString() + ": media type " + layer.media_type +
                          " is not supported");
    }
    LINTEL_RETURN_IF_ERROR(src.Store(blobs, BlobPath(layer.digest), layer.digest).status());
  }
  return Status();
}

Result<ImportedImage> ImportOciLayout(const BlobStore& blobs, const Source& src,
                                      const std::string& tag, const Platform& platform) {
  LINTEL_ASSIGN_OR_RETURN(std::string layout_text, src.Read("oci-layout"));
  auto layout = ParseJson(layout_text);
  if (!layout.ok() || !layout->is_object() || layout->value("imageLayoutVersion", "") != "1.0.0") {
    return Invalid("oci-layout: want imageLayoutVersion 1.0.0");
  }
  LINTEL_ASSIGN_OR_RETURN(std::string index_text, src.Read("index.json"));
  LINTEL_ASSIGN_OR_RETURN(Index index, ParseIndex(index_text));
  if (index.manifests.empty()) return Invalid("index.json: no images");
  auto ref_name = [](const Descriptor& d) {
    auto it = d.annotations.find(std::string(kRefNameAnnotation));
    return it == d.annotations.end() ? std::string() : it->second;
  };
  auto matches = [&](const Descriptor& d, const std::string& t) {
    std::string n = ref_name(d);
    return n == t || n.ends_with(":" + t);
  };
  const Descriptor* chosen = nullptr;
  std::string want = tag;
  // A layout of one image is that image, whatever the tag asked for names
  // the result; of several, the tag (else "latest") picks one.
  if (index.manifests.size() == 1) {
    chosen = &index.manifests.front();
  } else {
    if (want.empty()) want = "latest";
    for (const auto& d : index.manifests) {
      if (matches(d, want)) chosen = &d;
    }
  }
  if (chosen == nullptr) {
    std::string tags;
    for (const auto& d : index.manifests) tags += (tags.empty() ? "" : ", ") + ref_name(d);
    return NotFound("OCI layout has no image tagged \"" + want + "\" (it has: " + tags + ")");
  }
  ImportedImage out;
  out.archive_name = ref_name(*chosen);
  Descriptor desc = *chosen;
  for (int depth = 0;; ++depth) {
    LINTEL_ASSIGN_OR_RETURN(Member m, src.File(BlobPath(desc.digest)));
    LINTEL_ASSIGN_OR_RETURN(std::string body, ReadFile(m.path));
    LINTEL_RETURN_IF_ERROR(
        CheckDigest("OCI layout blob " + desc.digest.ToString(), desc.digest, Sha256Of(body)));
    auto doc = ParseJson(body);
    if (!doc.ok()) return doc.error().Wrap("OCI layout blob " + desc.digest.ToString());
    LINTEL_ASSIGN_OR_RETURN(DocumentKind kind, ClassifyDocument(*doc, desc.media_type));
    if (kind == DocumentKind::kIndex) {
      if (depth >= 2) return Invalid("OCI layout: indexes nested too deep");
      LINTEL_ASSIGN_OR_RETURN(Index nested, ParseIndex(body));
      LINTEL_ASSIGN_OR_RETURN(desc, SelectPlatform(nested, platform));
      continue;
    }
    LINTEL_ASSIGN_OR_RETURN(Manifest manifest, ParseManifest(body));
    LINTEL_RETURN_IF_ERROR(StoreManifestParts(blobs, src, manifest));
    LINTEL_ASSIGN_OR_RETURN(out.manifest, blobs.Put(body, desc.digest));
    return out;
  }
}

std::string LayerMediaType(const std::string& path) {
  unsigned char magic[4] = {};
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd >= 0) {
    (void)!::read(fd, magic, sizeof(magic));
    ::close(fd);
  }
  if (magic[0] == 0x1f && magic[1] == 0x8b) return std::string(media::kOciLayerGzip);
  if (magic[0] == 0x28 && magic[1] == 0xb5 && magic[2] == 0x2f && magic[3] == 0xfd) {
    return std::string(media::kOciLayerZstd);
  }
  return std::string(media::kOciLayer);
}

Result<ImportedImage> ImportDockerArchive(const BlobStore& blobs, const Source& src,
                                          const std::string& tag) {
  LINTEL_ASSIGN_OR_RETURN(std::string text, src.Read("manifest.json"));
  auto doc = ParseJson(text);
  if (!doc.ok() || !doc->is_array() || doc->empty()) {
    return Invalid("docker archive: manifest.json is not a list of images");
  }
  const Json* entry = nullptr;
  if (doc->size() == 1) {
    entry = &(*doc)[0];
  } else {
    std::string want = tag.empty() ? "latest" : tag;
    for (const auto& e : *doc) {
      for (const auto& t : e.value("RepoTags", Json::array())) {
        if (t.is_string() && t.get<std::string>().ends_with(":" + want)) entry = &e;
      }
    }
    if (entry == nullptr) {
      return NotFound("docker archive has " + std::to_string(doc->size()) +
                      " images and none is tagged \"" + want + "\"");
    }
  }
  if (!entry->is_object() || !(*entry)["Config"].is_string() || !(*entry)["Layers"].is_array()) {
    return Invalid("docker archive: manifest.json entry lacks Config or Layers");
  }
  ImportedImage out;
  if (auto tags = entry->value("RepoTags", Json::array());
      tags.is_array() && !tags.empty() && tags[0].is_string()) {
    out.archive_name = tags[0].get<std::string>();
  }
  Manifest m;
  m.media_type = std::string(media::kOciManifest);
  std::string config_rel = (*entry)["Config"].get<std::string>();
  LINTEL_ASSIGN_OR_RETURN(m.config.digest, src.Store(blobs, config_rel, std::nullopt));
  m.config.media_type = std::string(media::kOciConfig);
  LINTEL_ASSIGN_OR_RETURN(m.config.size, blobs.Size(m.config.digest));
  for (const auto& l : (*entry)["Layers"]) {
    if (!l.is_string()) return Invalid("docker archive: a layer path is not a string");
    LINTEL_ASSIGN_OR_RETURN(Member member, src.File(l.get<std::string>()));
    Descriptor d;
    d.media_type = LayerMediaType(member.path);
    LINTEL_ASSIGN_OR_RETURN(d.digest, src.Store(blobs, l.get<std::string>(), std::nullopt));
    LINTEL_ASSIGN_OR_RETURN(d.size, blobs.Size(d.digest));
    m.layers.push_back(std::move(d));
  }
  LINTEL_ASSIGN_OR_RETURN(out.manifest, blobs.Put(m.ToJson().dump(), std::nullopt));
  return out;
}

Result<ImportedImage> ImportDir(const BlobStore& blobs, const std::string& dir, bool extracted,
                                const std::string& tag, const Platform& platform) {
  char real[PATH_MAX];
  if (::realpath(dir.c_str(), real) == nullptr) return ErrnoStatus("open", dir, errno);
  Source src(real, extracted);
  if (src.Has("oci-layout")) return ImportOciLayout(blobs, src, tag, platform);
  if (src.Has("manifest.json")) return ImportDockerArchive(blobs, src, tag);
  return Invalid(std::string(kNotAnImage));
}

}  // namespace

Result<ImportedImage> ImportArchive(const BlobStore& blobs, const std::string& path,
                                    const std::string& tag, const std::string& tmp_dir,
                                    const Platform& platform) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return ErrnoStatus("open", path, errno);
  if (S_ISDIR(st.st_mode)) return ImportDir(blobs, path, false, tag, platform);
  if (!S_ISREG(st.st_mode)) return Invalid(std::string(kNotAnImage));
  std::string dir = tmp_dir + "/import-" + UniqueSuffix();
  if (::mkdir(dir.c_str(), 0700) != 0) return ErrnoStatus("mkdir", dir, errno);
  auto run = [&]() -> Result<ImportedImage> {
    char real[PATH_MAX];
    if (::realpath(dir.c_str(), real) == nullptr) return ErrnoStatus("realpath", dir, errno);
    LINTEL_RETURN_IF_ERROR(ExtractTar(path, real));
    return ImportDir(blobs, real, true, tag, platform);
  };
  auto out = run();
  (void)RemoveTree(dir);
  return out;
}

}  // namespace lintel::images
