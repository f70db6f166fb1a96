#include "images/vm_image_store.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <filesystem>
#include <map>
#include <set>
#include <utility>

#include "client/http_client.h"
#include "client/url.h"
#include "common/fs.h"
#include "common/json.h"
#include "common/time_format.h"
#include "images/digest.h"
#include "images/fs_util.h"
#include "images/qemu_img.h"
#include "images/ref_index.h"

namespace lintel::images {

namespace fs = std::filesystem;

namespace {

constexpr int64_t kMaxDownloadBytes = int64_t{64} << 30;
constexpr int kMaxRedirects = 5;
constexpr size_t kMaxNameLength = 128;

bool ValidName(std::string_view n) {
  if (n.empty() || n.size() > kMaxNameLength) return false;
  for (size_t i = 0; i < n.size(); ++i) {
    char c = n[i];
    bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    if (!alnum && (i == 0 || (c != '.' && c != '_' && c != '-'))) return false;
  }
  return true;
}

// "debian-12.qcow2" → "debian-12"; "/x/tiny/" → "tiny"; lower-cased.
std::string DefaultName(std::string path) {
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  std::string base = fs::path(path).filename().string();
  size_t dot = base.rfind('.');
  if (dot != std::string::npos && dot > 0) base = base.substr(0, dot);
  for (char& c : base) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return base;
}

std::vector<std::string> ListDir(const std::string& dir) {
  std::vector<std::string> out;
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return out;
  while (struct dirent* e = ::readdir(d)) {  // NOLINT(concurrency-mt-unsafe): own DIR*
    std::string name = e->d_name;
    if (name != "." && name != "..") out.push_back(std::move(name));
  }
  ::closedir(d);
  return out;
}

// Made absolute (as clones record it); as given if the working directory is gone.
std::string AbsolutePath(const std::string& path) {
  std::error_code ec;
  fs::path p = fs::absolute(path, ec);
  return ec ? path : p.lexically_normal().string();
}

Status FsyncFile(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus("open", path, errno);
  int rc = ::fsync(fd);
  int err = errno;
  ::close(fd);
  return rc == 0 ? Status() : ErrnoStatus("fsync", path, err);
}

bool AllZero(std::string_view data) {
  for (char c : data) {
    if (c != 0) return false;
  }
  return true;
}

// Writes a file chunk by chunk, hashing it; zero chunks become holes, so a
// sparse raw disk stays sparse.
class HashedWriter {
 public:
  static Result<HashedWriter> Create(const std::string& path) {
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) return ErrnoStatus("create", path, errno);
    return HashedWriter(path, fd);
  }
  HashedWriter(HashedWriter&& o) noexcept
      : path_(std::move(o.path_)), fd_(std::exchange(o.fd_, -1)), size_(o.size_) {
    sha_.swap(o.sha_);
  }
  HashedWriter& operator=(HashedWriter&&) = delete;
  HashedWriter(const HashedWriter&) = delete;
  HashedWriter& operator=(const HashedWriter&) = delete;
  ~HashedWriter() {
    if (fd_ >= 0) ::close(fd_);
  }

  Status Write(std::string_view data) {
    sha_->Update(data);
    if (AllZero(data)) {
      size_ += static_cast<int64_t>(data.size());
      return Status();
    }
    while (!data.empty()) {
      ssize_t n = ::pwrite(fd_, data.data(), data.size(), size_);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return ErrnoStatus("write", path_, errno);
      size_ += n;
      data.remove_prefix(static_cast<size_t>(n));
    }
    return Status();
  }
  int64_t size() const { return size_; }

  // Sets the length (trailing holes), fsyncs and closes; returns the digest.
  Result<Digest> Finish() {
    if (::ftruncate(fd_, size_) != 0 || ::fsync(fd_) != 0) {
      return ErrnoStatus("write", path_, errno);
    }
    ::close(std::exchange(fd_, -1));
    return sha_->Finish();
  }

