#include "drivers/qemu/console_log.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <deque>
#include <thread>

#include "common/fs.h"
#include "drivers/oci/sys_util.h"

namespace lintel::drivers::qemu {

namespace {

LogLine Line(std::string text) {
  if (!text.empty() && text.back() == '\r') text.pop_back();
  LogLine l;
  l.stream = "stdout";
  l.text = std::move(text);
  return l;
}

// Reads `path` from `offset` to its end; missing files read as empty.
Result<std::string> ReadFrom(const std::string& path, int64_t offset) {
  oci::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) {
    if (errno == ENOENT) return std::string();
    return oci::SysError("open", path, errno);
  }
  std::string out;
  char buf[65536];
  off_t pos = offset;
  while (true) {
    ssize_t n = ::pread(fd.get(), buf, sizeof(buf), pos);
    if (n < 0) {
      if (errno == EINTR) continue;
      return oci::SysError("read", path, errno);
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
    pos += n;
  }
  return out;
}

int64_t SizeOf(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 ? st.st_size : -1;
}

// Each rotation renames a new `path`.1 into place: its inode tells that the
// current file was truncated even when it has grown past the old offset.
uint64_t RotationMark(const std::string& path) {
  struct stat st;
  return ::stat((path + ".1").c_str(), &st) == 0 ? static_cast<uint64_t>(st.st_ino) : 0;
}

}  // namespace

Result<bool> RotateConsoleLog(const std::string& path, int64_t max_bytes) {
  if (SizeOf(path) <= max_bytes) return false;
  LINTEL_ASSIGN_OR_RETURN(std::string content, ReadFrom(path, 0));
  LINTEL_RETURN_IF_ERROR(WriteFileAtomic(path + ".1", content, 0600));
  if (::truncate(path.c_str(), 0) != 0) return oci::SysError("truncate", path, errno);
  return true;
}

Result<int64_t> ReadConsoleLog(const std::string& path, int64_t tail_lines, const LogSink& sink,
                               bool whole_lines) {
  LINTEL_ASSIGN_OR_RETURN(std::string old, ReadFrom(path + ".1", 0));
  LINTEL_ASSIGN_OR_RETURN(std::string cur, ReadFrom(path, 0));
  if (whole_lines) {
    size_t nl = cur.rfind('\n');
    cur.resize(nl == std::string::npos ? 0 : nl + 1);
  }
  const int64_t offset = static_cast<int64_t>(cur.size());
  std::deque<std::string> lines;
  auto split = [&](const std::string& text) {
    size_t start = 0;
    for (size_t nl; (nl = text.find('\n', start)) != std::string::npos; start = nl + 1) {
      lines.push_back(text.substr(start, nl - start));
      if (tail_lines >= 0 && static_cast<int64_t>(lines.size()) > tail_lines) lines.pop_front();
    }
    if (start < text.size()) {
      lines.push_back(text.substr(start));
      if (tail_lines >= 0 && static_cast<int64_t>(lines.size()) > tail_lines) lines.pop_front();
    }
  };
  // A rotated file that ends mid-line continues in the current one.
  if (!old.empty() && old.back() != '\n' && !cur.empty()) {
    split(old + cur);
  } else {
    split(old);
    split(cur);
  }
  for (auto& l : lines) {
    if (!sink(Line(std::move(l)))) break;
  }
  return offset;
}

Status FollowConsoleLog(const std::string& path, int64_t offset, const LogSink& sink,
                        const std::function<bool()>& done) {
  std::string partial;
  uint64_t mark = RotationMark(path);
  while (true) {
    const bool finished = done();  // read once more after the end, then stop
    int64_t size = SizeOf(path);
    if (uint64_t now = RotationMark(path); now != mark) {
      // Rotated: the rest of what this reader had not seen is in .1 past
      // `offset`; the file starts again from zero.
      LINTEL_ASSIGN_OR_RETURN(std::string rest, ReadFrom(path + ".1", offset));
      partial += rest;
      mark = now;
      offset = 0;
      size = SizeOf(path);
    } else if (size >= 0 && size < offset) {
      offset = 0;  // truncated some other way
    }
    if (size > offset) {
      LINTEL_ASSIGN_OR_RETURN(std::string chunk, ReadFrom(path, offset));
      offset += static_cast<int64_t>(chunk.size());
      partial += chunk;
      size_t start = 0;
      for (size_t nl; (nl = partial.find('\n', start)) != std::string::npos; start = nl + 1) {
        if (!sink(Line(partial.substr(start, nl - start)))) return Status();
      }
      partial.erase(0, start);
    }
    if (finished) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  if (!partial.empty()) sink(Line(std::move(partial)));
  return Status();
}

}  // namespace lintel::drivers::qemu
