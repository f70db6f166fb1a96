// WriteNoCloudSeed (declared in vm_image_store.h): a VM's cloud-init data as
// the NoCloud datasource reads it, on an ISO 9660 volume labelled "cidata".
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>

#include "common/fs.h"
#include "common/json.h"
#include "images/fs_util.h"
#include "images/qemu_img.h"
#include "images/vm_image_store.h"

namespace lintel::images {

namespace {

bool HasLineBreak(const std::string& s) { return s.find_first_of("\r\n") != std::string::npos; }

// A YAML scalar: JSON strings are YAML double-quoted strings.
std::string Quote(const std::string& s) { return Json(s).dump(); }

}  // namespace

Status WriteNoCloudSeed(const CloudInitSeed& seed, const std::string& iso_path) {
  if (seed.instance_id.empty()) return Invalid("cloud-init seed: instance_id is empty");
  if (HasLineBreak(seed.instance_id) || HasLineBreak(seed.hostname)) {
    return Invalid("cloud-init seed: instance_id and hostname must be one line");
  }
  for (const auto& key : seed.ssh_authorized_keys) {
    if (HasLineBreak(key)) return Invalid("cloud-init seed: an SSH key spans lines");
  }
  std::string meta = "instance-id: " + Quote(seed.instance_id) + "\n";
  if (!seed.hostname.empty()) meta += "local-hostname: " + Quote(seed.hostname) + "\n";
  if (!seed.ssh_authorized_keys.empty()) {
    meta += "public-keys:\n";
    for (const auto& key : seed.ssh_authorized_keys) meta += "  - " + Quote(key) + "\n";
  }

  std::string suffix = UniqueSuffix();
  std::string dir = iso_path + ".tmp-" + suffix + ".d";
  std::string tmp_iso = iso_path + ".tmp-" + suffix;
  auto cleanup = [&] {
    (void)RemoveTree(dir);
    ::unlink(tmp_iso.c_str());
  };
  if (::mkdir(dir.c_str(), 0700) != 0) return ErrnoStatus("mkdir", dir, errno);
  std::vector<std::pair<std::string, const std::string*>> files = {{"meta-data", &meta},
                                                                   {"user-data", &seed.user_data}};
  if (!seed.network_config.empty()) files.emplace_back("network-config", &seed.network_config);
  std::vector<std::string> argv = {"genisoimage", "-quiet", "-output", tmp_iso,
                                   "-volid",      "cidata", "-joliet", "-rock"};
  for (const auto& [name, content] : files) {
    Status s = WriteFileAtomic(dir + "/" + name, *content, 0644);
    if (!s.ok()) {
      cleanup();
      return s;
    }
    argv.push_back(dir + "/" + name);
  }
  auto run = RunTool(argv);
  Status s;
  if (!run.ok()) {
    s = run.error();
  } else if (run->exit_code != 0) {
    s = Internal("genisoimage " + iso_path + ": " + ToolError(*run));
  } else if (::chmod(tmp_iso.c_str(), 0644) != 0) {
    s = ErrnoStatus("chmod", tmp_iso, errno);
  } else if (::rename(tmp_iso.c_str(), iso_path.c_str()) != 0) {
    s = ErrnoStatus("rename", iso_path, errno);
  } else {
    std::string parent = std::filesystem::path(iso_path).parent_path().string();
    s = SyncDir(parent.empty() ? "." : parent);
  }
  cleanup();
  return s.ok() ? s : s.Wrap("cloud-init seed");
}

}  // namespace lintel::images
