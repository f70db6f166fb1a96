#include "store/sqlite/sqlite_store.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <string>
#include <system_error>
#include <utility>

#include "store/sqlite/checkpointer.h"
#include "store/sqlite/coalescing_vfs.h"
#include "store/sqlite/connection.h"
#include "store/sqlite/lease_table.h"
#include "store/sqlite/reader_pool.h"
#include "store/sqlite/reads.h"
#include "store/sqlite/schema.h"
#include "store/sqlite/watch_hub.h"
#include "store/sqlite/writer.h"

namespace lintel::store::sqlite {
namespace {

Status ClosedError() { return Unavailable("store closing"); }

// strerror is not thread-safe; the generic category's message is.
std::string ErrnoText(int err) { return std::generic_category().message(err); }

Status CheckKey(std::string_view key) {
  if (key.empty()) {
    return BadRequest("empty key");
  }
  return Status::Ok();
}

// Takes an exclusive flock on `lock_path`: one process (one store) per database,
// since the writer keeps the revision and lease ids in memory.
Result<int> LockFile(const std::string& lock_path, const std::string& db_path) {
  int fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) {
    return Unavailable("open store " + db_path + ": open " + lock_path + ": " + ErrnoText(errno));
  }
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    int err = errno;
    ::close(fd);
    if (err == EWOULDBLOCK) {
      return Unavailable("open store " + db_path + ": in use by another store (" + lock_path +
                         " is locked)");
    }
    return Unavailable("open store " + db_path + ": lock " + lock_path + ": " + ErrnoText(err));
  }
  return fd;
}

}  // namespace

