// A RootfsProvider for the OCI driver's integration tests: one image,
// "busybox", a directory built from the host's /bin/busybox (an applet link
// per command, /etc/passwd and /etc/group with root and nobody), mounted per
// run as an overlay like the image store's. Other names are NotFound, with a
// registry-like message, so that pull failures can be tested.
#pragma once

#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "drivers/oci/rootfs_provider.h"

namespace lintel::testing {

class BusyboxRootfs final : public drivers::oci::RootfsProvider {
 public:
  // Builds the tree under `dir` (created). Returns false if busybox is missing.
  bool Build(const std::string& dir) {
    namespace fs = std::filesystem;
    lower_ = dir;
    std::error_code ec;
    fs::create_directories(dir + "/bin", ec);
    fs::create_directories(dir + "/etc", ec);
    fs::create_directories(dir + "/tmp", ec);
    fs::create_directories(dir + "/home/app", ec);
    ::chmod((dir + "/tmp").c_str(), 01777);
    if (!fs::copy_file("/bin/busybox", dir + "/bin/busybox", fs::copy_options::overwrite_existing,
                       ec)) {
      return false;
    }
    FILE* list = ::popen("/bin/busybox --list", "r");
    if (!list) return false;
    char line[256];
    while (std::fgets(line, sizeof(line), list)) {
      std::string applet(line);
      while (!applet.empty() && (applet.back() == '\n' || applet.back() == '\r')) applet.pop_back();
      if (applet.empty() || applet == "busybox") continue;
      fs::create_symlink("busybox", dir + "/bin/" + applet, ec);
    }
    ::pclose(list);
    std::ofstream(dir + "/etc/passwd") << "root:x:0:0:root:/root:/bin/sh\n"
                                          "app:x:1000:1000:app:/home/app:/bin/sh\n"
                                          "nobody:x:65534:65534:nobody:/nonexistent:/bin/false\n";
    std::ofstream(dir + "/etc/group") << "root:x:0:\napp:x:1000:\nextra:x:2000:app\n"
                                         "nogroup:x:65534:\n";
    return true;
  }

  Result<drivers::oci::ResolvedImage> Resolve(const std::string& image,
                                              drivers::oci::PullPolicy) override {
    if (image != "busybox" && image != "busybox:latest") {
      return NotFound("pull " + image + ": manifest unknown: manifest unknown");
    }
    drivers::oci::ResolvedImage r;
    r.reference = image;
    r.id = "sha256:busybox-test";
    r.defaults.cmd = {"/bin/sh"};
    r.defaults.env = {"PATH=/bin"};
    r.handle = image;
    return r;
  }

  Result<std::string> Mount(const drivers::oci::ResolvedImage&, const std::string& dir) override {
    std::string rootfs = dir + "/rootfs";
    for (const char* sub : {"/upper", "/work", "/rootfs"}) {
      std::filesystem::create_directories(dir + sub);
    }
    std::string opts =
        "lowerdir=" + lower_ + ",upperdir=" + dir + "/upper,workdir=" + dir + "/work";
    if (::mount("overlay", rootfs.c_str(), "overlay", 0, opts.c_str()) != 0) {
      return Internal("mount overlay on " + rootfs + ": " + std::strerror(errno));
    }
    return rootfs;
  }

  Status Unmount(const std::string& dir) override {
    ::umount2((dir + "/rootfs").c_str(), MNT_DETACH);
    std::error_code ec;
    for (const char* sub : {"/upper", "/work", "/rootfs"})
      std::filesystem::remove_all(dir + sub, ec);
    return Status();
  }

 private:
  std::string lower_;
};

}  // namespace lintel::testing
