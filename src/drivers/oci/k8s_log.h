// Container logs in conmon's k8s-file format (the CRI log format):
//
//   2026-11-28T06:43:35.983397690+00:00 stdout F hello
//   <RFC 3339 nano time>                <stream> <P partial | F full> <text>
//
// A line longer than conmon's buffer arrives as P records closed by an F one;
// readers join them. One run of a container writes N.log (N: its restart
// count); at the size limit the driver renames N.log to N.log.1 and tells
// conmon to reopen (one rotated file kept). The previous run's files stay
// until the run after next.
//
// Parsing is pure; the readers block on file I/O (follow: until told to stop).
// Any thread.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "drivers/driver.h"

namespace lintel::drivers::oci {

struct K8sRecord {
  Clock::WallTime time{};
  std::string stream;
  bool partial = false;
  std::string text;  // without the newline
};

// nullopt when the line is not a k8s-file record.
std::optional<K8sRecord> ParseK8sRecord(std::string_view line);

// Joins partial records into whole lines.
class LineAssembler {
 public:
  // Returns a complete line once `r` ends one.
  std::optional<LogLine> Add(K8sRecord&& r);

 private:
  std::optional<LogLine> pending_;
};

// Where a reader stopped: the file (by inode) and the offset after its last
// whole line.
struct LogPosition {
  uint64_t offset = 0;
  uint64_t dev = 0;
  uint64_t ino = 0;  // 0: no file was read
};

// Reads `paths` in order (the rotated file first) and hands each whole line
// to `sink`, at most the last `tail_lines` if >= 0. Missing files are skipped.
// Returns where it stopped in the last file.
Result<LogPosition> ReadLogs(const std::vector<std::string>& paths, int64_t tail_lines,
                             const LogSink& sink);

// Continues reading `path` from `from` as it grows, following rotations (the
// file renamed to RotatedPath and a new one created: the rest of the old one
// is read first), until `done()` is true and nothing more is there, or the
// sink returns false. Polls every `poll`.
Status FollowLog(const std::string& path, const LogPosition& from, const LogSink& sink,
                 const std::function<bool()>& done,
                 std::chrono::milliseconds poll = std::chrono::milliseconds(100));

// The log of one run, and its rotated part.
std::string RunLogPath(const std::string& dir, int run);
std::string RotatedPath(const std::string& log_path);

}  // namespace lintel::drivers::oci
