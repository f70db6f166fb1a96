#include "unit/store/faulty_vfs.h"

#include <sqlite3.h>

#include <cstring>
#include <string_view>

namespace lintel::store::testing {
namespace {

sqlite3_vfs* g_real = nullptr;

struct FaultyFile {
  sqlite3_file base;
  sqlite3_file* real;
  bool wal;
};

sqlite3_file* Real(sqlite3_file* f) { return reinterpret_cast<FaultyFile*>(f)->real; }

int Close(sqlite3_file* f) {
  sqlite3_file* real = Real(f);
  int rc = real->pMethods ? real->pMethods->xClose(real) : SQLITE_OK;
  f->pMethods = nullptr;
  return rc;
}
int Read(sqlite3_file* f, void* buf, int n, sqlite3_int64 off) {
  return Real(f)->pMethods->xRead(Real(f), buf, n, off);
}
int Write(sqlite3_file* f, const void* buf, int n, sqlite3_int64 off) {
  if (reinterpret_cast<FaultyFile*>(f)->wal) {
    FaultyVfs::Get().CountWalWrite();
  }
  if (FaultyVfs::Get().FailWrites()) {
    return SQLITE_FULL;
  }
  return Real(f)->pMethods->xWrite(Real(f), buf, n, off);
}
int Truncate(sqlite3_file* f, sqlite3_int64 size) {
  return Real(f)->pMethods->xTruncate(Real(f), size);
}
int Sync(sqlite3_file* f, int flags) {
  if (reinterpret_cast<FaultyFile*>(f)->wal) {
    FaultyVfs::Get().MaybeHoldSync();
  }
  return Real(f)->pMethods->xSync(Real(f), flags);
}
int FileSize(sqlite3_file* f, sqlite3_int64* size) {
  return Real(f)->pMethods->xFileSize(Real(f), size);
}
int Lock(sqlite3_file* f, int level) { return Real(f)->pMethods->xLock(Real(f), level); }
int Unlock(sqlite3_file* f, int level) { return Real(f)->pMethods->xUnlock(Real(f), level); }
int CheckReservedLock(sqlite3_file* f, int* out) {
  return Real(f)->pMethods->xCheckReservedLock(Real(f), out);
}
int FileControl(sqlite3_file* f, int op, void* arg) {
  return Real(f)->pMethods->xFileControl(Real(f), op, arg);
}
int SectorSize(sqlite3_file* f) { return Real(f)->pMethods->xSectorSize(Real(f)); }
int DeviceCharacteristics(sqlite3_file* f) {
  return Real(f)->pMethods->xDeviceCharacteristics(Real(f));
}
int ShmMap(sqlite3_file* f, int region, int size, int extend, void volatile** out) {
  return Real(f)->pMethods->xShmMap(Real(f), region, size, extend, out);
}
int ShmLock(sqlite3_file* f, int offset, int n, int flags) {
  return Real(f)->pMethods->xShmLock(Real(f), offset, n, flags);
}
void ShmBarrier(sqlite3_file* f) { Real(f)->pMethods->xShmBarrier(Real(f)); }
int ShmUnmap(sqlite3_file* f, int del) { return Real(f)->pMethods->xShmUnmap(Real(f), del); }
int Fetch(sqlite3_file* f, sqlite3_int64 off, int n, void** out) {
  return Real(f)->pMethods->xFetch(Real(f), off, n, out);
}
int Unfetch(sqlite3_file* f, sqlite3_int64 off, void* p) {
  return Real(f)->pMethods->xUnfetch(Real(f), off, p);
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

int Open(sqlite3_vfs* vfs, const char* name, sqlite3_file* file, int flags, int* out_flags) {
  auto* f = reinterpret_cast<FaultyFile*>(file);
  f->base.pMethods = nullptr;
  f->real = reinterpret_cast<sqlite3_file*>(f + 1);
  f->wal = (flags & SQLITE_OPEN_WAL) != 0;
  int rc = g_real->xOpen(g_real, name, f->real, flags, out_flags);
  if (rc == SQLITE_OK && f->real->pMethods != nullptr) {
    f->base.pMethods = &kMethods;
  }
  return rc;
}

sqlite3_vfs g_vfs;

}  // namespace

FaultyVfs& FaultyVfs::Get() {
  static FaultyVfs* const vfs = [] {
    g_real = sqlite3_vfs_find(nullptr);
    std::memcpy(&g_vfs, g_real, sizeof(g_vfs));
    g_vfs.zName = kName;
    g_vfs.pNext = nullptr;
    g_vfs.szOsFile = static_cast<int>(sizeof(FaultyFile)) + g_real->szOsFile;
    g_vfs.xOpen = Open;
    sqlite3_vfs_register(&g_vfs, /*makeDflt=*/0);
    return new FaultyVfs();
  }();
  return *vfs;
}

void FaultyVfs::SetFailWrites(bool fail) {
  std::lock_guard<std::mutex> l(mu_);
  fail_writes_ = fail;
}

void FaultyVfs::SetHoldSyncs(bool hold) {
  std::lock_guard<std::mutex> l(mu_);
  hold_syncs_ = hold;
  cv_.notify_all();
}

bool FaultyVfs::WaitForHeldSync(std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> l(mu_);
  return cv_.wait_for(l, timeout, [&] { return held_ > 0; });
}

void FaultyVfs::Reset() {
  std::lock_guard<std::mutex> l(mu_);
  wal_writes_ = 0;
  fail_writes_ = false;
  hold_syncs_ = false;
  cv_.notify_all();
}

int FaultyVfs::WalWrites() {
  std::lock_guard<std::mutex> l(mu_);
  return wal_writes_;
}

void FaultyVfs::CountWalWrite() {
  std::lock_guard<std::mutex> l(mu_);
  ++wal_writes_;
}

bool FaultyVfs::FailWrites() {
  std::lock_guard<std::mutex> l(mu_);
  return fail_writes_;
}

void FaultyVfs::MaybeHoldSync() {
  std::unique_lock<std::mutex> l(mu_);
  if (!hold_syncs_) {
    return;
  }
  ++held_;
  cv_.notify_all();
  cv_.wait(l, [&] { return !hold_syncs_; });
  --held_;
}

}  // namespace lintel::store::testing
