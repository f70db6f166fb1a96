// Checkpointer: copies the WAL back into the database file on a thread and
// connection of its own, so that no commit waits for a checkpoint's page copy
// and database fsync (with SQLite's inline autocheckpoint, the commit that
// crosses the threshold pays for it: tens of milliseconds at p99).
//
// The writer's connection runs with wal_autocheckpoint=0 and reports the WAL's
// size after each commit (OnCommit, from SQLite's wal hook). Past
// `threshold_pages` the checkpointer wakes and runs a PASSIVE checkpoint, which
// never blocks the writer or readers: frames a reader still needs are copied
// by a later round. SQLite restarts the WAL from its beginning at the first
// commit after a complete checkpoint, so the file stops growing.
//
// Threading: OnCommit from the writer thread (never blocks); Run on its own
// thread; Start/Close from the store's owner.
#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>

#include "common/thread_annotations.h"
#include "store/sqlite/connection.h"

namespace lintel::store::sqlite {

class Checkpointer {
 public:
  Checkpointer(std::unique_ptr<Connection> conn, int threshold_pages);
  ~Checkpointer();  // Close()s
  Checkpointer(const Checkpointer&) = delete;
  Checkpointer& operator=(const Checkpointer&) = delete;

  void Start();
  // Stops the thread and closes the connection. Idempotent.
  void Close();
  // The WAL holds `wal_pages` pages after a commit.
  void OnCommit(int wal_pages);
  // Checkpoints done so far (for tests and metrics).
  uint64_t rounds() const;
  // WAL length at which the writer restarts the WAL itself (InstallWalHook).
  int restart_pages() const { return 4 * threshold_pages_; }

 private:
  void Run();

  std::unique_ptr<Connection> conn_;
  const int threshold_pages_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool wanted_ LINTEL_GUARDED_BY(mu_) = false;
  bool closing_ LINTEL_GUARDED_BY(mu_) = false;
  uint64_t rounds_ LINTEL_GUARDED_BY(mu_) = 0;
  std::thread thread_;
};

// Installs the wal hook on the writer's connection that feeds `cp` and turns
// SQLite's inline autocheckpoint off. Past cp->restart_pages() the hook
// restarts the WAL on the writer's connection (a passive checkpoint never
// completes while writes and reads keep coming). `cp` must outlive the hook (Close the
// writer's connection first, or call again with nullptr).
void InstallWalHook(Connection& writer, Checkpointer* cp);

}  // namespace lintel::store::sqlite
