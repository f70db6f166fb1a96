// Test helpers: layer tarballs built in memory with libarchive (plain, gzip
// or zstd), and OCI image layouts written from them.
#pragma once

#include <archive.h>
#include <archive_entry.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include "common/json.h"
#include "images/digest.h"
#include "images/manifest.h"

namespace lintel::images::testing {

enum class Compression { kNone, kGzip, kZstd };

class TarBuilder {
 public:
  TarBuilder& Dir(std::string path, int mode = 0755) {
    return Add(Make(std::move(path), AE_IFDIR, mode));
  }
  TarBuilder& File(std::string path, std::string content, int mode = 0644, int uid = 0,
                   int gid = 0) {
    Entry e = Make(std::move(path), AE_IFREG, mode);
    e.content = std::move(content);
    e.uid = uid;
    e.gid = gid;
    return Add(std::move(e));
  }
  TarBuilder& Symlink(std::string path, std::string target) {
    Entry e = Make(std::move(path), AE_IFLNK, 0777);
    e.target = std::move(target);
    return Add(std::move(e));
  }
  TarBuilder& Hardlink(std::string path, std::string target) {
    Entry e = Make(std::move(path), AE_IFREG, 0644);
    e.hardlink = std::move(target);
    return Add(std::move(e));
  }
  // `.wh.NAME` in NAME's directory.
  TarBuilder& Whiteout(const std::string& path) {
    auto slash = path.rfind('/');
    std::string dir = slash == std::string::npos ? "" : path.substr(0, slash + 1);
    return File(dir + ".wh." + path.substr(slash + 1), "");
  }
  TarBuilder& Opaque(const std::string& dir) { return File(dir + "/.wh..wh..opq", ""); }
  TarBuilder& FileWithXattr(std::string path, std::string content, std::string name,
                            std::string value) {
    Entry e = Make(std::move(path), AE_IFREG, 0644);
    e.content = std::move(content);
    e.xattrs.emplace_back(std::move(name), std::move(value));
    return Add(std::move(e));
  }

  std::string Build(Compression c = Compression::kNone) const {
    std::string out;
    archive* a = archive_write_new();
    archive_write_set_format_pax_restricted(a);
    if (c == Compression::kGzip) archive_write_add_filter_gzip(a);
    if (c == Compression::kZstd) archive_write_add_filter_zstd(a);
    archive_write_set_bytes_in_last_block(a, 1);
    archive_write_open(a, &out, nullptr, &TarBuilder::WriteCb, nullptr);
    for (const auto& e : entries_) {
      archive_entry* ae = archive_entry_new();
      archive_entry_set_pathname(ae, e.path.c_str());
      archive_entry_set_filetype(ae, e.type);
      archive_entry_set_perm(ae, e.mode);
      archive_entry_set_uid(ae, e.uid);
      archive_entry_set_gid(ae, e.gid);
      archive_entry_set_mtime(ae, 1700000000, 0);
      if (!e.hardlink.empty()) archive_entry_set_hardlink(ae, e.hardlink.c_str());
      if (e.type == AE_IFLNK) archive_entry_set_symlink(ae, e.target.c_str());
      if (e.type == AE_IFREG && e.hardlink.empty()) archive_entry_set_size(ae, e.content.size());
      for (const auto& [k, v] : e.xattrs) {
        archive_entry_xattr_add_entry(ae, k.c_str(), v.data(), v.size());
      }
      archive_write_header(a, ae);
      if (!e.content.empty()) archive_write_data(a, e.content.data(), e.content.size());
      archive_entry_free(ae);
    }
    archive_write_close(a);
    archive_write_free(a);
    return out;
  }

