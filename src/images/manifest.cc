#include "images/manifest.h"

namespace lintel::images {

namespace {

// Caps how much of a hostile document is accepted.
constexpr size_t kMaxLayers = 1000;

Result<Json> ParseObject(std::string_view body, std::string_view what) {
  auto doc = ParseJson(body);
  if (!doc.ok()) return Invalid(std::string(what) + ": " + doc.error().message());
  if (!doc->is_object()) return Invalid(std::string(what) + ": not a JSON object");
  return std::move(*doc);
}

std::string StringField(const Json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::vector<std::string> StringList(const Json& j, const char* key) {
  std::vector<std::string> out;
  auto it = j.find(key);
  if (it == j.end() || !it->is_array()) return out;
  for (const auto& v : *it) {
    if (v.is_string()) out.push_back(v.get<std::string>());
  }
  return out;
}

Result<Descriptor> ParseDescriptor(const Json& j, std::string_view what) {
  if (!j.is_object()) return Invalid(std::string(what) + ": not an object");
  Descriptor d;
  d.media_type = StringField(j, "mediaType");
  auto digest = ParseDigest(StringField(j, "digest"));
  if (!digest.ok()) return digest.error().Wrap(what);
  d.digest = *digest;
  auto size = j.find("size");
  if (size == j.end() || !size->is_number_integer() || size->get<int64_t>() < 0) {
    return Invalid(std::string(what) + ": size missing or negative");
  }
  d.size = size->get<int64_t>();
  if (auto a = j.find("annotations"); a != j.end() && a->is_object()) {
    for (const auto& [k, v] : a->items()) {
      if (v.is_string()) d.annotations[k] = v.get<std::string>();
    }
  }
  if (auto p = j.find("platform"); p != j.end() && p->is_object()) {
    d.platform = Platform{StringField(*p, "os"), StringField(*p, "architecture"),
                          StringField(*p, "variant")};
  }
  d.urls = StringList(j, "urls");
  return d;
}

}  // namespace

std::string ManifestAcceptHeader() {
  return std::string(media::kOciIndex) + ", " + std::string(media::kOciManifest) + ", " +
         std::string(media::kDockerManifestList) + ", " + std::string(media::kDockerManifest);
}

std::string Platform::ToString() const {
  return os + "/" + architecture + (variant.empty() ? "" : "/" + variant);
}

Json Descriptor::ToJson() const {
  Json j = {{"mediaType", media_type}, {"digest", digest.ToString()}, {"size", size}};
  if (!annotations.empty()) j["annotations"] = annotations;
  return j;
}

Json Manifest::ToJson() const {
  Json layers_json = Json::array();
  for (const auto& l : layers) layers_json.push_back(l.ToJson());
  return {{"schemaVersion", 2},
          {"mediaType", media_type},
          {"config", config.ToJson()},
          {"layers", std::move(layers_json)}};
}

Result<DocumentKind> ClassifyDocument(const Json& doc, std::string_view content_type) {
  std::string media_type = StringField(doc, "mediaType");
  if (media_type.empty()) media_type = std::string(content_type.substr(0, content_type.find(';')));
  if (media_type == media::kOciIndex || media_type == media::kDockerManifestList) {
    return DocumentKind::kIndex;
  }
  if (media_type == media::kOciManifest || media_type == media::kDockerManifest) {
    return DocumentKind::kManifest;
  }
  if (media_type == media::kDockerSchema1 || media_type == media::kDockerSchema1Signed ||
      (doc.is_object() && doc.value("schemaVersion", 0) == 1)) {
    return NotSupported("docker schema 1 manifests are not supported");
  }
  if (doc.is_object() && doc.contains("manifests")) return DocumentKind::kIndex;
  if (doc.is_object() && doc.contains("layers") && doc.contains("config")) {
    return DocumentKind::kManifest;
  }
  return Invalid("not an image manifest or index (media type \"" + media_type + "\")");
}

Result<Manifest> ParseManifest(std::string_view body) {
  LINTEL_ASSIGN_OR_RETURN(Json doc, ParseObject(body, "manifest"));
  Manifest m;
  m.media_type = StringField(doc, "mediaType");
  if (m.media_type.empty()) m.media_type = std::string(media::kOciManifest);
  auto config = doc.find("config");
  if (config == doc.end()) return Invalid("manifest: no config");
  LINTEL_ASSIGN_OR_RETURN(m.config, ParseDescriptor(*config, "manifest config"));
  auto layers = doc.find("layers");
  if (layers == doc.end() || !layers->is_array()) return Invalid("manifest: no layers");
  if (layers->size() > kMaxLayers) return Invalid("manifest: too many layers");
  for (const auto& l : *layers) {
    LINTEL_ASSIGN_OR_RETURN(Descriptor d, ParseDescriptor(l, "manifest layer"));
    m.layers.push_back(std::move(d));
  }
  return m;
}

Result<Index> ParseIndex(std::string_view body) {
  LINTEL_ASSIGN_OR_RETURN(Json doc, ParseObject(body, "index"));
  Index idx;
  idx.media_type = StringField(doc, "mediaType");
  auto list = doc.find("manifests");
  if (list == doc.end() || !list->is_array()) return Invalid("index: no manifests");
  for (const auto& e : *list) {
    LINTEL_ASSIGN_OR_RETURN(Descriptor d, ParseDescriptor(e, "index entry"));
    idx.manifests.push_back(std::move(d));
  }
  return idx;
}

Result<ImageConfig> ParseImageConfig(std::string_view body) {
  LINTEL_ASSIGN_OR_RETURN(Json doc, ParseObject(body, "image config"));
  ImageConfig c;
  c.created = StringField(doc, "created");
  c.os = StringField(doc, "os");
  c.architecture = StringField(doc, "architecture");
  if (auto cfg = doc.find("config"); cfg != doc.end() && cfg->is_object()) {
    c.entrypoint = StringList(*cfg, "Entrypoint");
    c.cmd = StringList(*cfg, "Cmd");
    c.env = StringList(*cfg, "Env");
    c.working_dir = StringField(*cfg, "WorkingDir");
    c.user = StringField(*cfg, "User");
    c.stop_signal = StringField(*cfg, "StopSignal");
    if (auto l = cfg->find("Labels"); l != cfg->end() && l->is_object()) {
      for (const auto& [k, v] : l->items()) {
        if (v.is_string()) c.labels[k] = v.get<std::string>();
      }
    }
  }
  auto rootfs = doc.find("rootfs");
  if (rootfs == doc.end() || !rootfs->is_object()) return Invalid("image config: no rootfs");
  for (const auto& id : StringList(*rootfs, "diff_ids")) {
    auto d = ParseDigest(id);
    if (!d.ok()) return d.error().Wrap("image config: rootfs.diff_ids");
    c.diff_ids.push_back(*d);
  }
  return c;
}

Result<Descriptor> SelectPlatform(const Index& index, const Platform& want) {
  if (index.manifests.size() == 1 && !index.manifests.front().platform) {
    return index.manifests.front();
  }
  std::string offered;
  for (const auto& d : index.manifests) {
    if (!d.platform) continue;
    const Platform& p = *d.platform;
    if (p.os == want.os && p.architecture == want.architecture &&
        (want.variant.empty() || p.variant.empty() || p.variant == want.variant)) {
      return d;
    }
    if (p.os != "unknown") offered += (offered.empty() ? "" : ", ") + p.ToString();
  }
  return NotFound("no image for " + want.ToString() +
                  (offered.empty() ? " in the index" : " (the index offers " + offered + ")"));
}

bool IsLayerMediaType(std::string_view m) {
  return m == media::kOciLayer || m == media::kOciLayerGzip || m == media::kOciLayerZstd ||
         m == media::kDockerLayerGzip || m == "application/vnd.docker.image.rootfs.diff.tar" ||
         m == "application/vnd.oci.image.layer.nondistributable.v1.tar" ||
         m == "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip" ||
         m == "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip";
}

}  // namespace lintel::images
