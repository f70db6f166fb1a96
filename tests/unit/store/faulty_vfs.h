// FaultyVfs: an SQLite VFS for tests that forwards to the default VFS and can
// fail writes with SQLITE_FULL (a full disk) or hold WAL syncs until released
// (a slow disk, a writer caught mid-commit). Open a store with
// Options::vfs = FaultyVfs::kName. Process-wide; thread-safe.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>

namespace lintel::store::testing {

class FaultyVfs {
 public:
  static constexpr const char* kName = "lintel-faulty";

  // Registers the VFS on first use.
  static FaultyVfs& Get();

  // While set, every write to any file fails with SQLITE_FULL.
  void SetFailWrites(bool fail);
  // While set, syncs of WAL files block until cleared.
  void SetHoldSyncs(bool hold);
  // Waits until at least one sync is being held; false after `timeout`.
  bool WaitForHeldSync(std::chrono::milliseconds timeout);
  // Clears every fault and the counter (call at the end of a test).
  void Reset();
  // Write calls that reached WAL files since the last Reset.
  int WalWrites();

  // Used by the VFS shim.
  bool FailWrites();
  void MaybeHoldSync();
  void CountWalWrite();

 private:
  FaultyVfs() = default;

  std::mutex mu_;
  std::condition_variable cv_;
  bool fail_writes_ = false;
  bool hold_syncs_ = false;
  int held_ = 0;
  int wal_writes_ = 0;
};

}  // namespace lintel::store::testing