 private:
  struct Entry {
    std::string path;
    unsigned type = AE_IFREG;
    int mode = 0644;
    std::string content;
    std::string target;
    std::vector<std::pair<std::string, std::string>> xattrs;
    std::string hardlink;
    int uid = 0;
    int gid = 0;
  };
  static Entry Make(std::string path, unsigned type, int mode) {
    Entry e;
    e.path = std::move(path);
    e.type = type;
    e.mode = mode;
    return e;
  }
  TarBuilder& Add(Entry e) {
    entries_.push_back(std::move(e));
    return *this;
  }
  static la_ssize_t WriteCb(archive*, void* client, const void* buf, size_t n) {
    static_cast<std::string*>(client)->append(static_cast<const char*>(buf), n);
    return static_cast<la_ssize_t>(n);
  }
  std::vector<Entry> entries_;
};

// A layer as it goes into an image: its blob and its diff id.
struct TestLayer {
  std::string blob;
  std::string media_type;
  Digest diff_id;
};

inline TestLayer MakeLayer(const TarBuilder& t, Compression c = Compression::kGzip) {
  std::string tar = t.Build(Compression::kNone);
  TestLayer l;
  l.diff_id = Sha256Of(tar);
  l.blob = c == Compression::kNone ? tar : t.Build(c);
  l.media_type = c == Compression::kNone   ? std::string(media::kOciLayer)
                 : c == Compression::kGzip ? std::string(media::kOciLayerGzip)
                                           : std::string(media::kOciLayerZstd);
  return l;
}

// Writes an OCI image layout; blobs are added to what is there.
class LayoutWriter {
 public:
  explicit LayoutWriter(std::string dir) : dir_(std::move(dir)) {
    std::filesystem::create_directories(dir_ + "/blobs/sha256");
    Write(dir_ + "/oci-layout", R"({"imageLayoutVersion":"1.0.0"})");
  }

  Descriptor Put(const std::string& content, std::string media_type) {
    Descriptor d;
    d.digest = Sha256Of(content);
    d.size = static_cast<int64_t>(content.size());
    d.media_type = std::move(media_type);
    Write(dir_ + "/blobs/sha256/" + d.digest.hex, content);
    return d;
  }

  // An image: config (with `config` as its "config" section) and manifest.
  Descriptor Image(const std::vector<TestLayer>& layers, Json config = Json::object(),
                   const std::string& arch = "amd64") {
    Json diff_ids = Json::array();
    for (const auto& l : layers) diff_ids.push_back(l.diff_id.ToString());
    Json c = {{"architecture", arch},
              {"os", "linux"},
              {"created", "2024-05-01T10:00:00Z"},
              {"config", std::move(config)},
              {"rootfs", {{"type", "layers"}, {"diff_ids", diff_ids}}}};
    Manifest m;
    m.media_type = std::string(media::kOciManifest);
    m.config = Put(c.dump(), std::string(media::kOciConfig));
    for (const auto& l : layers) m.layers.push_back(Put(l.blob, l.media_type));
    Descriptor d = Put(m.ToJson().dump(), std::string(media::kOciManifest));
    d.platform = Platform{"linux", arch, ""};
    return d;
  }

  // An index over `manifests` (with their platforms).
  Descriptor Index(const std::vector<Descriptor>& manifests) {
    Json list = Json::array();
    for (const auto& m : manifests) {
      Json j = m.ToJson();
      if (m.platform) {
        j["platform"] = {{"os", m.platform->os}, {"architecture", m.platform->architecture}};
      }
      list.push_back(std::move(j));
    }
    Json idx = {{"schemaVersion", 2}, {"mediaType", media::kOciIndex}, {"manifests", list}};
    return Put(idx.dump(), std::string(media::kOciIndex));
  }

  // index.json naming each descriptor by tag.
  void Tag(const std::vector<std::pair<std::string, Descriptor>>& tagged) {
    Json list = Json::array();
    for (const auto& [tag, d] : tagged) {
      Json j = d.ToJson();
      j["annotations"] = {{std::string(kRefNameAnnotation), tag}};
      list.push_back(std::move(j));
    }
    Write(dir_ + "/index.json",
          Json{{"schemaVersion", 2}, {"mediaType", media::kOciIndex}, {"manifests", list}}.dump());
  }

  const std::string& dir() const { return dir_; }

  static void Write(const std::string& path, const std::string& content) {
    std::ofstream f(path, std::ios::binary | std::ios::trunc);
    f << content;
  }

 private:
  std::string dir_;
};

}  // namespace lintel::images::testing
