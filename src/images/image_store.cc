#include "images/image_store.h"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <climits>
#include <cstdlib>

#include "common/fs.h"
#include "common/time_format.h"
#include "images/image_store_impl.h"
#include "images/importer.h"
#include "images/reference.h"

namespace lintel::images {

namespace {

// "abc123..." of 12 to 64 hex digits: an image ID prefix as docker takes it.
bool LooksLikeDigestPrefix(std::string_view s) {
  if (s.size() < 12 || s.size() > 64) return false;
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

// Whether `name` spells out a tag or digest itself ("busybox:1.36"), as
// opposed to having "latest" filled in by normalisation.
bool HasExplicitTag(std::string_view name) {
  size_t slash = name.rfind('/');
  size_t colon = name.rfind(':');
  return name.find('@') != std::string_view::npos ||
         (colon != std::string_view::npos && (slash == std::string_view::npos || colon > slash));
}

// The name an import gets: see ImageStore::Import.
Result<Reference> ImportName(const std::string& name, const std::string& archive_name,
                             const std::string& path) {
  bool archive_is_ref = archive_name.find_first_of(":/") != std::string::npos;
  std::string archive_tag = archive_is_ref || archive_name.empty() ? "" : archive_name;
  if (archive_is_ref) {
    auto r = ParseReference(archive_name);
    if (r.ok() && !r->tag.empty()) archive_tag = r->tag;
  }
  std::string chosen = name;
  if (chosen.empty()) {
    if (archive_is_ref) return ParseReference(archive_name);
    std::string base = path;
    while (base.size() > 1 && base.back() == '/') base.pop_back();
    base = base.substr(base.rfind('/') + 1);
    for (std::string_view ext : {".tar.gz", ".tgz", ".tar"}) {
      if (base.ends_with(ext)) base.resize(base.size() - ext.size());
    }
    chosen = base;
  }
  if (!HasExplicitTag(chosen) && !archive_tag.empty()) chosen += ":" + archive_tag;
  auto ref = ParseReference(chosen);
  if (!ref.ok()) return ref.error().Wrap("name the image with --name");
  return ref;
}

}  // namespace

// --- Impl: shared pieces ---

Result<FileLock> ImageStore::Impl::Lock(FileLock::Mode mode) const {
  return FileLock::Acquire(root_ + "/lock", mode);
}

Result<ImageStore::Impl::Parts> ImageStore::Impl::ReadParts(const Digest& manifest) const {
  Parts p;
  LINTEL_ASSIGN_OR_RETURN(std::string body, blobs_.Read(manifest));
  auto doc = ParseJson(body);
  if (!doc.ok()) return doc.error().Wrap("manifest " + manifest.ToString());
  LINTEL_ASSIGN_OR_RETURN(DocumentKind kind, ClassifyDocument(*doc));
  if (kind != DocumentKind::kManifest) {
    return Invalid(manifest.ToString() + " is an index, not an image manifest");
  }
  LINTEL_ASSIGN_OR_RETURN(p.manifest, ParseManifest(body));
  LINTEL_ASSIGN_OR_RETURN(std::string config, blobs_.Read(p.manifest.config.digest));
  LINTEL_ASSIGN_OR_RETURN(p.config, ParseImageConfig(config));
  if (p.config.diff_ids.size() != p.manifest.layers.size()) {
    return Invalid("image " + manifest.ToString() + ": the manifest has " +
                   std::to_string(p.manifest.layers.size()) + " layers, the config " +
                   std::to_string(p.config.diff_ids.size()) + " diff ids");
  }
  return p;
}

Result<Image> ImageStore::Impl::Materialize(const Digest& manifest, std::string reference,
                                            const Fetcher* fetch) {
  LINTEL_ASSIGN_OR_RETURN(std::string body, blobs_.Read(manifest));
  LINTEL_ASSIGN_OR_RETURN(Manifest m, ParseManifest(body));
  auto ensure_blob = [&](const Descriptor& d) -> Status {
    if (blobs_.Has(d.digest)) return Status();
    if (fetch == nullptr) {
      return NotFound("blob " + d.digest.ToString() +
                      " is missing; import or pull the image again");
    }
    return (*fetch)(d);
  };
  LINTEL_RETURN_IF_ERROR(ensure_blob(m.config));
  LINTEL_ASSIGN_OR_RETURN(Parts parts, ReadParts(manifest));
  Image image;
  image.reference = std::move(reference);
  image.digest = manifest;
  image.config_digest = parts.manifest.config.digest;
  image.config = std::move(parts.config);
  for (size_t i = 0; i < parts.manifest.layers.size(); ++i) {
    const Descriptor& layer = parts.manifest.layers[i];
    const Digest& diff_id = image.config.diff_ids[i];
    if (!layers_.Has(diff_id)) {
      if (!IsLayerMediaType(layer.media_type)) {
        return NotSupported("layer " + layer.digest.ToString() + ": media type " +
                            layer.media_type + " is not supported");
      }
      LINTEL_RETURN_IF_ERROR(ensure_blob(layer));
    }
    LINTEL_ASSIGN_OR_RETURN(LayerInfo info, layers_.Ensure(diff_id, blobs_.Path(layer.digest)));
    image.layers.push_back(layers_.TreeDir(diff_id));
    image.size += info.bytes;
  }
  return image;
}

Result<Digest> ImageStore::Impl::Lookup(const std::string& ref, std::string* canonical) const {
  canonical->clear();
  auto not_found = [&] {
    return NotFound("image \"" + ref + "\" not found (lintel image pull or import it)");
  };
  if (ref.starts_with("sha256:")) {
    LINTEL_ASSIGN_OR_RETURN(Digest d, ParseDigest(ref));
    if (!blobs_.Has(d)) return not_found();
    return d;
  }
  LINTEL_ASSIGN_OR_RETURN(auto refs, refs_.Load());
  if (LooksLikeDigestPrefix(ref)) {
    std::set<Digest> hits;
    for (const auto& [name, e] : refs) {
      if (e.digest.hex.starts_with(ref)) hits.insert(e.digest);
    }
    if (hits.size() == 1) return *hits.begin();
    if (hits.size() > 1) return Invalid("digest prefix " + ref + " is ambiguous");
  }
  LINTEL_ASSIGN_OR_RETURN(Reference r, ParseReference(ref));
  auto it = refs.find(r.ToString());
  if (it != refs.end()) {
    *canonical = it->first;
    return it->second.digest;
  }
  if (r.digest && blobs_.Has(*r.digest)) return *r.digest;
  return not_found();
}

Status ImageStore::Impl::Tag(const std::string& canonical, const Digest& manifest) const {
  return refs_.Update([&](std::map<std::string, RefEntry>& refs) {
    auto& e = refs[canonical];
    if (e.digest != manifest) {
      e.digest = manifest;
      e.added = FormatRfc3339(std::chrono::system_clock::now());
    }
    return Status();
  });
}

// --- Impl: operations ---

Result<Image> ImageStore::Impl::Import(const std::string& path, const std::string& name) {
  auto wrap = [&](const Status& s) { return s.Wrap("image import " + path); };
  std::string tag;
  if (!name.empty() && HasExplicitTag(name)) {
    auto r = ParseReference(name);
    if (!r.ok()) return wrap(r.error());
    tag = r->tag;
  }
  auto lock = Lock(FileLock::Mode::kShared);
  if (!lock.ok()) return wrap(lock.error());
  auto imported = ImportArchive(blobs_, path, tag, root_ + "/tmp", options_.platform);
  if (!imported.ok()) return wrap(imported.error());
  auto ref = ImportName(name, imported->archive_name, path);
  if (!ref.ok()) return wrap(ref.error());
  auto image = Materialize(imported->manifest, ref->ToString(), nullptr);
  if (!image.ok()) return wrap(image.error());
  if (Status s = Tag(image->reference, image->digest); !s.ok()) return wrap(s);
  return image;
}

Result<Image> ImageStore::Impl::Resolve(const std::string& ref) {
  std::string canonical;
  LINTEL_ASSIGN_OR_RETURN(Digest d, Lookup(ref, &canonical));
  LINTEL_ASSIGN_OR_RETURN(FileLock lock, Lock(FileLock::Mode::kShared));
  auto image = Materialize(d, canonical, nullptr);
  if (!image.ok()) return image.error().Wrap("image " + ref);
  return image;
}

Result<std::vector<ImageSummary>> ImageStore::Impl::List() {
  LINTEL_ASSIGN_OR_RETURN(auto refs, refs_.Load());
  std::vector<ImageSummary> out;
  for (const auto& [key, entry] : refs) {
    ImageSummary s;
    s.reference = key;
    s.digest = entry.digest;
    auto r = ParseReference(key);
    if (r.ok()) {
      s.name = r->FamiliarName();
      s.tag = r->tag.empty() ? "<none>" : r->tag;
    } else {
      s.name = key;
    }
    if (auto parts = ReadParts(entry.digest); parts.ok()) {
      s.created = parts->config.created;
      for (const auto& diff_id : parts->config.diff_ids) {
        if (auto info = layers_.Info(diff_id); info.ok()) s.size += info->bytes;
      }
    }
    out.push_back(std::move(s));
  }
  return out;
}

Result<std::vector<std::string>> ImageStore::Impl::Remove(const std::string& ref) {
  std::vector<std::string> removed;
  bool by_digest = ref.starts_with("sha256:") || LooksLikeDigestPrefix(ref);
  std::string canonical;
  Digest digest;
  if (by_digest) {
    auto d = Lookup(ref, &canonical);
    if (!d.ok()) return d.error();
    digest = *d;
    by_digest = canonical.empty();  // a hex-looking name matched a reference
  } else {
    LINTEL_ASSIGN_OR_RETURN(Reference r, ParseReference(ref));
    canonical = r.ToString();
  }
  LINTEL_RETURN_IF_ERROR(refs_.Update([&](std::map<std::string, RefEntry>& refs) {
    for (auto it = refs.begin(); it != refs.end();) {
      bool match = by_digest ? it->second.digest == digest : it->first == canonical;
      if (match) {
        removed.push_back(it->first);
        it = refs.erase(it);
      } else {
        ++it;
      }
    }
    return Status();
  }));
  if (removed.empty()) return NotFound("image \"" + ref + "\" not found");
  return removed;
}

// --- ImageStore ---

Result<std::unique_ptr<ImageStore>> ImageStore::Open(const std::string& root,
                                                     ImageStoreOptions options) {
  LINTEL_RETURN_IF_ERROR(MakeDirs(root, 0700));
  char real[PATH_MAX];
  if (::realpath(root.c_str(), real) == nullptr) return ErrnoStatus("open", root, errno);
  std::string r(real);
  for (const char* sub : {"/blobs/sha256", "/layers/sha256", "/leases", "/tmp"}) {
    LINTEL_RETURN_IF_ERROR(MakeDirs(r + sub, 0700));
  }
  // Layer trees are read by containers whose processes may not be root.
  ::chmod((r + "/layers").c_str(), 0711);
  ::chmod((r + "/layers/sha256").c_str(), 0711);
  ::chmod(r.c_str(), 0711);
  auto impl = std::make_unique<Impl>(std::move(r), std::move(options));
  return std::unique_ptr<ImageStore>(new ImageStore(std::move(impl)));
}

ImageStore::ImageStore(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ImageStore::~ImageStore() = default;

Result<Image> ImageStore::Import(const std::string& path, const std::string& name) {
  return impl_->Import(path, name);
}
Result<Image> ImageStore::Pull(const std::string& ref, const PullOptions& options) {
  return impl_->Pull(ref, options);
}
Result<Image> ImageStore::Resolve(const std::string& ref) { return impl_->Resolve(ref); }
Result<std::vector<ImageSummary>> ImageStore::List() { return impl_->List(); }
Result<std::vector<std::string>> ImageStore::Remove(const std::string& ref) {
  return impl_->Remove(ref);
}
Result<GcResult> ImageStore::GarbageCollect(const std::set<std::string>& in_use,
                                            bool remove_unused_images) {
  return impl_->GarbageCollect(in_use, remove_unused_images);
}
std::vector<std::string> ImageStore::RootfsLowerDirs(const Image& image) const {
  return {image.layers.rbegin(), image.layers.rend()};
}
Result<std::string> ImageStore::MountRootfs(const Image& image, const std::string& container_dir) {
  return impl_->MountRootfs(image, container_dir);
}
Status ImageStore::UnmountRootfs(const std::string& container_dir) {
  return impl_->UnmountRootfs(container_dir);
}
const std::string& ImageStore::root() const { return impl_->root_; }

}  // namespace lintel::images