Result<std::unique_ptr<SqliteStore>> SqliteStore::Open(Options options) {
  if (options.path.empty()) {
    return BadRequest("open store: empty path");
  }
  if (options.clock == nullptr) {
    options.clock = &Clock::Real();
  }
  options.max_batch = std::max<size_t>(options.max_batch, 1);
  options.max_readers = std::max<size_t>(options.max_readers, 1);
  struct stat st {};
  if (::stat(options.path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
    return Unavailable("open store " + options.path + ": is a directory");
  }
  LINTEL_ASSIGN_OR_RETURN(int lock_fd, LockFile(options.path + ".lock", options.path));
  // From here on the store's destructor cleans up whatever has been set up.
  std::unique_ptr<SqliteStore> store(new SqliteStore(std::move(options), lock_fd));
  const Options& o = store->options_;
  const std::string context = "open store " + o.path;

  size_t cache_kib = std::max<size_t>(o.cache_bytes / 1024, 512);
  size_t writer_kib = cache_kib / 2;
  size_t reader_kib = std::max<size_t>((cache_kib - writer_kib) / o.max_readers, 128);

  // With a WAL sync at every commit, the writer's WAL writes can be coalesced
  // (coalescing_vfs.h); readers never write the WAL.
  std::string writer_vfs = o.vfs;
  if (o.sync == Options::Sync::kFull) {
    Result<std::string> coalescing = RegisterCoalescingVfs(o.vfs);
    if (!coalescing.ok()) {
      return coalescing.error().Wrap(context);
    }
    writer_vfs = *coalescing;
  }
  Result<std::unique_ptr<Connection>> conn = Connection::Open(o.path, /*create=*/true, writer_vfs);
  if (!conn.ok()) {
    return conn.error().Wrap(context);
  }
  Status s = ConfigureWriter(**conn, o.sync == Options::Sync::kFull, writer_kib);
  if (s.ok()) {
    s = EnsureSchema(**conn);
  }
  if (!s.ok()) {
    return s.Wrap(context);
  }
  Result<StoredState> state = LoadState(**conn);
  if (!state.ok()) {
    return state.error().Wrap(context);
  }

  store->leases_ = std::make_unique<LeaseTable>(*o.clock);
  // Deadlines are not persisted: every lease restarts its full TTL now.
  for (const auto& lease : state->leases) {
    store->leases_->Add(lease.id, lease.ttl);
  }

  store->readers_ = std::make_unique<ReaderPool>(o.path, o.vfs, o.max_readers, reader_kib);
  {
    // Fail now rather than at the first read if readers cannot open.
    Result<ReaderPool::Lease> reader = store->readers_->Acquire();
    if (!reader.ok()) {
      return reader.error().Wrap(context);
    }
  }
  store->hub_ = std::make_shared<WatchHub>(*store->readers_, o.watch_buffer_limit, state->revision,
                                           state->compacted);
  store->hub_->Start();
  // Checkpoints run beside the writer (checkpointer.h).
  Result<std::unique_ptr<Connection>> cp_conn = Connection::Open(o.path, /*create=*/false, o.vfs);
  if (!cp_conn.ok()) {
    return cp_conn.error().Wrap(context);
  }
  store->checkpointer_ = std::make_unique<Checkpointer>(std::move(*cp_conn), o.checkpoint_pages);
  store->checkpointer_->Start();
  InstallWalHook(**conn, store->checkpointer_.get());
  Writer::Config config;
  config.max_batch = o.max_batch;
  config.lease_sweep_interval = o.lease_sweep_interval;
  store->writer_ =
      std::make_unique<Writer>(std::move(*conn), *state, config, *store->leases_, *store->hub_);
  store->writer_->Start();
  return store;
}

SqliteStore::SqliteStore(Options options, int lock_fd)
    : options_(std::move(options)), lock_fd_(lock_fd) {}

SqliteStore::~SqliteStore() { Close(); }

void SqliteStore::Close() {
  if (closed_.exchange(true)) {
    return;
  }
  // Writes first (their events go to the hub), then watches (the dispatcher
  // reads through the pool), then readers, then the writer's connection: the
  // last one to close checkpoints the WAL into the database file.
  if (writer_) {
    writer_->Close();
  }
  if (checkpointer_) {
    checkpointer_->Close();
  }
  if (hub_) {
    hub_->Close(ClosedError());
  }
  if (readers_) {
    readers_->Close();
  }
  if (writer_) {
    writer_->CloseDatabase();
  }
  if (lock_fd_ >= 0) {
    ::close(lock_fd_);
  }
  lock_fd_ = -1;
}

Stats SqliteStore::GetStats() const { return writer_ ? writer_->GetStats() : Stats{}; }

Result<Revision> SqliteStore::Create(std::string_view key, std::string_view value, LeaseId lease) {
  LINTEL_RETURN_IF_ERROR(CheckKey(key));
  WriteOp op(WriteOp::Kind::kCreate);
  op.key = key;
  op.value = value;
  op.lease = lease;
  writer_->Submit(op);
  if (!op.status.ok()) {
    return op.status;
  }
  return op.revision;
}

Result<Revision> SqliteStore::Update(std::string_view key, std::string_view value,
                                     Revision expected, LeaseId lease) {
  LINTEL_RETURN_IF_ERROR(CheckKey(key));
  WriteOp op(WriteOp::Kind::kUpdate);
  op.key = key;
  op.value = value;
  op.expected = expected;
  op.lease = lease;
  writer_->Submit(op);
  if (!op.status.ok()) {
    return op.status;
  }
  return op.revision;
}

Result<Revision> SqliteStore::Delete(std::string_view key, Revision expected) {
  LINTEL_RETURN_IF_ERROR(CheckKey(key));
  WriteOp op(WriteOp::Kind::kDelete);
  op.key = key;
  op.expected = expected;
  writer_->Submit(op);
  if (!op.status.ok()) {
    return op.status;
  }
  return op.revision;
}

Result<KeyValue> SqliteStore::Get(std::string_view key) {
  LINTEL_RETURN_IF_ERROR(CheckKey(key));
  if (closed_.load()) {
    return ClosedError();
  }
  LINTEL_ASSIGN_OR_RETURN(ReaderPool::Lease conn, readers_->Acquire());
  LINTEL_ASSIGN_OR_RETURN(std::optional<KeyValue> kv, ReadCurrent(*conn, key));
  if (!kv) {
    return NotFound("key \"" + std::string(key) + "\" not found");
  }
  return std::move(*kv);
}

Result<ListResult> SqliteStore::List(std::string_view prefix, const ListOptions& options) {
  if (closed_.load()) {
    return ClosedError();
  }
  LINTEL_ASSIGN_OR_RETURN(ReaderPool::Lease conn, readers_->Acquire());
  return ReadList(*conn, prefix, options);
}

Result<Revision> SqliteStore::CurrentRevision() {
  if (closed_.load()) {
    return ClosedError();
  }
  return writer_->CommittedRevision();
}

Result<std::unique_ptr<Watch>> SqliteStore::WatchPrefix(std::string_view prefix, Revision after,
                                                        WatchCallbacks callbacks) {
  if (closed_.load()) {
    return ClosedError();
  }
  return hub_->Add(prefix, after, std::move(callbacks));
}

Status SqliteStore::Compact(Revision revision) {
  if (revision < 0) {
    return BadRequest("compact revision " + std::to_string(revision) + " is negative");
  }
  if (closed_.load()) {
    return ClosedError();
  }
  if (revision <= writer_->CompactedRevision()) {
    return Status::Ok();
  }
  WriteOp op(WriteOp::Kind::kCompact);
  op.expected = revision;
  writer_->Submit(op);
  return op.status;
}

Result<Revision> SqliteStore::CompactedRevision() {
  if (closed_.load()) {
    return ClosedError();
  }
  return writer_->CompactedRevision();
}

Result<LeaseId> SqliteStore::GrantLease(std::chrono::milliseconds ttl) {
  if (ttl.count() <= 0) {
    return BadRequest("lease ttl " + std::to_string(ttl.count()) + "ms is not positive");
  }
  WriteOp op(WriteOp::Kind::kGrant);
  op.ttl = ttl;
  writer_->Submit(op);
  if (!op.status.ok()) {
    return op.status;
  }
  return op.granted;
}

Status SqliteStore::KeepAlive(LeaseId lease) {
  if (closed_.load()) {
    return ClosedError();
  }
  return leases_->KeepAlive(lease);
}

Status SqliteStore::RevokeLease(LeaseId lease) {
  WriteOp op(WriteOp::Kind::kRevoke);
  op.lease = lease;
  writer_->Submit(op);
  return op.status;
}

}  // namespace lintel::store::sqlite