 private:
  HashedWriter(std::string path, int fd)
      : path_(std::move(path)), fd_(fd), sha_(std::make_unique<Sha256>()) {}
  std::string path_;
  int fd_ = -1;
  std::unique_ptr<Sha256> sha_;
  int64_t size_ = 0;
};

Result<Digest> CopyHashed(const std::string& src, const std::string& dst) {
  LINTEL_ASSIGN_OR_RETURN(HashedWriter w, HashedWriter::Create(dst));
  LINTEL_RETURN_IF_ERROR(ReadChunks(src, [&w](std::string_view chunk) { return w.Write(chunk); }));
  return w.Finish();
}

// Replaces every occurrence of `from` in `s` (a staged path in a tool's error
// becomes the user's).
std::string ReplaceAll(std::string s, const std::string& from, const std::string& to) {
  for (size_t at = s.find(from); !from.empty() && at != std::string::npos;
       at = s.find(from, at + to.size())) {
    s.replace(at, from.size(), to);
  }
  return s;
}

// Checks a staged disk: qcow2 or raw, self-contained, not corrupt. `shown`
// names it in errors.
Result<DiskInfo> CheckDisk(const std::string& staged, const std::string& shown) {
  auto info = QemuImgInfo(staged);
  if (!info.ok()) {
    if (info.error().code() != Code::kInvalid) return info.error();
    return Invalid(ReplaceAll(info.error().message(), staged, shown));
  }
  if (info->format != "qcow2" && info->format != "raw") {
    return Invalid(shown + ": a " + info->format +
                   " image; only qcow2 and raw are supported (qemu-img convert -O qcow2)");
  }
  if (!info->backing_file.empty()) {
    return Invalid(shown + ": a qcow2 with a backing file (" + info->backing_file +
                   "); import a flattened copy (qemu-img convert -O qcow2)");
  }
  if (!info->data_file.empty()) {
    return Invalid(shown + ": a qcow2 with an external data file (" + info->data_file + ")");
  }
  if (info->format == "raw") {
    // qemu-img rounds a raw file's size up to a sector; the file must be whole.
    struct stat st {};
    if (::stat(staged.c_str(), &st) != 0) return ErrnoStatus("stat", staged, errno);
    if (st.st_size == 0 || st.st_size % 512 != 0) {
      return Invalid(shown + ": not a qcow2 or raw disk image (" + std::to_string(st.st_size) +
                     " bytes, not a whole number of 512-byte sectors)");
    }
    info->virtual_size = st.st_size;
    return info;
  }
  LINTEL_ASSIGN_OR_RETURN(ToolRun check,
                          RunTool({"qemu-img", "check", "-q", "-f", "qcow2", "--", staged}));
  // 0: clean, 3: leaked clusters only (harmless).
  if (check.exit_code != 0 && check.exit_code != 3) {
    return Invalid(shown + ": a corrupt qcow2: " + ReplaceAll(ToolError(check), staged, shown));
  }
  return info;
}

// A bundle's vm-image.json.
struct BundleManifest {
  std::string kernel, initrd, disk, cmdline, machine;
};

Result<BundleManifest> ReadBundleManifest(const std::string& dir) {
  std::string path = dir + "/vm-image.json";
  auto text = ReadFile(path);
  if (!text.ok()) {
    if (text.error().code() == Code::kNotFound) {
      return Invalid(dir + ": not a VM image bundle (no vm-image.json)");
    }
    return text.error();
  }
  auto j = ParseJson(*text);
  if (!j.ok() || !j->is_object()) return Invalid(path + ": not a JSON object");
  BundleManifest m;
  for (auto [key, field] :
       {std::pair{"kernel", &m.kernel}, std::pair{"initrd", &m.initrd}, std::pair{"disk", &m.disk},
        std::pair{"cmdline", &m.cmdline}, std::pair{"machine", &m.machine}}) {
    if (!j->contains(key)) continue;
    const Json& v = (*j)[key];
    if (!v.is_string()) return Invalid(path + ": " + key + " must be a string");
    *field = v.get<std::string>();
  }
  if (m.disk.empty() && m.kernel.empty()) return Invalid(path + ": needs a disk or a kernel");
  if (!m.initrd.empty() && m.kernel.empty()) return Invalid(path + ": an initrd needs a kernel");
  if (!m.cmdline.empty() && m.kernel.empty()) return Invalid(path + ": a cmdline needs a kernel");
  if (m.machine.empty()) m.machine = m.kernel.empty() ? "q35" : "microvm";
  if (m.machine != "microvm" && m.machine != "q35") {
    return Invalid(path + ": machine \"" + m.machine + "\": must be microvm or q35");
  }
  if (m.machine == "microvm" && m.kernel.empty()) {
    return Invalid(path + ": machine microvm needs a kernel (it has no boot loader)");
  }
  return m;
}

// BUNDLE/REL as a regular file inside the bundle (symlinks resolved).
Result<std::string> BundleFile(const std::string& bundle, const std::string& what,
                               const std::string& rel) {
  std::string manifest = bundle + "/vm-image.json";
  std::error_code ec;
  fs::path root = fs::canonical(bundle, ec);
  if (ec) return Internal("resolve " + bundle + ": " + ec.message());
  if (rel.empty() || fs::path(rel).is_absolute()) {
    return Invalid(manifest + ": " + what + " \"" + rel + "\": must be a path inside the bundle");
  }
  fs::path p = fs::weakly_canonical(root / rel, ec);
  std::string s = p.string();
  if (ec || !s.starts_with(root.string() + "/")) {
    return Invalid(manifest + ": " + what + " \"" + rel + "\" leaves the bundle");
  }
  struct stat st {};
  if (::stat(s.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
    return Invalid(manifest + ": " + what + " \"" + rel + "\": no such file in the bundle");
  }
  return s;
}

// Streams URL into a HashedWriter, following redirects; at most
// kMaxDownloadBytes.
Status Download(const std::string& url, HashedWriter& out) {
  LINTEL_ASSIGN_OR_RETURN(client::SplitUrl at, client::SplitAbsoluteUrl(url));
  std::map<std::string, std::unique_ptr<client::HttpClient>> clients;
  for (int hop = 0;; ++hop) {
    auto& c = clients[at.base];
    if (!c) {
      client::HttpClientOptions o;
      o.base_url = at.base;
      o.request_timeout = std::chrono::minutes(2);
      LINTEL_ASSIGN_OR_RETURN(c, client::HttpClient::Create(std::move(o)));
    }
    auto sink = [&out, &url](std::string_view data) -> Status {
      if (out.size() + static_cast<int64_t>(data.size()) > kMaxDownloadBytes) {
        return Invalid(url + ": larger than " + HumanSize(kMaxDownloadBytes));
      }
      return out.Write(data);
    };
    auto r = c->DoToSink("GET", at.target, {}, {}, sink);
    if (!r.ok()) return r.error().Wrap("GET " + url);
    int code = r->status;
    if (code >= 200 && code < 300) return Status();
    auto location = r->headers.Get("Location");
    if ((code == 301 || code == 302 || code == 303 || code == 307 || code == 308) && location) {
      if (hop >= kMaxRedirects) return Unavailable("GET " + url + ": too many redirects");
      std::string loc(*location);
      if (loc.starts_with("/")) {
        at.target = loc;
      } else {
        LINTEL_ASSIGN_OR_RETURN(at, client::SplitAbsoluteUrl(loc));
      }
      continue;
    }
    std::string msg = "GET " + url + ": HTTP " + std::to_string(code);
    if (code == 404 || code == 410) return NotFound(msg);
    if (code >= 500) return Unavailable(msg);
    return Invalid(msg);
  }
}

}  // namespace

// ---------------------------------------------------------------------------

class VmImageStore::Impl {
 public:
  explicit Impl(std::string root) : root_(std::move(root)), refs_(root_) {}

