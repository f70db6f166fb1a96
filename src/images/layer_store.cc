#include "images/layer_store.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <climits>
#include <cstdlib>

#include "common/fs.h"
#include "common/json.h"
#include "images/fs_util.h"

namespace lintel::images {

namespace {

constexpr const char* kMarker = "/layer.json";

Status SyncFilesystem(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus("open", path, errno);
  int rc = ::syncfs(fd);
  int err = errno;
  ::close(fd);
  return rc == 0 ? Status() : ErrnoStatus("syncfs", path, err);
}

}  // namespace

std::string LayerStore::Dir(const Digest& diff_id) const {
  return root_ + "/layers/sha256/" + diff_id.hex;
}

std::string LayerStore::TreeDir(const Digest& diff_id) const { return Dir(diff_id) + "/root"; }

bool LayerStore::Has(const Digest& diff_id) const { return FileExists(Dir(diff_id) + kMarker); }

Result<LayerInfo> LayerStore::Info(const Digest& diff_id) const {
  auto text = ReadFile(Dir(diff_id) + kMarker);
  if (!text.ok()) return text.error();
  auto j = ParseJson(*text);
  if (!j.ok() || !j->is_object()) return Internal("layer " + diff_id.ToString() + ": bad marker");
  LayerInfo info;
  info.diff_id = diff_id;
  info.bytes = j->value("bytes", int64_t{0});
  info.entries = j->value("entries", int64_t{0});
  return info;
}

Result<LayerInfo> LayerStore::Ensure(const Digest& diff_id, const std::string& blob_path) const {
  if (Has(diff_id)) return Info(diff_id);
  std::string final_dir = Dir(diff_id);
  if (FileExists(final_dir)) {
    LINTEL_RETURN_IF_ERROR(RemoveTree(final_dir));  // incomplete: redo
  }
  std::string tmp = root_ + "/tmp/layer-" + diff_id.Short() + "-" + UniqueSuffix();
  auto cleanup = [&](Status s) {
    (void)RemoveTree(tmp);
    return s.Wrap("unpack layer " + diff_id.ToString());
  };
  if (::mkdir(tmp.c_str(), 0700) != 0 || ::mkdir((tmp + "/root").c_str(), 0755) != 0) {
    return cleanup(ErrnoStatus("mkdir", tmp, errno));
  }
  char real[PATH_MAX];
  if (::realpath((tmp + "/root").c_str(), real) == nullptr) {
    return cleanup(ErrnoStatus("realpath", tmp, errno));
  }
  auto t0 = std::chrono::steady_clock::now();
  auto stats = UnpackLayer(blob_path, real, unpack_);
  if (!stats.ok()) return cleanup(stats.error());
  if (stats->diff_id != diff_id) {
    return cleanup(Internal("diff id mismatch: the image config says " + diff_id.ToString() +
                            ", the layer's content is " + stats->diff_id.ToString()));
  }
  if (sync_) {
    if (Status s = SyncFilesystem(tmp); !s.ok()) return cleanup(s);
  }
  double ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  Json marker = {{"diffID", diff_id.ToString()},
                 {"bytes", stats->bytes},
                 {"entries", stats->entries},
                 {"unpackMillis", static_cast<int64_t>(ms)}};
  if (Status s = WriteFileAtomic(tmp + kMarker, marker.dump() + "\n", 0644); !s.ok()) {
    return cleanup(s);
  }
  if (::rename(tmp.c_str(), final_dir.c_str()) != 0) {
    int err = errno;
    if ((err == EEXIST || err == ENOTEMPTY) && Has(diff_id)) {
      (void)RemoveTree(tmp);  // someone else finished it first
      return Info(diff_id);
    }
    return cleanup(ErrnoStatus("rename", tmp, err));
  }
  if (sync_) {
    LINTEL_RETURN_IF_ERROR(SyncDir(root_ + "/layers/sha256"));
  }
  return LayerInfo{diff_id, stats->bytes, stats->entries};
}

Status LayerStore::Remove(const Digest& diff_id) const {
  std::string dir = Dir(diff_id);
  // Rename first so a half-removed layer never looks complete.
  std::string doomed = root_ + "/tmp/rm-" + diff_id.Short() + "-" + UniqueSuffix();
  if (::rename(dir.c_str(), doomed.c_str()) != 0) {
    if (errno == ENOENT) return Status();
    return ErrnoStatus("rename", dir, errno);
  }
  return RemoveTree(doomed);
}

Result<std::vector<Digest>> LayerStore::List() const {
  std::string dir = root_ + "/layers/sha256";
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return ErrnoStatus("open", dir, errno);
  std::vector<Digest> out;
  while (struct dirent* e = ::readdir(d)) {
    if (IsSha256Hex(e->d_name)) out.push_back(Digest{e->d_name});
  }
  ::closedir(d);
  return out;
}

}  // namespace lintel::images
