#include "images/layer_unpack.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <vector>

#include "images/fs_util.h"

namespace lintel::images {

namespace {

constexpr std::string_view kWhiteoutPrefix = ".wh.";
constexpr std::string_view kOpaqueMarker = ".wh..wh..opq";
constexpr size_t kReadBlock = 1 << 17;

struct ArchiveDeleter {
  void operator()(archive* a) const {
    if (a != nullptr) archive_read_free(a);
  }
};
struct DiskDeleter {
  void operator()(archive* a) const {
    if (a != nullptr) archive_write_free(a);
  }
};
using ReadArchive = std::unique_ptr<archive, ArchiveDeleter>;
using DiskArchive = std::unique_ptr<archive, DiskDeleter>;

class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(Fd&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
  Fd& operator=(Fd&& o) noexcept {
    std::swap(fd_, o.fd_);
    return *this;
  }
  int get() const { return fd_; }

 private:
  int fd_;
};

std::string ArchiveError(archive* a) {
  const char* s = archive_error_string(a);
  int err = archive_errno(a);
  if (err == ENOSPC || err == EDQUOT) return "no space left on device";
  return s != nullptr ? s : (err != 0 ? std::strerror(err) : "unknown error");
}

Status ArchiveStatus(archive* a, const std::string& what) {
  int err = archive_errno(a);
  std::string msg = what + ": " + ArchiveError(a);
  if (err == ENOSPC || err == EDQUOT) return Unavailable(msg);
  return Internal(msg);
}

// The decompressed bytes of the blob, hashed as the tar reader pulls them.
struct Source {
  archive* raw = nullptr;
  Sha256 hash;
  std::vector<char> buf = std::vector<char>(kReadBlock);
  bool eof = false;
  std::string error;
};

la_ssize_t ReadDecompressed(archive* tar, void* client, const void** out) {
  auto* src = static_cast<Source*>(client);
  if (src->eof) return 0;
  la_ssize_t n = archive_read_data(src->raw, src->buf.data(), src->buf.size());
  if (n < 0) {
    src->error = ArchiveError(src->raw);
    archive_set_error(tar, archive_errno(src->raw), "%s", src->error.c_str());
    return -1;
  }
  if (n == 0) {
    src->eof = true;
    return 0;
  }
  src->hash.Update(std::string_view(src->buf.data(), static_cast<size_t>(n)));
  *out = src->buf.data();
  return n;
}

// Opens (and with `create`, makes) ROOT/rel as a directory one component at a
// time, never following a symlink.
Result<Fd> OpenDirNoFollow(int root_fd, std::string_view rel, bool create) {
  Fd cur(::dup(root_fd));
  size_t start = 0;
  while (start < rel.size()) {
    size_t end = rel.find('/', start);
    if (end == std::string_view::npos) end = rel.size();
    std::string comp(rel.substr(start, end - start));
    start = end + 1;
    int fd = ::openat(cur.get(), comp.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT && create) {
      if (::mkdirat(cur.get(), comp.c_str(), 0755) != 0 && errno != EEXIST) {
        return ErrnoStatus("mkdir", std::string(rel), errno);
      }
      fd = ::openat(cur.get(), comp.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    }
    if (fd < 0) {
      if (errno == ELOOP || errno == ENOTDIR) {
        return Invalid("\"" + std::string(rel) + "\" passes through a symlink or file");
      }
      return ErrnoStatus("open", std::string(rel), errno);
    }
    cur = Fd(fd);
  }
  return cur;
}

std::pair<std::string_view, std::string_view> SplitParent(std::string_view path) {
  size_t slash = path.rfind('/');
  if (slash == std::string_view::npos) return {"", path};
  return {path.substr(0, slash), path.substr(slash + 1)};
}

// Drops xattrs in overlayfs' namespaces: a layer must not forge whiteouts,
// opaque markers or redirects.
void DropOverlayXattrs(archive_entry* e) {
  if (archive_entry_xattr_reset(e) == 0) return;
  struct Xattr {
    std::string name;
    std::string value;
  };
  std::vector<Xattr> keep;
  bool dropped = false;
  const char* name = nullptr;
  const void* value = nullptr;
  size_t size = 0;
  while (archive_entry_xattr_next(e, &name, &value, &size) == ARCHIVE_OK) {
    std::string_view n(name);
    if (n.starts_with("trusted.overlay.") || n.starts_with("user.overlay.")) {
      dropped = true;
      continue;
    }
    keep.push_back({std::string(n), std::string(static_cast<const char*>(value), size)});
  }
  if (!dropped) return;
  archive_entry_xattr_clear(e);
  for (const auto& x : keep) {
    archive_entry_xattr_add_entry(e, x.name.c_str(), x.value.data(), x.value.size());
  }
}

class Unpacker {
 public:
  Unpacker(std::string dest, const UnpackOptions& options)
      : dest_(std::move(dest)), options_(options) {}

  Result<UnpackStats> Run(const std::string& blob_path);

 private:
  Status Entry(archive* tar, archive* disk, archive_entry* e);
  Status Whiteout(std::string_view parent, std::string_view name, const std::string& path);
  Status Opaque(std::string_view dir, const std::string& path);
  Status CopyData(archive* tar, archive* disk, const std::string& path);

  std::string dest_;
  UnpackOptions options_;
  Fd root_;
  UnpackStats stats_;
};

Result<UnpackStats> Unpacker::Run(const std::string& blob_path) {
  root_ = Fd(::open(dest_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (root_.get() < 0) return ErrnoStatus("open", dest_, errno);

  ReadArchive raw(archive_read_new());
  archive_read_support_filter_gzip(raw.get());
  archive_read_support_filter_zstd(raw.get());
  archive_read_support_filter_xz(raw.get());
  archive_read_support_filter_bzip2(raw.get());
  archive_read_support_format_raw(raw.get());
  // An empty blob is no layer (libarchive would call it an unknown format).
  if (struct stat st{}; ::stat(blob_path.c_str(), &st) == 0 && st.st_size == 0) {
    return Invalid("layer " + blob_path + ": empty");
  }
  if (archive_read_open_filename(raw.get(), blob_path.c_str(), kReadBlock) != ARCHIVE_OK) {
    return ArchiveStatus(raw.get(), "open " + blob_path);
  }
  archive_entry* raw_entry = nullptr;
  int r = archive_read_next_header(raw.get(), &raw_entry);
  if (r == ARCHIVE_EOF) return Invalid("layer " + blob_path + ": empty");
  if (r < ARCHIVE_WARN) return ArchiveStatus(raw.get(), "read " + blob_path);

  Source src;
  src.raw = raw.get();
  ReadArchive tar(archive_read_new());
  archive_read_support_format_tar(tar.get());
  if (archive_read_open(tar.get(), &src, nullptr, ReadDecompressed, nullptr) != ARCHIVE_OK) {
    return Invalid("layer " + blob_path + ": not a tar archive: " + ArchiveError(tar.get()));
  }
  DiskArchive disk(archive_write_disk_new());
  int flags = ARCHIVE_EXTRACT_PERM | ARCHIVE_EXTRACT_TIME | ARCHIVE_EXTRACT_XATTR |
              ARCHIVE_EXTRACT_UNLINK | ARCHIVE_EXTRACT_SECURE_SYMLINKS |
              ARCHIVE_EXTRACT_SECURE_NODOTDOT;
  if (options_.restore_owner) flags |= ARCHIVE_EXTRACT_OWNER;
  archive_write_disk_set_options(disk.get(), flags);

  for (;;) {
    archive_entry* e = nullptr;
    r = archive_read_next_header(tar.get(), &e);
    if (r == ARCHIVE_EOF) break;
    if (r < ARCHIVE_WARN) {
      if (!src.error.empty()) return Invalid("layer: read: " + src.error);
      return Invalid("layer: not a valid tar archive: " + ArchiveError(tar.get()));
    }
    LINTEL_RETURN_IF_ERROR(Entry(tar.get(), disk.get(), e));
  }
  // Directory permissions and times are fixed up here, after their children.
  if (archive_write_close(disk.get()) != ARCHIVE_OK) {
    return ArchiveStatus(disk.get(), "unpack " + dest_);
  }
  // The tar may end before the stream does (padding): hash all of it.
  const void* ignored = nullptr;
  for (;;) {
    la_ssize_t n = ReadDecompressed(tar.get(), &src, &ignored);
    if (n < 0) return Invalid("layer: read: " + src.error);
    if (n == 0) break;
  }
  stats_.diff_id = src.hash.Finish();
  return stats_;
}

Status Unpacker::Entry(archive* tar, archive* disk, archive_entry* e) {
  const char* raw_path = archive_entry_pathname(e);
  if (raw_path == nullptr) raw_path = archive_entry_pathname_utf8(e);
  if (raw_path == nullptr) return Invalid("layer: an entry has no readable path");
  auto clean = CleanLayerPath(raw_path);
  if (!clean.ok()) return clean.error();
  const std::string& path = *clean;
  if (path.empty()) return Status();  // the layer root itself
  auto [parent, base] = SplitParent(path);
  if (base == kOpaqueMarker) return Opaque(parent, path);
  if (base.starts_with(kWhiteoutPrefix)) {
    std::string_view name = base.substr(kWhiteoutPrefix.size());
    if (name.starts_with(kWhiteoutPrefix)) return Status();  // other AUFS metadata
    return Whiteout(parent, name, path);
  }
  // The directories on the way must not be symlinks (libarchive's
  // SECURE_SYMLINKS with UNLINK would replace such a symlink by a directory
  // and carry on; an entry that goes through one is refused instead).
  if (!parent.empty()) {
    auto dir = OpenDirNoFollow(root_.get(), parent, true);
    if (!dir.ok()) return dir.error().Wrap("layer: " + path);
  }
  DropOverlayXattrs(e);
  archive_entry_set_pathname(e, (dest_ + "/" + path).c_str());
  if (const char* link = archive_entry_hardlink(e); link != nullptr) {
    auto target = CleanLayerPath(link);
    if (!target.ok() || target->empty()) {
      return Invalid("layer: hard link " + path + " -> " + link + ": target outside the layer");
    }
    // link(2) does not follow a final symlink, but the directories on the way
    // must not be symlinks either.
    auto [tparent, tbase] = SplitParent(*target);
    auto dir = OpenDirNoFollow(root_.get(), tparent, false);
    if (!dir.ok()) return dir.error().Wrap("layer: hard link " + path + " -> " + link);
    archive_entry_set_hardlink(e, (dest_ + "/" + *target).c_str());
  }
  int r = archive_write_header(disk, e);
  if (r < ARCHIVE_WARN) return ArchiveStatus(disk, "unpack " + path);
  if (archive_entry_size(e) > 0 && r >= ARCHIVE_WARN) {
    LINTEL_RETURN_IF_ERROR(CopyData(tar, disk, path));
    if (archive_entry_filetype(e) == AE_IFREG) stats_.bytes += archive_entry_size(e);
  }
  r = archive_write_finish_entry(disk);
  if (r < ARCHIVE_WARN) return ArchiveStatus(disk, "unpack " + path);
  ++stats_.entries;
  return Status();
}

Status Unpacker::CopyData(archive* tar, archive* disk, const std::string& path) {
  for (;;) {
    const void* buf = nullptr;
    size_t size = 0;
    la_int64_t offset = 0;
    int r = archive_read_data_block(tar, &buf, &size, &offset);
    if (r == ARCHIVE_EOF) return Status();
    if (r < ARCHIVE_WARN) return Invalid("layer: read " + path + ": " + ArchiveError(tar));
    if (archive_write_data_block(disk, buf, size, offset) < ARCHIVE_WARN) {
      return ArchiveStatus(disk, "unpack " + path);
    }
  }
}

Status Unpacker::Whiteout(std::string_view parent, std::string_view name, const std::string& path) {
  if (name.empty() || name == "." || name == "..") {
    return Invalid("layer: bad whiteout " + path);
  }
  LINTEL_ASSIGN_OR_RETURN(Fd dir, OpenDirNoFollow(root_.get(), parent, true));
  std::string n(name);
  if (::mknodat(dir.get(), n.c_str(), S_IFCHR | 0, makedev(0, 0)) != 0) {
    // Already there: an entry of this same layer, which wins over the whiteout.
    if (errno != EEXIST) return ErrnoStatus("whiteout", path, errno);
  }
  ++stats_.whiteouts;
  ++stats_.entries;
  return Status();
}

Status Unpacker::Opaque(std::string_view dir_path, const std::string& path) {
  LINTEL_ASSIGN_OR_RETURN(Fd dir, OpenDirNoFollow(root_.get(), dir_path, true));
  std::string key = options_.overlay_xattr_prefix + "opaque";
  if (::fsetxattr(dir.get(), key.c_str(), "y", 1, 0) != 0) {
    return ErrnoStatus("set " + key + " on", path, errno);
  }
  ++stats_.opaque_dirs;
  ++stats_.entries;
  return Status();
}

}  // namespace

UnpackOptions DefaultUnpackOptions() {
  UnpackOptions o;
  if (::geteuid() != 0) {
    o.overlay_xattr_prefix = "user.overlay.";
    o.restore_owner = false;
  }
  return o;
}

Result<std::string> CleanLayerPath(std::string_view path) {
  std::string out;
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    std::string_view comp = path.substr(start, end - start);
    start = end + 1;
    if (comp.empty() || comp == ".") continue;
    if (comp == "..") {
      return Invalid("layer: unsafe path \"" + std::string(path) + "\" (\"..\" escapes the layer)");
    }
    if (!out.empty()) out.push_back('/');
    out.append(comp);
  }
  return out;
}

Result<UnpackStats> UnpackLayer(const std::string& blob_path, const std::string& dest,
                                const UnpackOptions& options) {
  try {
    Unpacker u(dest, options);
    return u.Run(blob_path);
  } catch (const std::exception& e) {
    return Internal(std::string("unpack ") + blob_path + ": " + e.what());
  }
}

}  // namespace lintel::images