  // Content being imported: ROOT/tmp/import-*/ with the files and what
  // image.json will say.
  struct Staged {
    std::string dir;
    Digest id;
    Json meta;
  };

  Result<VmImage> Import(const std::string& source, const std::string& name_arg) {
    std::string name = name_arg.empty() ? DefaultName(UrlPath(source)) : name_arg;
    if (!ValidName(name)) {
      if (name_arg.empty()) {
        return Invalid("cannot name a VM image after " + source + "; give a name");
      }
      return Invalid("VM image name \"" + name +
                     "\": must be lower-case letters, digits, '.', '_' or '-', starting "
                     "with a letter or digit, at most 128");
    }
    std::string previous;
    {
      LINTEL_ASSIGN_OR_RETURN(FileLock lock, Lock(FileLock::Mode::kShared));
      std::string dir = root_ + "/tmp/import-" + UniqueSuffix();
      if (::mkdir(dir.c_str(), 0755) != 0) return ErrnoStatus("mkdir", dir, errno);
      auto staged = Stage(source, dir);
      if (!staged.ok()) {
        (void)RemoveTree(dir);
        return staged.error();
      }
      Status committed = Commit(*staged, name, source, &previous);
      if (!committed.ok()) {
        (void)RemoveTree(dir);
        return committed;
      }
    }
    if (!previous.empty()) {
      // The name moved: its old content may have no user left.
      (void)GarbageCollect();
    }
    return Get(name);
  }

