#include "server/negotiation.h"

#include <vector>

namespace lintel::server {

namespace {

std::string Trim(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && (s[b] == ' ' || s[b] == '\t')) ++b;
  while (e > b && (s[e - 1] == ' ' || s[e - 1] == '\t')) --e;
  return std::string(s.substr(b, e - b));
}

std::string Lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

struct MediaType {
  std::string type;  // "application/json"
  std::vector<std::pair<std::string, std::string>> params;
  std::string Param(std::string_view k) const {
    for (const auto& [pk, pv] : params) {
      if (pk == k) return pv;
    }
    return "";
  }
};

std::vector<MediaType> ParseAccept(std::string_view accept) {
  std::vector<MediaType> out;
  size_t pos = 0;
  while (pos <= accept.size()) {
    size_t comma = accept.find(',', pos);
    std::string_view item =
        accept.substr(pos, comma == std::string_view::npos ? std::string_view::npos : comma - pos);
    MediaType mt;
    size_t p = 0;
    bool first = true;
    while (p <= item.size()) {
      size_t semi = item.find(';', p);
      std::string part = Trim(
          item.substr(p, semi == std::string_view::npos ? std::string_view::npos : semi - p));
      if (first) {
        mt.type = Lower(part);
        first = false;
      } else if (auto eq = part.find('='); eq != std::string::npos) {
        mt.params.emplace_back(Lower(Trim(part.substr(0, eq))), Trim(part.substr(eq + 1)));
      }
      if (semi == std::string_view::npos) break;
      p = semi + 1;
    }
    if (!mt.type.empty()) out.push_back(std::move(mt));
    if (comma == std::string_view::npos) break;
    pos = comma + 1;
  }
  return out;
}

}  // namespace

Result<Negotiated> Negotiate(std::string_view accept, bool allow_table, bool allow_discovery) {
  Negotiated plain{Representation::kJson, "", "application/json"};
  if (Trim(accept).empty()) return plain;
  for (const auto& mt : ParseAccept(accept)) {
    bool json_like = mt.type == "application/json" || mt.type == "*/*" ||
                     mt.type == "application/*" || mt.type == "application/yaml";
    if (!json_like) continue;  // protobuf, cbor: we answer JSON if it is listed later
    std::string as = mt.Param("as");
    std::string g = mt.Param("g");
    std::string v = mt.Param("v");
    if (as.empty()) return plain;
    if (as == "Table" && g == "meta.k8s.io" && (v == "v1" || v == "v1beta1")) {
      if (!allow_table) continue;
      return Negotiated{Representation::kTable, v,
                        "application/json;as=Table;v=" + v + ";g=meta.k8s.io"};
    }
    if (as == "APIGroupDiscoveryList" && g == "apidiscovery.k8s.io" &&
        (v == "v2" || v == "v2beta1")) {
      if (!allow_discovery) continue;
      return Negotiated{Representation::kDiscovery, v,
                        "application/json;g=apidiscovery.k8s.io;v=" + v +
                            ";as=APIGroupDiscoveryList"};
    }
    // Another "as" (PartialObjectMetadata...): not offered; try the next type.
  }
  return Status(Code::kNotAcceptable,
                "only the following media types are accepted: application/json, "
                "application/json;as=Table;v=v1;g=meta.k8s.io");
}

BodyType ClassifyContentType(std::string_view content_type) {
  std::string ct = Lower(Trim(content_type.substr(0, content_type.find(';'))));
  if (ct.empty() || ct == "application/json") return BodyType::kJson;
  if (ct == "application/yaml" || ct == "application/x-yaml" || ct == "text/yaml") {
    return BodyType::kYaml;
  }
  if (ct == "application/merge-patch+json") return BodyType::kMergePatch;
  if (ct == "application/json-patch+json") return BodyType::kJsonPatch;
  if (ct == "application/apply-patch+yaml" || ct == "application/apply-patch+json") {
    return BodyType::kApplyPatch;
  }
  if (ct == "application/strategic-merge-patch+json") return BodyType::kStrategicMerge;
  return BodyType::kUnsupported;
}

}  // namespace lintel::server
