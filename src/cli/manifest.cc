#include "cli/manifest.h"

#include <algorithm>
#include <filesystem>
#include <iterator>

#include "cli/text.h"
#include "common/fs.h"

namespace lintel::cli {

namespace {

bool IsList(const Json& obj) {
  std::string kind = obj.value("kind", "");
  return EndsWith(kind, "List") && obj.contains("items") && obj["items"].is_array();
}

Status AddObject(Json obj, const std::string& source, std::vector<Manifest>* out) {
  if (!obj.is_object()) {
    return BadRequest("error validating \"" + source + "\": the document is not an object");
  }
  if (IsList(obj)) {
    // Items of a typed list (VirtualMachineList) may leave out their type.
    std::string item_kind = obj.value("kind", "");
    item_kind.resize(item_kind.size() - 4);
    std::string api_version = obj.value("apiVersion", "");
    for (Json& item : obj["items"]) {
      if (item.is_object() && item_kind != "" && obj.value("kind", "") != "List") {
        if (!item.contains("kind")) item["kind"] = item_kind;
        if (!item.contains("apiVersion")) item["apiVersion"] = api_version;
      }
      LINTEL_RETURN_IF_ERROR(AddObject(std::move(item), source, out));
    }
    return Status::Ok();
  }
  std::vector<std::string> missing;
  if (!obj.contains("apiVersion") || !obj["apiVersion"].is_string() ||
      obj["apiVersion"].get<std::string>().empty()) {
    missing.push_back("apiVersion not set");
  }
  if (!obj.contains("kind") || !obj["kind"].is_string() || obj["kind"].get<std::string>().empty()) {
    missing.push_back("kind not set");
  }
  if (!missing.empty()) {
    return BadRequest("error validating \"" + source + "\": error validating data: [" +
                      Join(missing, ", ") + "]");
  }
  out->push_back(Manifest{std::move(obj), source});
  return Status::Ok();
}

bool IsManifestFile(const std::filesystem::path& p) {
  std::string ext = p.extension().string();
  return ext == ".yaml" || ext == ".yml" || ext == ".json";
}

}  // namespace

Result<std::vector<Manifest>> ParseManifests(std::string_view text, const std::string& source) {
  auto docs = ParseYamlStream(text);
  if (!docs.ok()) {
    return BadRequest("error parsing " + source + ": " + docs.error().message());
  }
  std::vector<Manifest> out;
  for (Json& doc : *docs) {
    if (doc.is_null()) continue;
    LINTEL_RETURN_IF_ERROR(AddObject(std::move(doc), source, &out));
  }
  return out;
}

Result<std::vector<std::string>> ManifestFiles(const std::string& dir, bool recursive) {
  std::vector<std::string> files;
  std::error_code ec;
  std::vector<std::filesystem::path> entries;
  for (auto it = std::filesystem::directory_iterator(dir, ec);
       !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
    entries.push_back(it->path());
  }
  if (ec) return BadRequest("error reading \"" + dir + "\": " + ec.message());
  std::sort(entries.begin(), entries.end());
  for (const auto& p : entries) {
    if (std::filesystem::is_directory(p, ec)) {
      if (!recursive) continue;
      LINTEL_ASSIGN_OR_RETURN(std::vector<std::string> sub, ManifestFiles(p.string(), true));
      files.insert(files.end(), sub.begin(), sub.end());
    } else if (IsManifestFile(p)) {
      files.push_back(p.string());
    }
  }
  return files;
}

Result<std::vector<Manifest>> ReadManifests(const std::vector<std::string>& paths,
                                            std::istream& in, bool recursive) {
  std::vector<Manifest> out;
  bool stdin_read = false;
  for (const auto& path : paths) {
    std::vector<std::string> files;
    if (path == "-") {
      if (stdin_read) continue;
      stdin_read = true;
      std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      LINTEL_ASSIGN_OR_RETURN(std::vector<Manifest> objs, ParseManifests(text, "STDIN"));
      std::move(objs.begin(), objs.end(), std::back_inserter(out));
      continue;
    }
    std::error_code ec;
    if (!std::filesystem::exists(path, ec)) {
      return NotFound("the path \"" + path + "\" does not exist");
    }
    if (std::filesystem::is_directory(path, ec)) {
      LINTEL_ASSIGN_OR_RETURN(files, ManifestFiles(path, recursive));
    } else {
      files.push_back(path);
    }
    for (const auto& file : files) {
      auto text = ReadFile(file);
      if (!text.ok()) return BadRequest("error reading \"" + file + "\": " + text.error().message());
      LINTEL_ASSIGN_OR_RETURN(std::vector<Manifest> objs, ParseManifests(*text, file));
      std::move(objs.begin(), objs.end(), std::back_inserter(out));
    }
  }
  return out;
}

}  // namespace lintel::cli
