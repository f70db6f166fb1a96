#include "agent/handle_store.h"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cctype>
#include <filesystem>

#include "common/fs.h"
#include "common/json.h"

namespace lintel::agent {

Status MemoryHandleStore::Put(const drivers::Handle& handle) {
  std::lock_guard<std::mutex> l(mu_);
  handles_[handle.uid] = handle;
  return Status();
}

std::optional<drivers::Handle> MemoryHandleStore::Get(const std::string& uid) {
  std::lock_guard<std::mutex> l(mu_);
  auto it = handles_.find(uid);
  if (it == handles_.end()) return std::nullopt;
  return it->second;
}

void MemoryHandleStore::Delete(const std::string& uid) {
  std::lock_guard<std::mutex> l(mu_);
  handles_.erase(uid);
}

std::vector<drivers::Handle> MemoryHandleStore::List() {
  std::lock_guard<std::mutex> l(mu_);
  std::vector<drivers::Handle> out;
  for (const auto& [uid, h] : handles_) out.push_back(h);
  return out;
}

Result<std::unique_ptr<FileHandleStore>> FileHandleStore::Open(const std::string& dir) {
  LINTEL_RETURN_IF_ERROR(MakeDirs(dir, 0700));
  return std::unique_ptr<FileHandleStore>(new FileHandleStore(dir));
}

std::string FileHandleStore::PathOf(const std::string& uid) const {
  // uids are UUIDs; anything else is kept out of the path.
  std::string safe;
  for (char c : uid) safe += (std::isalnum(static_cast<unsigned char>(c)) || c == '-') ? c : '_';
  return dir_ + "/" + safe + ".json";
}

Status FileHandleStore::Put(const drivers::Handle& handle) {
  return WriteFileAtomic(PathOf(handle.uid), drivers::HandleToJson(handle).dump() + "\n", 0600);
}

std::optional<drivers::Handle> FileHandleStore::Get(const std::string& uid) {
  auto text = ReadFile(PathOf(uid));
  if (!text.ok()) {
    if (text.error().code() != Code::kNotFound) {
      spdlog::warn("handle of {}: {}", uid, text.error().ToString());
    }
    return std::nullopt;
  }
  auto j = ParseJson(*text);
  if (!j.ok()) {
    spdlog::warn("handle of {}: {}", uid, j.error().ToString());
    return std::nullopt;
  }
  auto h = drivers::HandleFromJson(*j);
  if (!h.ok()) {
    spdlog::warn("handle of {}: {}", uid, h.error().ToString());
    return std::nullopt;
  }
  return std::move(*h);
}

void FileHandleStore::Delete(const std::string& uid) { ::unlink(PathOf(uid).c_str()); }

std::vector<drivers::Handle> FileHandleStore::List() {
  std::vector<drivers::Handle> out;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir_, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.size() <= 5 || name.compare(name.size() - 5, 5, ".json") != 0) continue;
    auto text = ReadFile(entry.path().string());
    if (!text.ok()) continue;
    auto j = ParseJson(*text);
    if (!j.ok()) continue;
    auto h = drivers::HandleFromJson(*j);
    if (h.ok()) out.push_back(std::move(*h));
  }
  return out;
}

}  // namespace lintel::agent
