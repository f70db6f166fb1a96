// VmImageStore: the host's VM images (boot disks, optionally with a kernel,
// initrd and command line for direct kernel boot) and the disks VMs run on,
// which are qcow2 linked clones of them. Also the NoCloud seed that carries a
// VM's cloud-init data.
//
//   ROOT/content/<hex>/disk.qcow2|disk.raw   the base disk, read-only (0444)
//   ROOT/content/<hex>/vmlinuz, initrd.img   a bundle's kernel and initrd (0444)
//   ROOT/content/<hex>/image.json            what Get returns (format, size, cmdline, machine)
//   ROOT/refs.json                           name → id (refs.lock guards writes)
//   ROOT/clones/<hash of path>.json          a clone made by CloneDisk: its path and base id
//   ROOT/tmp/                                imports in progress, crash leftovers
//   ROOT/lock                                shared by Import and CloneDisk, exclusive by GC
//
// ROOT is DATA_DIR/images/vm (`lintel image` and `lintel up` share it). Clones
// name their base by absolute path, so ROOT must not move once clones exist.
//
// An image's id is "sha256:<hex>": the SHA-256 of the disk for a plain disk,
// of a canonical manifest (file digests, cmdline, machine) for a bundle. The
// same content imported twice is stored once.
//
// Removal rule: Remove drops the name at once; the content stays while another
// name or any clone still uses it. A clone counts while a file at its recorded
// path is a qcow2 whose backing file is this image's disk, so deleting a VM's
// disk file is all it takes to release the base. GarbageCollect (run by
// Remove and Import, and by `lintel image prune`) deletes the rest.
//
// Crash safety: content appears only complete (temp dir, fsync, rename); a
// name is written only after its content exists; only GarbageCollect deletes
// content, under the exclusive lock, so it never races an import or a clone in
// this process or another (the agent next to `lintel image`).
//
// Threading: every method is thread-safe and blocks its caller (disk, network,
// qemu-img). Several stores (or processes) may share one root.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"

namespace lintel::images {

struct VmImage {
  std::string name;
  std::string id;                 // "sha256:<hex>"
  std::string disk;               // absolute path of the read-only base disk
  std::string disk_format;        // "qcow2" | "raw" | "" (none)
  std::string kernel;             // absolute path, or "" to boot the disk's loader
  std::string initrd;             // absolute path, or ""
  std::string cmdline;            // kernel command line (with a kernel only)
  std::string machine;            // "microvm" (with a kernel) | "q35" (a plain disk)
  int64_t disk_virtual_size = 0;  // bytes the guest sees
  // Added; not in the first draft.
  int64_t size = 0;     // bytes stored (disk, kernel, initrd)
  std::string created;  // when first imported, RFC 3339
};

class VmImageStore {
 public:
  // Creates the layout under `dir` (absolute or made absolute) if needed.
  // Internal if it cannot. Does not look for qemu-img yet.
  static Result<std::unique_ptr<VmImageStore>> Open(const std::string& dir);
  ~VmImageStore();
  VmImageStore(const VmImageStore&) = delete;
  VmImageStore& operator=(const VmImageStore&) = delete;

  // Imports and names (or renames onto the same content) an image from
  //  - a qcow2 or raw disk file (the format as `qemu-img info` detects it);
  //  - a bundle directory with vm-image.json:
  //      {"kernel":"vmlinuz","initrd":"initrd.img","disk":"disk.qcow2",
  //       "cmdline":"root=/dev/vda ...","machine":"microvm"}
  //    paths relative to the bundle, none leaving it (symlinks resolved);
  //    kernel, initrd, cmdline and machine optional;
  //  - an http:// or https:// URL of a qcow2 or raw disk (at most 64 GiB).
  // Machine: the bundle's, else microvm with a kernel, q35 without.
  // `name`: [a-z0-9][a-z0-9._-]*, at most 128; "" means the file's (or the
  // bundle directory's) base name without extension. An existing name is moved
  // to the new image. Invalid: a bad name, an unknown or corrupt file, a qcow2
  // with a backing or external data file, a bundle path escaping the bundle;
  // nothing is stored then. NotFound: no such path; Unavailable: the download
  // failed; NotSupported: qemu-img is missing.
  Result<VmImage> Import(const std::string& path_or_url, const std::string& name);

  // The image a name refers to. NotFound: "VM image NAME not found".
  Result<VmImage> Get(const std::string& name) const;

  // Every named image, sorted by name.
  Result<std::vector<VmImage>> List() const;

  // Removes a name, then collects garbage. The content stays while another
  // name or a clone uses it (see the removal rule above). NotFound:
  // "VM image NAME not found".
  Status Remove(const std::string& name);

  // Creates PATH as a qcow2 linked clone of `base` (qemu-img create -b), of
  // `size_bytes` if that is larger than the base's virtual size, else of the
  // base's size (never shrinks). Records the clone so the base is kept while
  // PATH exists. AlreadyExists if PATH exists; Internal with qemu-img's stderr
  // on failure. About 10-20 ms.
  Status CloneDisk(const VmImage& base, const std::string& path, int64_t size_bytes = 0);

  // Creates PATH as an empty qcow2 disk of `size_bytes` (> 0). AlreadyExists
  // if PATH exists.
  Status CreateEmptyDisk(const std::string& path, int64_t size_bytes);

  // Deletes content no name and no live clone uses, stale clone records and
  // temporary leftovers. Returns the bytes freed.
  Result<int64_t> GarbageCollect();

  const std::string& root() const;

 private:
  class Impl;
  explicit VmImageStore(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// What a VM's NoCloud seed carries.
struct CloudInitSeed {
  std::string instance_id, hostname, user_data, network_config;
  std::vector<std::string> ssh_authorized_keys;
};

// Writes an ISO 9660 image labelled "cidata" (genisoimage -volid cidata
// -joliet -rock) holding user-data, meta-data (instance-id, local-hostname,
// public-keys) and, when network_config is not empty, network-config. The file
// is written via a temporary file and renamed. Invalid: an empty instance_id or
// a hostname or key with a newline; NotSupported: genisoimage is missing;
// Internal with its stderr when it fails. Thread-safe.
Status WriteNoCloudSeed(const CloudInitSeed& seed, const std::string& iso_path);

}  // namespace lintel::images