  Result<VmImage> Get(const std::string& name) const {
    LINTEL_ASSIGN_OR_RETURN(auto refs, refs_.Load());
    auto it = refs.find(name);
    if (it == refs.end()) return NotFound("VM image " + name + " not found");
    return Read(name, it->second.digest);
  }

  Result<std::vector<VmImage>> List() const {
    LINTEL_ASSIGN_OR_RETURN(auto refs, refs_.Load());
    std::vector<VmImage> out;
    for (const auto& [name, e] : refs) {
      LINTEL_ASSIGN_OR_RETURN(VmImage image, Read(name, e.digest));
      out.push_back(std::move(image));
    }
    return out;
  }

  Status Remove(const std::string& name) {
    bool found = false;
    LINTEL_RETURN_IF_ERROR(refs_.Update([&](std::map<std::string, RefEntry>& refs) {
      found = refs.erase(name) > 0;
      return Status();
    }));
    if (!found) return NotFound("VM image " + name + " not found");
    auto gc = GarbageCollect();
    return gc.ok() ? Status() : gc.error().Wrap("remove VM image " + name);
  }

  Status CloneDisk(const VmImage& base, const std::string& path_arg, int64_t size_bytes) {
    if (base.disk.empty() || base.disk_format.empty()) {
      return Invalid("VM image " + base.name + " has no disk to clone");
    }
    std::string path = AbsolutePath(path_arg);
    struct stat st {};
    if (::lstat(path.c_str(), &st) == 0) return AlreadyExists("disk " + path + " exists");
    LINTEL_ASSIGN_OR_RETURN(FileLock lock, Lock(FileLock::Mode::kShared));
    if (::stat(base.disk.c_str(), &st) != 0) {
      return NotFound("VM image " + base.name + ": base disk " + base.disk + " is gone");
    }
    // Recorded first: a crash after this leaves a record GC drops, never a
    // clone whose base GC may delete.
    std::string record = root_ + "/clones/" + Sha256Of(path).hex + ".json";
    Json r = {{"path", path}, {"id", base.id}, {"base", base.disk}};
    LINTEL_RETURN_IF_ERROR(WriteFileAtomic(record, r.dump() + "\n", 0644));
    std::vector<std::string> argv = {
        "qemu-img", "create", "-q", "-f", "qcow2", "-b", base.disk, "-F", base.disk_format, path};
    if (size_bytes > base.disk_virtual_size) argv.push_back(std::to_string(RoundUp512(size_bytes)));
    auto run = RunTool(argv);
    Status s;
    if (!run.ok()) {
      s = run.error();
    } else if (run->exit_code != 0) {
      s = Internal("qemu-img create " + path + ": " + ToolError(*run));
    } else {
      s = FsyncFile(path);
      if (s.ok()) s = SyncDir(fs::path(path).parent_path().string());
    }
    if (!s.ok()) ::unlink(record.c_str());
    return s.ok() ? s : s.Wrap("clone VM image " + base.name);
  }

