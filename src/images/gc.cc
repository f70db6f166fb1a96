// ImageStore::GarbageCollect: mark from references, in-use entries and
// leases; sweep blobs, layers and tmp/ under the exclusive lock.
#include <dirent.h>
#include <sys/stat.h>

#include "common/fs.h"
#include "common/json.h"
#include "images/image_store_impl.h"

namespace lintel::images {

namespace {

std::vector<std::string> DirEntries(const std::string& dir) {
  std::vector<std::string> out;
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return out;
  while (struct dirent* e = ::readdir(d)) {
    std::string n = e->d_name;
    if (n != "." && n != "..") out.push_back(n);
  }
  ::closedir(d);
  return out;
}

int64_t PathSize(const std::string& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) return 0;
  return S_ISDIR(st.st_mode) ? TreeSize(path) : static_cast<int64_t>(st.st_size);
}

}  // namespace

Result<GcResult> ImageStore::Impl::GarbageCollect(const std::set<std::string>& in_use,
                                                  bool remove_unused) {
  LINTEL_ASSIGN_OR_RETURN(FileLock lock, Lock(FileLock::Mode::kExclusive));
  GcResult out;
  std::set<Digest> keep_manifests;
  std::set<Digest> keep_layers;
  for (const auto& ref : in_use) {
    std::string canonical;
    if (auto d = Lookup(ref, &canonical); d.ok()) keep_manifests.insert(*d);
  }
  // Leases: images mounted as some container's rootfs. A lease whose
  // container directory is gone is stale.
  std::string leases = root_ + "/leases";
  for (const auto& name : DirEntries(leases)) {
    std::string path = leases + "/" + name;
    auto text = ReadFile(path);
    auto j = text.ok() ? ParseJson(*text) : Result<Json>(text.error());
    if (!j.ok() || !j->is_object() || !FileExists(j->value("containerDir", "") + "/rootfs")) {
      ::unlink(path.c_str());
      continue;
    }
    if (auto d = ParseDigest(j->value("image", "")); d.ok()) keep_manifests.insert(*d);
    for (const auto& l : j->value("layers", Json::array())) {
      if (auto d = ParseDigest(l.is_string() ? l.get<std::string>() : ""); d.ok()) {
        keep_layers.insert(*d);
      }
    }
  }
  if (remove_unused) {
    LINTEL_RETURN_IF_ERROR(refs_.Update([&](std::map<std::string, RefEntry>& refs) {
      for (auto it = refs.begin(); it != refs.end();) {
        if (keep_manifests.count(it->second.digest) != 0) {
          ++it;
          continue;
        }
        ++out.removed_images;
        it = refs.erase(it);
      }
      return Status();
    }));
  }
  LINTEL_ASSIGN_OR_RETURN(auto refs, refs_.Load());
  for (const auto& [name, e] : refs) keep_manifests.insert(e.digest);

  std::set<Digest> keep_blobs;
  for (const auto& m : keep_manifests) {
    keep_blobs.insert(m);
    auto parts = ReadParts(m);
    if (!parts.ok()) continue;  // damaged: keep what can be named, drop the rest
    keep_blobs.insert(parts->manifest.config.digest);
    for (const auto& l : parts->manifest.layers) keep_blobs.insert(l.digest);
    keep_layers.insert(parts->config.diff_ids.begin(), parts->config.diff_ids.end());
  }

  LINTEL_ASSIGN_OR_RETURN(auto blobs, blobs_.List());
  for (const auto& d : blobs) {
    if (keep_blobs.count(d) != 0) continue;
    int64_t size = PathSize(blobs_.Path(d));
    LINTEL_RETURN_IF_ERROR(blobs_.Remove(d));
    out.freed_bytes += size;
    ++out.removed_blobs;
  }
  LINTEL_ASSIGN_OR_RETURN(auto layers, layers_.List());
  for (const auto& d : layers) {
    if (keep_layers.count(d) != 0 && layers_.Has(d)) continue;
    int64_t size = PathSize(layers_.Dir(d));
    LINTEL_RETURN_IF_ERROR(layers_.Remove(d));
    out.freed_bytes += size;
    ++out.removed_layers;
  }
  // Nobody writes while we hold the exclusive lock: tmp/ holds only leftovers.
  std::string tmp = root_ + "/tmp";
  for (const auto& name : DirEntries(tmp)) {
    out.freed_bytes += PathSize(tmp + "/" + name);
    LINTEL_RETURN_IF_ERROR(RemoveTree(tmp + "/" + name));
  }
  return out;
}

}  // namespace lintel::images
