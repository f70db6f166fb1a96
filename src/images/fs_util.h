// Filesystem helpers of the image store: advisory locks, tree removal and
// size, directory fsync, unique temporary names, and errno → Status with the
// one phrase operators search for ("no space left on device").
//
// Functions are thread-safe; a FileLock belongs to one thread at a time.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "common/status.h"

namespace lintel::images {

// An flock(2) on a file, held until destroyed. Locks taken through separate
// FileLock objects exclude each other even within one process.
class FileLock {
 public:
  enum class Mode { kShared, kExclusive };
  // Blocks until the lock is granted. Creates the file if needed.
  static Result<FileLock> Acquire(const std::string& path, Mode mode);
  FileLock(FileLock&& other) noexcept;
  FileLock& operator=(FileLock&& other) noexcept;
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;
  ~FileLock();

 private:
  explicit FileLock(int fd) : fd_(fd) {}
  int fd_ = -1;
};

// Status for a failed system call: "<what> <path>: <strerror>". ENOSPC and
// EDQUOT keep their plain wording and come back Unavailable (retryable: space
// may be freed); ENOENT is NotFound; the rest Internal.
Status ErrnoStatus(std::string_view what, const std::string& path, int err);

// Reads a file in chunks of up to 128 KiB, handing each to `fn`; stops at
// fn's first error and returns it.
Status ReadChunks(const std::string& path, const std::function<Status(std::string_view)>& fn);

// rm -rf that never follows symlinks and first makes directories writable
// (a layer may hold 0555 directories). OK if `path` does not exist.
Status RemoveTree(const std::string& path);

// Bytes of regular files under `path` (each inode once), not following symlinks.
int64_t TreeSize(const std::string& path);

// fsync of a directory, so a rename or create in it is durable.
Status SyncDir(const std::string& path);

// "<pid>-<counter>-<random>": unique across threads and processes.
std::string UniqueSuffix();

// Human size as docker prints it: "4.2MB", "800kB", "12B".
std::string HumanSize(int64_t bytes);

}  // namespace lintel::images
