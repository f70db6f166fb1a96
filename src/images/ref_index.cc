#include "images/ref_index.h"

#include "common/fs.h"
#include "common/json.h"
#include "images/fs_util.h"

namespace lintel::images {

Result<std::map<std::string, RefEntry>> RefIndex::Load() const {
  std::string path = root_ + "/refs.json";
  std::map<std::string, RefEntry> out;
  auto text = ReadFile(path);
  if (!text.ok()) {
    if (text.error().code() == Code::kNotFound) return out;
    return text.error();
  }
  auto j = ParseJson(*text);
  if (!j.ok() || !j->is_object() || !j->contains("refs") || !(*j)["refs"].is_object()) {
    return Internal(path + ": malformed");
  }
  for (const auto& [name, v] : (*j)["refs"].items()) {
    if (!v.is_object()) continue;
    auto d = ParseDigest(v.value("digest", ""));
    if (!d.ok()) return Internal(path + ": " + name + ": " + d.error().message());
    out[name] = RefEntry{*d, v.value("added", "")};
  }
  return out;
}

Status RefIndex::Update(
    const std::function<Status(std::map<std::string, RefEntry>&)>& mutate) const {
  LINTEL_ASSIGN_OR_RETURN(FileLock lock,
                          FileLock::Acquire(root_ + "/refs.lock", FileLock::Mode::kExclusive));
  LINTEL_ASSIGN_OR_RETURN(auto refs, Load());
  auto before = refs;
  LINTEL_RETURN_IF_ERROR(mutate(refs));
  bool changed = before.size() != refs.size();
  Json out = Json::object();
  for (const auto& [name, e] : refs) {
    auto it = before.find(name);
    changed = changed || it == before.end() || it->second.digest != e.digest;
    out[name] = {{"digest", e.digest.ToString()}, {"added", e.added}};
  }
  if (!changed) return Status();
  Json doc = {{"version", 1}, {"refs", std::move(out)}};
  return WriteFileAtomic(root_ + "/refs.json", doc.dump(2) + "\n", 0644);
}

}  // namespace lintel::images
