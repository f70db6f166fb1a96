#include "store/sqlite/checkpointer.h"

#include <sqlite3.h>
#include <spdlog/spdlog.h>

namespace lintel::store::sqlite {

Checkpointer::Checkpointer(std::unique_ptr<Connection> conn, int threshold_pages)
    : conn_(std::move(conn)), threshold_pages_(threshold_pages) {}

Checkpointer::~Checkpointer() { Close(); }

void Checkpointer::Start() { thread_ = std::thread([this] { Run(); }); }

void Checkpointer::Close() {
  {
    std::lock_guard<std::mutex> l(mu_);
    closing_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  conn_.reset();
}

void Checkpointer::OnCommit(int wal_pages) {
  if (wal_pages < threshold_pages_) return;
  {
    std::lock_guard<std::mutex> l(mu_);
    if (wanted_) return;
    wanted_ = true;
  }
  cv_.notify_one();
}

uint64_t Checkpointer::rounds() const {
  std::lock_guard<std::mutex> l(mu_);
  return rounds_;
}

void Checkpointer::Run() {
  for (;;) {
    {
      std::unique_lock<std::mutex> l(mu_);
      cv_.wait(l, [this] { return wanted_ || closing_; });
      if (closing_) return;
    }
    // A connection that has not read the database yet does not know it is in
    // WAL mode, and its checkpoint is then a silent no-op: read the header.
    (void)conn_->ExecText("PRAGMA schema_version", "read the schema version");
    int log_frames = 0;
    int copied = 0;
    int rc = sqlite3_wal_checkpoint_v2(conn_->Handle(), nullptr, SQLITE_CHECKPOINT_PASSIVE,
                                       &log_frames, &copied);
    if (rc != SQLITE_OK && rc != SQLITE_BUSY) {
      spdlog::warn("sqlite: checkpoint of {}: {}", conn_->Path(), sqlite3_errmsg(conn_->Handle()));
    }
    std::lock_guard<std::mutex> l(mu_);
    ++rounds_;
    // The writer asks again at its next commit if the WAL is still long.
    wanted_ = false;
  }
}

namespace {

int WalHook(void* arg, sqlite3* db, const char*, int pages) {
  auto* cp = static_cast<Checkpointer*>(arg);
  cp->OnCommit(pages);
  // Under steady writes and reads a passive round seldom leaves nothing behind
  // (some reader always holds a recent snapshot), so SQLite never restarts the
  // WAL and it grows by every byte written. Past four thresholds the writer
  // restarts it itself, between two commits: it waits for the frames the
  // checkpointer has not copied yet and for the reads of the moment. (From the
  // checkpointer's thread a restart would first have to win the write lock
  // from a writer that is hardly ever idle.)
  if (pages >= cp->restart_pages()) {
    int rc = sqlite3_wal_checkpoint_v2(db, nullptr, SQLITE_CHECKPOINT_RESTART, nullptr, nullptr);
    if (rc != SQLITE_OK && rc != SQLITE_BUSY) {
      spdlog::warn("sqlite: WAL restart: {}", sqlite3_errmsg(db));
    }
  }
  return SQLITE_OK;
}

}  // namespace

void InstallWalHook(Connection& writer, Checkpointer* cp) {
  if (cp == nullptr) {
    sqlite3_wal_hook(writer.Handle(), nullptr, nullptr);
    return;
  }
  // sqlite3_wal_hook replaces the autocheckpoint hook: the checkpointer owns
  // checkpoints from now on.
  sqlite3_wal_hook(writer.Handle(), &WalHook, cp);
}

}  // namespace lintel::store::sqlite