  Result<int64_t> GarbageCollect() {
    LINTEL_ASSIGN_OR_RETURN(FileLock lock, Lock(FileLock::Mode::kExclusive));
    LINTEL_ASSIGN_OR_RETURN(auto refs, refs_.Load());
    std::set<std::string> keep;
    for (const auto& [name, e] : refs) keep.insert(e.digest.hex);
    std::string clones = root_ + "/clones";
    for (const auto& f : ListDir(clones)) {
      std::string record = clones + "/" + f;
      auto text = ReadFile(record);
      auto j = text.ok() ? ParseJson(*text) : Result<Json>(Internal("unreadable"));
      bool live = false;
      if (j.ok() && j->is_object()) {
        std::string path = j->value("path", "");
        std::string base = j->value("base", "");
        auto id = ParseDigest(j->value("id", ""));
        auto backing = path.empty() ? Result<std::string>(NotFound("")) : Qcow2BackingFile(path);
        live = id.ok() && backing.ok() && !base.empty() && *backing == base;
        if (live) keep.insert(id->hex);
      }
      if (!live) ::unlink(record.c_str());
    }
    int64_t freed = 0;
    std::string content = root_ + "/content";
    for (const auto& hex : ListDir(content)) {
      if (keep.contains(hex)) continue;
      freed += TreeSize(content + "/" + hex);
      LINTEL_RETURN_IF_ERROR(RemoveTree(content + "/" + hex));
    }
    for (const auto& t : ListDir(root_ + "/tmp")) {
      freed += TreeSize(root_ + "/tmp/" + t);
      LINTEL_RETURN_IF_ERROR(RemoveTree(root_ + "/tmp/" + t));
    }
    return freed;
  }

  Result<FileLock> Lock(FileLock::Mode mode) const {
    return FileLock::Acquire(root_ + "/lock", mode);
  }

  std::string root_;

 private:
  static int64_t RoundUp512(int64_t n) { return (n + 511) / 512 * 512; }

  static bool IsUrl(const std::string& s) {
    return s.starts_with("http://") || s.starts_with("https://");
  }

  // A URL's path without query; anything else as is.
  static std::string UrlPath(const std::string& s) {
    if (!IsUrl(s)) return s;
    std::string p = s.substr(0, s.find_first_of("?#"));
    size_t scheme = p.find("://");
    size_t slash = p.find('/', scheme + 3);
    return slash == std::string::npos ? "" : p.substr(slash);
  }

  Result<Staged> Stage(const std::string& source, const std::string& dir) {
    if (IsUrl(source)) return StageUrl(source, dir);
    struct stat st {};
    if (::stat(source.c_str(), &st) != 0) {
      if (errno == ENOENT) return NotFound(source + ": no such file or directory");
      return ErrnoStatus("stat", source, errno);
    }
    if (S_ISDIR(st.st_mode)) return StageBundle(source, dir);
    if (!S_ISREG(st.st_mode)) return Invalid(source + ": not a disk image file or a directory");
    Staged s{dir, {}, {}};
    std::string tmp = dir + "/disk";
    LINTEL_ASSIGN_OR_RETURN(s.id, CopyHashed(source, tmp));
    LINTEL_RETURN_IF_ERROR(PlaceDisk(tmp, source, s.meta));
    s.meta["machine"] = "q35";
    return s;
  }

  Result<Staged> StageUrl(const std::string& url, const std::string& dir) {
    Staged s{dir, {}, {}};
    std::string tmp = dir + "/disk";
    LINTEL_ASSIGN_OR_RETURN(HashedWriter w, HashedWriter::Create(tmp));
    LINTEL_RETURN_IF_ERROR(Download(url, w));
    LINTEL_ASSIGN_OR_RETURN(s.id, w.Finish());
    LINTEL_RETURN_IF_ERROR(PlaceDisk(tmp, url, s.meta));
    s.meta["machine"] = "q35";
    return s;
  }

