// A VM's serial console log: QEMU appends everything the guest prints to
// console.log (the chardev's logfile, opened O_APPEND), whether or not anyone
// is attached. The driver rotates it at a size limit by copying it to
// console.log.1 and truncating it in place; QEMU's appends then start again at
// offset 0. Bytes written between the copy and the truncation are lost (a
// few, at most, at that instant).
//
// Readers take whole lines (a trailing \r dropped), the rotated file first.
// Any thread; functions block on file I/O.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "common/status.h"
#include "drivers/driver.h"

namespace lintel::drivers::qemu {

// Copies `path` to `path`.1 and truncates `path` once it exceeds `max_bytes`.
// Returns whether it rotated.
Result<bool> RotateConsoleLog(const std::string& path, int64_t max_bytes);

// Hands the lines of `path`.1 then `path` to `sink` (the last `tail_lines`
// if >= 0); a final line without its newline too unless `whole_lines` (a
// follow reads it then). Returns the offset in `path` after what was handed.
Result<int64_t> ReadConsoleLog(const std::string& path, int64_t tail_lines, const LogSink& sink,
                               bool whole_lines = false);

// Keeps handing new lines of `path` from `offset` until `done` says so or the
// sink returns false; a truncated file (rotation) is read again from its
// start. Polls every 100 ms.
Status FollowConsoleLog(const std::string& path, int64_t offset, const LogSink& sink,
                        const std::function<bool()>& done);

}  // namespace lintel::drivers::qemu
