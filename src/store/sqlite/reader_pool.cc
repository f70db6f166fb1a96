#include "store/sqlite/reader_pool.h"

#include <utility>

#include "store/sqlite/schema.h"

namespace lintel::store::sqlite {

ReaderPool::ReaderPool(std::string path, std::string vfs, size_t max_connections, size_t cache_kib)
    : path_(std::move(path)),
      vfs_(std::move(vfs)),
      max_connections_(max_connections == 0 ? 1 : max_connections),
      cache_kib_(cache_kib) {}

ReaderPool::~ReaderPool() { Close(); }

Result<ReaderPool::Lease> ReaderPool::Acquire() {
  std::unique_lock<std::mutex> l(mu_);
  cv_.wait(l, [&] { return closed_ || !idle_.empty() || open_ < max_connections_; });
  if (closed_) {
    return Unavailable("store closing");
  }
  if (!idle_.empty()) {
    std::unique_ptr<Connection> conn = std::move(idle_.back());
    idle_.pop_back();
    return Lease(this, std::move(conn));
  }
  ++open_;  // reserve the slot, open without the lock
  l.unlock();
  Result<std::unique_ptr<Connection>> conn = Connection::Open(path_, /*create=*/false, vfs_);
  Status s = conn.status();
  if (s.ok()) {
    s = ConfigureReader(**conn, cache_kib_);
  }
  if (!s.ok()) {
    l.lock();
    --open_;
    cv_.notify_one();
    return s.Wrap("open reader");
  }
  return Lease(this, std::move(*conn));
}

void ReaderPool::Release(std::unique_ptr<Connection> conn) {
  std::lock_guard<std::mutex> l(mu_);
  if (closed_) {
    conn.reset();
    --open_;
  } else {
    idle_.push_back(std::move(conn));
  }
  cv_.notify_all();
}

void ReaderPool::Close() {
  std::unique_lock<std::mutex> l(mu_);
  closed_ = true;
  open_ -= idle_.size();
  idle_.clear();
  cv_.notify_all();
  cv_.wait(l, [&] { return open_ == 0; });
}

}  // namespace lintel::store::sqlite
