#include "drivers/oci/k8s_log.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <deque>
#include <thread>

#include "common/time_format.h"
#include "drivers/oci/sys_util.h"

namespace lintel::drivers::oci {

std::optional<K8sRecord> ParseK8sRecord(std::string_view line) {
  if (!line.empty() && line.back() == '\n') line.remove_suffix(1);
  size_t sp1 = line.find(' ');
  if (sp1 == std::string_view::npos) return std::nullopt;
  size_t sp2 = line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos) return std::nullopt;
  auto time = ParseRfc3339(line.substr(0, sp1));
  if (!time) return std::nullopt;
  K8sRecord r;
  r.time = *time;
  r.stream = std::string(line.substr(sp1 + 1, sp2 - sp1 - 1));
  std::string_view rest = line.substr(sp2 + 1);
  // The tag: "F" or "P", then a space before the text (an empty full line
  // may end right after the tag).
  if (rest.size() >= 1 && (rest[0] == 'F' || rest[0] == 'P') &&
      (rest.size() == 1 || rest[1] == ' ')) {
    r.partial = rest[0] == 'P';
    rest.remove_prefix(rest.size() == 1 ? 1 : 2);
  }
  r.text = std::string(rest);
  return r;
}

std::optional<LogLine> LineAssembler::Add(K8sRecord&& r) {
  if (!pending_) {
    pending_ = LogLine{r.time, r.stream, std::move(r.text)};
  } else {
    pending_->text += r.text;
  }
  if (r.partial) return std::nullopt;
  std::optional<LogLine> out = std::move(pending_);
  pending_.reset();
  return out;
}

std::string RunLogPath(const std::string& dir, int run) {
  return dir + "/" + std::to_string(run) + ".log";
}

std::string RotatedPath(const std::string& log_path) { return log_path + ".1"; }

namespace {

// Reads whole lines from a descriptor; keeps a trailing partial line (a write
// in progress) for the next call.
class LineReader {
 public:
  explicit LineReader(int fd) : fd_(fd) {}
  // Calls fn for each complete line available now; false from fn stops.
  // Returns false when fn did.
  template <typename Fn>
  Result<bool> Drain(Fn&& fn) {
    char buf[65536];
    for (;;) {
      ssize_t n = ::read(fd_, buf, sizeof(buf));
      if (n < 0) {
        if (errno == EINTR) continue;
        return SysError("read", "log", errno);
      }
      if (n == 0) return true;
      offset_ += static_cast<uint64_t>(n);
      carry_.append(buf, static_cast<size_t>(n));
      size_t start = 0;
      for (size_t nl; (nl = carry_.find('\n', start)) != std::string::npos; start = nl + 1) {
        if (!fn(std::string_view(carry_).substr(start, nl - start))) {
          carry_.erase(0, nl + 1);
          return false;
        }
      }
      carry_.erase(0, start);
    }
  }
  // Bytes consumed up to the last complete line.
  uint64_t LineOffset() const { return offset_ - carry_.size(); }

 private:
  int fd_;
  uint64_t offset_ = 0;
  std::string carry_;
};

}  // namespace

Result<LogPosition> ReadLogs(const std::vector<std::string>& paths, int64_t tail_lines,
                             const LogSink& sink) {
  LineAssembler assembler;
  std::deque<LogLine> tail;
  bool stopped = false;
  LogPosition pos;
  auto emit = [&](LogLine&& line) {
    if (tail_lines >= 0) {
      tail.push_back(std::move(line));
      if (static_cast<int64_t>(tail.size()) > tail_lines) tail.pop_front();
      return true;
    }
    return sink(line);
  };
  for (size_t i = 0; i < paths.size() && !stopped; ++i) {
    pos = LogPosition{};  // of the last file, where a follower goes on
    UniqueFd fd(::open(paths[i].c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd.valid()) {
      if (errno == ENOENT) continue;
      return SysError("open", paths[i], errno);
    }
    struct stat st = {};
    ::fstat(fd.get(), &st);
    LineReader reader(fd.get());
    auto r = reader.Drain([&](std::string_view raw) {
      auto rec = ParseK8sRecord(raw);
      if (!rec) return true;
      if (auto line = assembler.Add(std::move(*rec))) return emit(std::move(*line));
      return true;
    });
    if (!r.ok()) return r.error();
    stopped = !*r;
    pos = {reader.LineOffset(), static_cast<uint64_t>(st.st_dev), static_cast<uint64_t>(st.st_ino)};
  }
  for (auto& line : tail) {
    if (!sink(line)) break;
  }
  return pos;
}

Status FollowLog(const std::string& path, const LogPosition& from, const LogSink& sink,
                 const std::function<bool()>& done, std::chrono::milliseconds poll) {
  LineAssembler assembler;
  auto handle = [&](std::string_view raw) {
    auto rec = ParseK8sRecord(raw);
    if (!rec) return true;
    if (auto line = assembler.Add(std::move(*rec))) return sink(*line);
    return true;
  };
  UniqueFd fd;
  struct stat st_open = {};
  std::optional<LineReader> reader;
  auto open = [&](const std::string& p, uint64_t at) -> bool {
    fd.reset(::open(p.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd.valid()) return false;
    ::fstat(fd.get(), &st_open);
    if (at > 0) ::lseek(fd.get(), static_cast<off_t>(at), SEEK_SET);
    reader.emplace(fd.get());
    return true;
  };
  auto same = [&](const struct stat& st) {
    return from.ino != 0 && static_cast<uint64_t>(st.st_ino) == from.ino &&
           static_cast<uint64_t>(st.st_dev) == from.dev;
  };
  // Where the reader stopped: still the current file, or rotated away since.
  struct stat st = {};
  if (::stat(path.c_str(), &st) == 0 && same(st)) {
    open(path, from.offset);
  } else if (::stat(RotatedPath(path).c_str(), &st) == 0 && same(st)) {
    open(RotatedPath(path), from.offset);
  } else {
    open(path, 0);
  }
  for (;;) {
    // Checked before reading, so that the last lines written before the end
    // are read after it was seen.
    bool finished = done();
    if (reader) {
      auto r = reader->Drain(handle);
      if (!r.ok()) return r.error();
      if (!*r) return Status();
    }
    // Rotated (or created) meanwhile: the old file was drained; go on with the new one.
    if (::stat(path.c_str(), &st) == 0 &&
        (!fd.valid() || st.st_ino != st_open.st_ino || st.st_dev != st_open.st_dev)) {
      if (open(path, 0)) continue;
    }
    if (finished) return Status();
    std::this_thread::sleep_for(poll);
  }
}

}  // namespace lintel::drivers::oci