  Result<Staged> StageBundle(const std::string& bundle, const std::string& dir) {
    LINTEL_ASSIGN_OR_RETURN(BundleManifest m, ReadBundleManifest(bundle));
    Staged s{dir, {}, {}};
    Json canonical = {{"cmdline", m.cmdline}, {"machine", m.machine}};
    if (!m.disk.empty()) {
      LINTEL_ASSIGN_OR_RETURN(std::string src, BundleFile(bundle, "disk", m.disk));
      LINTEL_ASSIGN_OR_RETURN(Digest d, CopyHashed(src, dir + "/disk"));
      LINTEL_RETURN_IF_ERROR(PlaceDisk(dir + "/disk", src, s.meta));
      canonical["disk"] = d.ToString();
      canonical["disk_format"] = s.meta["disk_format"];
    }
    for (auto [what, rel, file] : {std::tuple{"kernel", &m.kernel, "vmlinuz"},
                                   std::tuple{"initrd", &m.initrd, "initrd.img"}}) {
      if (rel->empty()) continue;
      LINTEL_ASSIGN_OR_RETURN(std::string src, BundleFile(bundle, what, *rel));
      std::string dst = dir + "/" + file;
      LINTEL_ASSIGN_OR_RETURN(Digest d, CopyHashed(src, dst));
      if (::chmod(dst.c_str(), 0444) != 0) return ErrnoStatus("chmod", dst, errno);
      canonical[what] = d.ToString();
      s.meta[what] = file;
    }
    s.meta["cmdline"] = m.cmdline;
    s.meta["machine"] = m.machine;
    s.id = Sha256Of(canonical.dump());
    return s;
  }

  // Checks the staged `tmp` disk and renames it to disk.<format>, read-only.
  static Status PlaceDisk(const std::string& tmp, const std::string& shown, Json& meta) {
    LINTEL_ASSIGN_OR_RETURN(DiskInfo info, CheckDisk(tmp, shown));
    std::string name = "disk." + info.format;
    std::string dst = fs::path(tmp).parent_path().string() + "/" + name;
    if (::chmod(tmp.c_str(), 0444) != 0) return ErrnoStatus("chmod", tmp, errno);
    if (::rename(tmp.c_str(), dst.c_str()) != 0) return ErrnoStatus("rename", tmp, errno);
    meta["disk"] = name;
    meta["disk_format"] = info.format;
    meta["disk_virtual_size"] = info.virtual_size;
    return Status();
  }

  // Moves staged content into place (unless the same content is there) and
  // points `name` at it. Sets *previous to the id the name had, if another.
  Status Commit(Staged& s, const std::string& name, const std::string& source,
                std::string* previous) {
    std::string content = root_ + "/content/" + s.id.hex;
    if (!FileExists(content + "/image.json")) {
      if (FileExists(content)) LINTEL_RETURN_IF_ERROR(RemoveTree(content));  // a crash's half
      s.meta["id"] = s.id.ToString();
      s.meta["size"] = TreeSize(s.dir);
      s.meta["created"] = FormatRfc3339(std::chrono::system_clock::now());
      s.meta["source"] = source;
      LINTEL_RETURN_IF_ERROR(WriteFileAtomic(s.dir + "/image.json", s.meta.dump(2) + "\n", 0444));
      LINTEL_RETURN_IF_ERROR(SyncDir(s.dir));
      if (::rename(s.dir.c_str(), content.c_str()) != 0) {
        if (errno != EEXIST && errno != ENOTEMPTY) return ErrnoStatus("rename", content, errno);
        LINTEL_RETURN_IF_ERROR(RemoveTree(s.dir));  // another import of it won
      }
      LINTEL_RETURN_IF_ERROR(SyncDir(root_ + "/content"));
    } else {
      LINTEL_RETURN_IF_ERROR(RemoveTree(s.dir));
    }
    return refs_.Update([&](std::map<std::string, RefEntry>& refs) {
      auto it = refs.find(name);
      if (it != refs.end() && it->second.digest == s.id) return Status();
      if (it != refs.end()) *previous = it->second.digest.ToString();
      refs[name] = RefEntry{s.id, FormatRfc3339(std::chrono::system_clock::now())};
      return Status();
    });
  }

