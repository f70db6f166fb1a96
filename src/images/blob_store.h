// BlobStore: content-addressed files under ROOT/blobs/sha256/<hex>.
//
// A blob is written to ROOT/tmp under a unique name while its digest is
// computed, fsynced, checked against the digest it should have, and only then
// renamed into place (and the directory fsynced). So a blob path that exists
// always holds exactly the content its name promises; a crash leaves at most
// a temporary file, which garbage collection removes.
//
// Thread-safe: writers use distinct temporary files, and renaming identical
// content over an existing blob is harmless.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "images/digest.h"

namespace lintel::images {

class BlobStore {
 public:
  // `root` is the store root; blobs/ and tmp/ must exist (ImageStore::Open).
  BlobStore(std::string root, bool sync) : root_(std::move(root)), sync_(sync) {}

  std::string Path(const Digest& d) const;
  bool Has(const Digest& d) const;
  // NotFound if absent.
  Result<int64_t> Size(const Digest& d) const;
  // Reads a small blob (a manifest or config) and checks its digest again, so
  // a blob damaged on disk is an error, not a wrong image. Invalid if larger
  // than `max_bytes`.
  Result<std::string> Read(const Digest& d, size_t max_bytes = 8u << 20) const;

  // Receives a blob in pieces. Destroying an uncommitted writer removes its
  // temporary file.
  class Writer {
   public:
    ~Writer();
    Writer(const Writer&) = delete;
    Writer& operator=(const Writer&) = delete;
    Status Write(std::string_view data);
    // Finishes the blob: fsync, digest check against `expected` (if given),
    // size check (if given), rename into place. Returns the digest.
    Result<Digest> Commit(const std::optional<Digest>& expected,
                          std::optional<int64_t> expected_size = std::nullopt);
    int64_t written() const { return written_; }

   private:
    friend class BlobStore;
    Writer(const BlobStore* store, std::string tmp, int fd)
        : store_(store), tmp_(std::move(tmp)), fd_(fd) {}
    const BlobStore* store_;
    std::string tmp_;
    int fd_;
    Sha256 hash_;
    int64_t written_ = 0;
  };
  Result<std::unique_ptr<Writer>> NewWriter() const;

  // Stores `content`, checked against `expected` if given.
  Result<Digest> Put(std::string_view content, const std::optional<Digest>& expected) const;
  // Stores the file at `path`, checked against `expected` if given. With
  // `move`, the file is renamed into place when it is on the same filesystem
  // (an import's extracted archive) instead of copied.
  Result<Digest> PutFile(const std::string& path, const std::optional<Digest>& expected,
                         bool move) const;

  // OK if already absent.
  Status Remove(const Digest& d) const;
  Result<std::vector<Digest>> List() const;

 private:
  Status Install(const std::string& tmp, const Digest& d) const;
  std::string root_;
  bool sync_;
};

}  // namespace lintel::images
