#include "server/user_kubeconfig.h"

#include <yaml-cpp/yaml.h>

#include "common/fs.h"

namespace lintel::server {

namespace {

// Replaces (or appends) the entry with `name` in a kubeconfig list.
void Upsert(YAML::Node list_parent, const char* list_key, const YAML::Node& entry) {
  YAML::Node list = list_parent[list_key];
  if (!list || !list.IsSequence()) {
    list = YAML::Node(YAML::NodeType::Sequence);
  }
  YAML::Node out(YAML::NodeType::Sequence);
  bool replaced = false;
  for (const auto& item : list) {
    if (item["name"] && item["name"].as<std::string>() == entry["name"].as<std::string>()) {
      out.push_back(entry);
      replaced = true;
    } else {
      out.push_back(item);
    }
  }
  if (!replaced) out.push_back(entry);
  list_parent[list_key] = out;
}

}  // namespace

Status MergeIntoUserKubeconfig(const std::string& path,
                               const client::KubeconfigContent& content) {
  std::string ours = client::RenderKubeconfig(content);
  if (!FileExists(path)) {
    auto slash = path.rfind('/');
    if (slash != std::string::npos) LINTEL_RETURN_IF_ERROR(MakeDirs(path.substr(0, slash), 0700));
    return WriteFileAtomic(path, ours, 0600);
  }
  try {
    LINTEL_ASSIGN_OR_RETURN(std::string existing_text, ReadFile(path));
    YAML::Node existing = YAML::Load(existing_text);
    if (!existing || !existing.IsMap()) existing = YAML::Node(YAML::NodeType::Map);
    YAML::Node mine = YAML::Load(ours);
    for (const char* key : {"clusters", "users", "contexts"}) {
      for (const auto& entry : mine[key]) Upsert(existing, key, entry);
    }
    existing["current-context"] = content.name;
    if (!existing["apiVersion"]) existing["apiVersion"] = "v1";
    if (!existing["kind"]) existing["kind"] = "Config";
    YAML::Emitter out;
    out << existing;
    return WriteFileAtomic(path, std::string(out.c_str()) + "\n", 0600);
  } catch (const YAML::Exception& e) {
    return BadRequest(path + ": not a kubeconfig: " + e.what());
  }
}

}  // namespace lintel::server
