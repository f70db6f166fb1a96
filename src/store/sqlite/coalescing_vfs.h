// CoalescingVfs: an SQLite VFS shim that turns the WAL writes of one commit
// into a few large writes.
//
// SQLite writes each WAL frame with two pwrite calls (a 24-byte header, then
// the page). A group commit of 64 creates dirties about 100 pages, so about
// 200 system calls, which on a virtual machine are a large part of the
// writer's CPU. The shim buffers contiguous writes to WAL files and writes
// them out, in pieces below the unix VFS's 128 KiB limit per call, when SQLite
// syncs the WAL, reads it, asks its size, truncates it, closes it, issues a
// file control, or writes somewhere else in it.
//
// Safe only with synchronous=FULL: a commit then syncs the WAL before it
// becomes visible to any connection, and the flush happens inside that sync,
// so no reader and no recovery after a crash can tell the difference. With
// synchronous=NORMAL commits never sync, so SqliteStore does not use it then.
// Other files (the database, the journal) pass straight through.
//
// Thread-safety: Register may be called from any thread. Each file belongs to
// one connection, and SQLite never uses a connection from two threads at once.
#pragma once

#include <string>

#include "common/status.h"

namespace lintel::store::sqlite {

// Registers (once per `base`, for the life of the process) a coalescing VFS
// over the VFS named `base` (empty: the default VFS) and returns its name.
// NotFound if `base` is not registered.
Result<std::string> RegisterCoalescingVfs(const std::string& base);

}  // namespace lintel::store::sqlite
