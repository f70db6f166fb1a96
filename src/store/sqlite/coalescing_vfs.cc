#include "store/sqlite/coalescing_vfs.h"

#include <sqlite3.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>

namespace lintel::store::sqlite {
namespace {

// The unix VFS writes at most 0x1ffff bytes per call.
constexpr size_t kMaxWrite = 0x1ffff;
// Flush early past this, to bound memory in a huge transaction.
constexpr size_t kMaxBuffered = size_t{4} << 20;

// SQLite allocates szOsFile bytes per open file: this header, then the base
// VFS's file.
struct File {
  sqlite3_file base;
  sqlite3_file* real;
  std::string* buffer;      // WAL files only: bytes not yet written
  sqlite3_int64 buffer_at;  // the file offset of buffer[0]
};

File* AsFile(sqlite3_file* f) { return reinterpret_cast<File*>(f); }
sqlite3_file* Real(sqlite3_file* f) { return AsFile(f)->real; }
const sqlite3_io_methods* RealMethods(sqlite3_file* f) { return Real(f)->pMethods; }

int Flush(sqlite3_file* p) {
  File* f = AsFile(p);
  if (f->buffer == nullptr || f->buffer->empty()) {
    return SQLITE_OK;
  }
  int rc = SQLITE_OK;
  for (size_t done = 0; done < f->buffer->size() && rc == SQLITE_OK;) {
    size_t n = std::min(f->buffer->size() - done, kMaxWrite);
    rc = RealMethods(p)->xWrite(f->real, f->buffer->data() + done, static_cast<int>(n),
                                f->buffer_at + static_cast<sqlite3_int64>(done));
    done += n;
  }
  // On failure the bytes are dropped: SQLite fails the commit and rewrites
  // those frames in a later transaction.
  f->buffer->clear();
  return rc;
}

int Close(sqlite3_file* p) {
  File* f = AsFile(p);
  int rc = Flush(p);
  delete f->buffer;
  f->buffer = nullptr;
  int close_rc = RealMethods(p)->xClose(f->real);
  p->pMethods = nullptr;
  return rc != SQLITE_OK ? rc : close_rc;
}

int Read(sqlite3_file* p, void* out, int n, sqlite3_int64 offset) {
  int rc = Flush(p);
  return rc != SQLITE_OK ? rc : RealMethods(p)->xRead(Real(p), out, n, offset);
}

int Write(sqlite3_file* p, const void* data, int n, sqlite3_int64 offset) {
  File* f = AsFile(p);
  if (f->buffer == nullptr) {
    return RealMethods(p)->xWrite(f->real, data, n, offset);
  }
  auto end = f->buffer_at + static_cast<sqlite3_int64>(f->buffer->size());
  if (!f->buffer->empty() && offset != end) {
    int rc = Flush(p);
    if (rc != SQLITE_OK) {
      return rc;
    }
  }
  if (f->buffer->empty()) {
    f->buffer_at = offset;
  }
  f->buffer->append(static_cast<const char*>(data), static_cast<size_t>(n));
  return f->buffer->size() > kMaxBuffered ? Flush(p) : SQLITE_OK;
}

int Truncate(sqlite3_file* p, sqlite3_int64 size) {
  int rc = Flush(p);
  return rc != SQLITE_OK ? rc : RealMethods(p)->xTruncate(Real(p), size);
}

int Sync(sqlite3_file* p, int flags) {
  int rc = Flush(p);
  return rc != SQLITE_OK ? rc : RealMethods(p)->xSync(Real(p), flags);
}

int FileSize(sqlite3_file* p, sqlite3_int64* size) {
  int rc = Flush(p);
  return rc != SQLITE_OK ? rc : RealMethods(p)->xFileSize(Real(p), size);
}

int FileControl(sqlite3_file* p, int op, void* arg) {
  // A size hint only preallocates; anything else might look at the file.
  if (op != SQLITE_FCNTL_SIZE_HINT) {
    int rc = Flush(p);
    if (rc != SQLITE_OK) {
      return rc;
    }
  }
  return RealMethods(p)->xFileControl(Real(p), op, arg);
}

int Lock(sqlite3_file* p, int level) { return RealMethods(p)->xLock(Real(p), level); }
int Unlock(sqlite3_file* p, int level) { return RealMethods(p)->xUnlock(Real(p), level); }
int CheckReservedLock(sqlite3_file* p, int* out) {
  return RealMethods(p)->xCheckReservedLock(Real(p), out);
}
int SectorSize(sqlite3_file* p) { return RealMethods(p)->xSectorSize(Real(p)); }
int DeviceCharacteristics(sqlite3_file* p) {
  return RealMethods(p)->xDeviceCharacteristics(Real(p));
}
int ShmMap(sqlite3_file* p, int region, int size, int extend, void volatile** out) {
  return RealMethods(p)->xShmMap(Real(p), region, size, extend, out);
}
int ShmLock(sqlite3_file* p, int offset, int n, int flags) {
  return RealMethods(p)->xShmLock(Real(p), offset, n, flags);
}
void ShmBarrier(sqlite3_file* p) { RealMethods(p)->xShmBarrier(Real(p)); }
int ShmUnmap(sqlite3_file* p, int del) { return RealMethods(p)->xShmUnmap(Real(p), del); }
int Fetch(sqlite3_file* p, sqlite3_int64 offset, int n, void** out) {
  int rc = Flush(p);
  return rc != SQLITE_OK ? rc : RealMethods(p)->xFetch(Real(p), offset, n, out);
}
int Unfetch(sqlite3_file* p, sqlite3_int64 offset, void* page) {
  return RealMethods(p)->xUnfetch(Real(p), offset, page);
}

constexpr sqlite3_io_methods kMethods = {
    3,
    Close,
    Read,
    Write,
    Truncate,
    Sync,
    FileSize,
    Lock,
    Unlock,
    CheckReservedLock,
    FileControl,
    SectorSize,
    DeviceCharacteristics,
    ShmMap,
    ShmLock,
    ShmBarrier,
    ShmUnmap,
    Fetch,
    Unfetch,
};

// The shim keeps the base VFS in pAppData.
sqlite3_vfs* Base(sqlite3_vfs* vfs) { return static_cast<sqlite3_vfs*>(vfs->pAppData); }

int Open(sqlite3_vfs* vfs, const char* name, sqlite3_file* file, int flags, int* out_flags) {
  sqlite3_vfs* base = Base(vfs);
  File* f = AsFile(file);
  f->base.pMethods = nullptr;  // SQLite skips xClose if xOpen fails
  f->real = reinterpret_cast<sqlite3_file*>(f + 1);
  f->buffer = nullptr;
  f->buffer_at = 0;
  int rc = base->xOpen(base, name, f->real, flags, out_flags);
  if (rc != SQLITE_OK || f->real->pMethods == nullptr) {
    return rc;
  }
  // The base VFS's methods must be at least as new as ours (version 3).
  if (f->real->pMethods->iVersion < 3) {
    f->real->pMethods->xClose(f->real);
    return SQLITE_CANTOPEN;
  }
  if ((flags & SQLITE_OPEN_WAL) != 0) {
    f->buffer = new (std::nothrow) std::string();
    if (f->buffer == nullptr) {
      f->real->pMethods->xClose(f->real);
      return SQLITE_NOMEM;
    }
  }
  f->base.pMethods = &kMethods;
  return SQLITE_OK;
}

// The rest of the VFS forwards to the base with the base's own sqlite3_vfs.
int Delete(sqlite3_vfs* vfs, const char* name, int sync_dir) {
  return Base(vfs)->xDelete(Base(vfs), name, sync_dir);
}
int Access(sqlite3_vfs* vfs, const char* name, int flags, int* out) {
  return Base(vfs)->xAccess(Base(vfs), name, flags, out);
}
int FullPathname(sqlite3_vfs* vfs, const char* name, int n, char* out) {
  return Base(vfs)->xFullPathname(Base(vfs), name, n, out);
}
void* DlOpen(sqlite3_vfs* vfs, const char* name) { return Base(vfs)->xDlOpen(Base(vfs), name); }
void DlError(sqlite3_vfs* vfs, int n, char* out) { Base(vfs)->xDlError(Base(vfs), n, out); }
void (*DlSym(sqlite3_vfs* vfs, void* lib, const char* sym))(void) {
  return Base(vfs)->xDlSym(Base(vfs), lib, sym);
}
void DlClose(sqlite3_vfs* vfs, void* lib) { Base(vfs)->xDlClose(Base(vfs), lib); }
int Randomness(sqlite3_vfs* vfs, int n, char* out) {
  return Base(vfs)->xRandomness(Base(vfs), n, out);
}
int Sleep(sqlite3_vfs* vfs, int micros) { return Base(vfs)->xSleep(Base(vfs), micros); }
int CurrentTime(sqlite3_vfs* vfs, double* out) { return Base(vfs)->xCurrentTime(Base(vfs), out); }
int GetLastError(sqlite3_vfs* vfs, int n, char* out) {
  return Base(vfs)->xGetLastError(Base(vfs), n, out);
}
int CurrentTimeInt64(sqlite3_vfs* vfs, sqlite3_int64* out) {
  return Base(vfs)->xCurrentTimeInt64(Base(vfs), out);
}

// A registered shim. SQLite keeps pointers to `vfs` and `name` for the life
// of the process, so entries are never freed.
struct Registered {
  std::string name;
  sqlite3_vfs vfs;
};

std::mutex& RegistryMutex() {
  static auto* mu = new std::mutex();
  return *mu;
}

// Base VFS name -> its shim.
std::map<std::string, std::unique_ptr<Registered>>& Registry() {
  static auto* registry = new std::map<std::string, std::unique_ptr<Registered>>();
  return *registry;
}

}  // namespace

Result<std::string> RegisterCoalescingVfs(const std::string& base_name) {
  std::lock_guard<std::mutex> l(RegistryMutex());
  auto it = Registry().find(base_name);
  if (it != Registry().end()) {
    return it->second->name;
  }
  sqlite3_vfs* base = sqlite3_vfs_find(base_name.empty() ? nullptr : base_name.c_str());
  if (base == nullptr) {
    return NotFound("sqlite: no VFS named \"" + base_name + "\"");
  }
  auto entry = std::make_unique<Registered>();
  entry->name = "lintel-coalescing-" + std::string(base->zName);
  sqlite3_vfs* vfs = &entry->vfs;
  std::memcpy(vfs, base, sizeof(sqlite3_vfs));
  vfs->zName = entry->name.c_str();
  vfs->pNext = nullptr;
  vfs->pAppData = base;
  vfs->szOsFile = static_cast<int>(sizeof(File)) + base->szOsFile;
  vfs->xOpen = Open;
  vfs->xDelete = Delete;
  vfs->xAccess = Access;
  vfs->xFullPathname = FullPathname;
  vfs->xDlOpen = DlOpen;
  vfs->xDlError = DlError;
  vfs->xDlSym = DlSym;
  vfs->xDlClose = DlClose;
  vfs->xRandomness = Randomness;
  vfs->xSleep = Sleep;
  vfs->xCurrentTime = CurrentTime;
  vfs->xGetLastError = GetLastError;
  // Version 2 and 3 members: only if the base has them (the copy kept the
  // base's iVersion); the system-call hooks act on the base's globals as they are.
  if (base->iVersion >= 2 && base->xCurrentTimeInt64 != nullptr) {
    vfs->xCurrentTimeInt64 = CurrentTimeInt64;
  }
  int rc = sqlite3_vfs_register(vfs, /*makeDflt=*/0);
  if (rc != SQLITE_OK) {
    return Internal("sqlite: register VFS " + entry->name + ": " + sqlite3_errstr(rc));
  }
  std::string name = entry->name;
  Registry()[base_name] = std::move(entry);
  return name;
}

}  // namespace lintel::store::sqlite