  Result<VmImage> Read(const std::string& name, const Digest& id) const {
    std::string dir = root_ + "/content/" + id.hex;
    auto text = ReadFile(dir + "/image.json");
    if (!text.ok()) {
      return Internal("VM image " + name + ": content " + id.ToString() + " is missing");
    }
    auto j = ParseJson(*text);
    if (!j.ok() || !j->is_object()) return Internal(dir + "/image.json: malformed");
    VmImage v;
    try {
      auto path = [&](const char* key) {
        std::string f = j->value(key, "");
        return f.empty() ? f : dir + "/" + f;
      };
      v.name = name;
      v.id = id.ToString();
      v.disk = path("disk");
      v.disk_format = j->value("disk_format", "");
      v.kernel = path("kernel");
      v.initrd = path("initrd");
      v.cmdline = j->value("cmdline", "");
      v.machine = j->value("machine", "");
      v.disk_virtual_size = j->value("disk_virtual_size", int64_t{0});
      v.size = j->value("size", int64_t{0});
      v.created = j->value("created", "");
    } catch (const std::exception& e) {
      return Internal(dir + "/image.json: " + e.what());
    }
    return v;
  }

  RefIndex refs_;
};

// ---------------------------------------------------------------------------

VmImageStore::VmImageStore(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
VmImageStore::~VmImageStore() = default;

Result<std::unique_ptr<VmImageStore>> VmImageStore::Open(const std::string& dir) {
  std::error_code ec;
  std::string root = fs::absolute(dir, ec).lexically_normal().string();
  if (ec) return Internal("VM image store " + dir + ": " + ec.message());
  while (root.size() > 1 && root.back() == '/') root.pop_back();
  for (const char* sub : {"", "/content", "/clones", "/tmp"}) {
    LINTEL_RETURN_IF_ERROR(MakeDirs(root + sub, 0755));
  }
  return std::unique_ptr<VmImageStore>(new VmImageStore(std::make_unique<Impl>(root)));
}

Result<VmImage> VmImageStore::Import(const std::string& path_or_url, const std::string& name) {
  return impl_->Import(path_or_url, name);
}

Result<VmImage> VmImageStore::Get(const std::string& name) const { return impl_->Get(name); }

Result<std::vector<VmImage>> VmImageStore::List() const { return impl_->List(); }

Status VmImageStore::Remove(const std::string& name) { return impl_->Remove(name); }

Status VmImageStore::CloneDisk(const VmImage& base, const std::string& path, int64_t size_bytes) {
  return impl_->CloneDisk(base, path, size_bytes);
}

Status VmImageStore::CreateEmptyDisk(const std::string& path_arg, int64_t size_bytes) {
  std::string path = AbsolutePath(path_arg);
  if (size_bytes <= 0) return Invalid("disk " + path + ": size must be positive");
  struct stat st {};
  if (::lstat(path.c_str(), &st) == 0) return AlreadyExists("disk " + path + " exists");
  int64_t size = (size_bytes + 511) / 512 * 512;
  LINTEL_ASSIGN_OR_RETURN(ToolRun run, RunTool({"qemu-img", "create", "-q", "-f", "qcow2", path,
                                                std::to_string(size)}));
  if (run.exit_code != 0) return Internal("qemu-img create " + path + ": " + ToolError(run));
  LINTEL_RETURN_IF_ERROR(FsyncFile(path));
  return SyncDir(fs::path(path).parent_path().string());
}

Result<int64_t> VmImageStore::GarbageCollect() { return impl_->GarbageCollect(); }

const std::string& VmImageStore::root() const { return impl_->root_; }

}  // namespace lintel::images
