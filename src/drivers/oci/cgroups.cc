#include "drivers/oci/cgroups.h"

#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <sstream>

#include "common/fs.h"
#include "drivers/oci/sys_util.h"

namespace lintel::drivers::oci {

std::vector<std::string> CgroupRoots() {
  std::vector<std::string> out;
  for (const auto& m : ReadMounts()) {
    if (m.fstype == "cgroup" || m.fstype == "cgroup2") out.push_back(m.mount_point);
  }
  return out;
}

namespace {

int64_t Field(const std::string& text, const std::string& key) {
  std::istringstream in(text);
  std::string k;
  int64_t v = 0;
  while (in >> k >> v) {
    if (k == key) return v;
  }
  return 0;
}

bool IsMemoryV1(const MountEntry& m) {
  if (m.fstype != "cgroup") return false;
  std::istringstream in(m.super_options);
  std::string opt;
  while (std::getline(in, opt, ',')) {
    if (opt == "memory") return true;
  }
  return false;
}

}  // namespace

int64_t OomKills(const std::string& path) {
  int64_t kills = 0;
  for (const auto& m : ReadMounts()) {
    if (IsMemoryV1(m)) {
      auto text = ReadFile(m.mount_point + path + "/memory.oom_control");
      if (text.ok()) kills += Field(*text, "oom_kill");
    } else if (m.fstype == "cgroup2") {
      auto text = ReadFile(m.mount_point + path + "/memory.events");
      if (text.ok()) kills += Field(*text, "oom_kill");
    }
  }
  return kills;
}

void RemoveCgroupTree(const std::string& path, const std::string& stop_at) {
  for (const auto& root : CgroupRoots()) {
    std::string p = path;
    while (p.size() > 1 && p != stop_at) {
      if (::rmdir((root + p).c_str()) != 0 && errno != ENOENT) break;
      p = p.substr(0, p.rfind('/'));
      if (p.empty()) break;
    }
  }
}

}  // namespace lintel::drivers::oci
