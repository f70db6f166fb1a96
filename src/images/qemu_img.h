// Disk tools for the VM image store: qemu-img and genisoimage run as child
// processes (posix_spawn, no shell, a clean signal state, output captured),
// and a reader of a qcow2 header's backing file name that needs no process.
//
// Thread-safe; every function blocks its caller until the tool exits.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"

namespace lintel::images {

// The absolute path of an executable found in $PATH, then /usr/sbin:/sbin;
// "" if none.
std::string FindTool(const std::string& name);

struct ToolRun {
  int exit_code = 0;  // 128 + signal when killed
  std::string out;    // stdout, at most 16 MiB kept
  std::string err;    // stderr, at most 64 KiB kept
};

// Runs argv (argv[0] is a name looked up with FindTool, or a path) to the
// end. NotSupported "<tool> is not installed" when not found; Internal when it
// cannot be started. A non-zero exit is not an error here.
Result<ToolRun> RunTool(const std::vector<std::string>& argv);

// What `qemu-img info --output=json` says about one image.
struct DiskInfo {
  std::string format;  // "qcow2", "raw", "vmdk", ...
  int64_t virtual_size = 0;
  int64_t actual_size = 0;
  std::string backing_file;  // "" if none
  std::string data_file;     // a qcow2's external data file; "" if none
};

// Probes the format, as qemu-img does (no backing file is opened). Invalid
// "<path>: not a disk image qemu-img can read: <stderr>" when it fails.
Result<DiskInfo> QemuImgInfo(const std::string& path);

// The backing file name recorded in a qcow2 header; "" when the file is not a
// qcow2 or has none. NotFound when the file does not exist.
Result<std::string> Qcow2BackingFile(const std::string& path);

// The last line of a tool's stderr without its "qemu-img: " prefix, for
// one-line errors.
std::string ToolError(const ToolRun& run);

}  // namespace lintel::images
