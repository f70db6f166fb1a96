// ReaderPool: read connections for Get/List and watch replay, opened lazily up
// to a bound. Any thread may Acquire; a caller that finds every connection busy
// waits for one. Readers use WAL snapshots, so they never wait for the writer.
#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/status.h"
#include "common/thread_annotations.h"
#include "store/sqlite/connection.h"

namespace lintel::store::sqlite {

class ReaderPool {
 public:
  // A connection on loan; returns it to the pool when destroyed.
  class Lease {
   public:
    Lease(ReaderPool* pool, std::unique_ptr<Connection> conn)
        : pool_(pool), conn_(std::move(conn)) {}
    Lease(Lease&&) noexcept = default;
    Lease& operator=(Lease&&) = delete;
    ~Lease() {
      if (conn_) {
        pool_->Release(std::move(conn_));
      }
    }
    Connection& operator*() const { return *conn_; }
    Connection* operator->() const { return conn_.get(); }

   private:
    ReaderPool* pool_;
    std::unique_ptr<Connection> conn_;
  };

  ReaderPool(std::string path, std::string vfs, size_t max_connections, size_t cache_kib);
  ~ReaderPool();

  // A free connection, opening one if under the bound. Unavailable after Close
  // or if opening fails.
  Result<Lease> Acquire();
  // Fails later Acquires, waits for loans to come back and closes everything.
  void Close();

 private:
  void Release(std::unique_ptr<Connection> conn);

  const std::string path_;
  const std::string vfs_;
  const size_t max_connections_;
  const size_t cache_kib_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::unique_ptr<Connection>> idle_ LINTEL_GUARDED_BY(mu_);
  size_t open_ LINTEL_GUARDED_BY(mu_) = 0;  // idle plus on loan
  bool closed_ LINTEL_GUARDED_BY(mu_) = false;
};

}  // namespace lintel::store::sqlite
