#include "images/blob_store.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "common/fs.h"
#include "images/fs_util.h"

namespace lintel::images {

std::string BlobStore::Path(const Digest& d) const { return root_ + "/blobs/sha256/" + d.hex; }

bool BlobStore::Has(const Digest& d) const { return FileExists(Path(d)); }

Result<int64_t> BlobStore::Size(const Digest& d) const {
  struct stat st {};
  std::string p = Path(d);
  if (::stat(p.c_str(), &st) != 0) return ErrnoStatus("stat", p, errno);
  return static_cast<int64_t>(st.st_size);
}

Result<std::string> BlobStore::Read(const Digest& d, size_t max_bytes) const {
  LINTEL_ASSIGN_OR_RETURN(int64_t size, Size(d));
  if (static_cast<size_t>(size) > max_bytes) {
    return Invalid("blob " + d.ToString() + ": " + std::to_string(size) + " bytes, over the " +
                   std::to_string(max_bytes) + " a document may have");
  }
  LINTEL_ASSIGN_OR_RETURN(std::string content, ReadFile(Path(d)));
  LINTEL_RETURN_IF_ERROR(CheckDigest("blob " + Path(d), d, Sha256Of(content)));
  return content;
}

Result<std::unique_ptr<BlobStore::Writer>> BlobStore::NewWriter() const {
  std::string tmp = root_ + "/tmp/blob-" + UniqueSuffix();
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) return ErrnoStatus("create", tmp, errno);
  return std::unique_ptr<Writer>(new Writer(this, std::move(tmp), fd));
}

BlobStore::Writer::~Writer() {
  if (fd_ >= 0) ::close(fd_);
  if (!tmp_.empty()) ::unlink(tmp_.c_str());
}

Status BlobStore::Writer::Write(std::string_view data) {
  if (fd_ < 0) return Internal("blob writer: already committed");
  hash_.Update(data);
  written_ += static_cast<int64_t>(data.size());
  while (!data.empty()) {
    ssize_t n = ::write(fd_, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ErrnoStatus("write", tmp_, errno);
    data.remove_prefix(static_cast<size_t>(n));
  }
  return Status();
}

Result<Digest> BlobStore::Writer::Commit(const std::optional<Digest>& expected,
                                         std::optional<int64_t> expected_size) {
  if (fd_ < 0) return Internal("blob writer: already committed");
  Digest got = hash_.Finish();
  if (store_->sync_ && ::fsync(fd_) != 0) return ErrnoStatus("fsync", tmp_, errno);
  ::close(fd_);
  fd_ = -1;
  if (expected) {
    LINTEL_RETURN_IF_ERROR(CheckDigest("blob", *expected, got));
  }
  if (expected_size && *expected_size != written_) {
    return Internal("blob " + got.ToString() + ": size mismatch: expected " +
                    std::to_string(*expected_size) + " bytes, got " + std::to_string(written_));
  }
  LINTEL_RETURN_IF_ERROR(store_->Install(tmp_, got));
  tmp_.clear();
  return got;
}

Status BlobStore::Install(const std::string& tmp, const Digest& d) const {
  std::string dest = Path(d);
  if (::rename(tmp.c_str(), dest.c_str()) != 0) return ErrnoStatus("rename", tmp, errno);
  return sync_ ? SyncDir(root_ + "/blobs/sha256") : Status();
}

Result<Digest> BlobStore::Put(std::string_view content,
                              const std::optional<Digest>& expected) const {
  LINTEL_ASSIGN_OR_RETURN(auto w, NewWriter());
  LINTEL_RETURN_IF_ERROR(w->Write(content));
  return w->Commit(expected);
}

Result<Digest> BlobStore::PutFile(const std::string& path, const std::optional<Digest>& expected,
                                  bool move) const {
  if (move) {
    LINTEL_ASSIGN_OR_RETURN(Digest got, Sha256OfFile(path));
    if (expected) {
      LINTEL_RETURN_IF_ERROR(CheckDigest("blob " + path, *expected, got));
    }
    if (Has(got)) return got;
    if (sync_) {
      int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
      if (fd >= 0) {
        ::fsync(fd);
        ::close(fd);
      }
    }
    if (::rename(path.c_str(), Path(got).c_str()) == 0) {
      if (sync_) {
        LINTEL_RETURN_IF_ERROR(SyncDir(root_ + "/blobs/sha256"));
      }
      return got;
    }
    if (errno != EXDEV) return ErrnoStatus("rename", path, errno);
  }
  LINTEL_ASSIGN_OR_RETURN(auto w, NewWriter());
  LINTEL_RETURN_IF_ERROR(ReadChunks(path, [&](std::string_view data) { return w->Write(data); }));
  auto committed = w->Commit(expected);
  if (!committed.ok()) return committed.error().Wrap(path);
  return committed;
}

Status BlobStore::Remove(const Digest& d) const {
  std::string p = Path(d);
  if (::unlink(p.c_str()) != 0 && errno != ENOENT) return ErrnoStatus("remove", p, errno);
  return Status();
}

Result<std::vector<Digest>> BlobStore::List() const {
  std::string dir = root_ + "/blobs/sha256";
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
