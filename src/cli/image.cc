// lintel image: the host's image stores (import, pull, ls, rm, prune),
// operated directly on DATA_DIR/images (OCI) and DATA_DIR/images/vm (VM
// images); no server needed.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <memory>
#include <set>

#include "cli/commands.h"
#include "cli/tab_writer.h"
#include "common/time_format.h"
#include "images/fs_util.h"
#include "images/image_store.h"
#include "images/vm_image_store.h"

namespace lintel::cli {

namespace {

struct ImageFlags {
  std::string data_dir = "/var/lib/lintel";
  std::string path;
  std::string name;
  std::string ref;
  std::vector<std::string> refs;
  bool insecure = false;
  std::string creds;
  bool quiet = false;
};

double SecondsSince(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

std::string Seconds(double s) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.2fs", s);
  return buf;
}

Result<std::unique_ptr<images::ImageStore>> OpenStore(const ImageFlags& f) {
  return images::ImageStore::Open(f.data_dir + "/images");
}

Result<std::unique_ptr<images::VmImageStore>> OpenVmStore(const ImageFlags& f) {
  return images::VmImageStore::Open(f.data_dir + "/images/vm");
}

// Whether `path` goes to the VM image store: a URL, a bundle directory (with
// vm-image.json), a qcow2 (by its magic) or a file named *.qcow2, *.img or
// *.raw. Everything else is an OCI layout or docker archive.
bool IsVmImage(const std::string& path) {
  if (path.starts_with("http://") || path.starts_with("https://")) return true;
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return false;
  if (S_ISDIR(st.st_mode)) return ::access((path + "/vm-image.json").c_str(), F_OK) == 0;
  std::array<char, 4> magic{};
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd >= 0) {
    ssize_t n = ::read(fd, magic.data(), magic.size());
    ::close(fd);
    if (n == 4 && std::string_view(magic.data(), 4) == std::string_view("QFI\xfb", 4)) return true;
  }
  for (std::string_view ext : {".qcow2", ".img", ".raw"}) {
    if (path.ends_with(ext)) return true;
  }
  return false;
}

int RunVmImport(const ImageFlags& f, GlobalOptions& g) {
  auto store = OpenVmStore(f);
  if (!store.ok()) return Fail(store.error().message());
  auto t0 = std::chrono::steady_clock::now();
  auto image = (*store)->Import(f.path, f.name);
  if (!image.ok()) {
    const std::string& msg = image.error().message();
    return Fail("image import " + (msg.starts_with(f.path) ? msg : f.path + ": " + msg));
  }
  *g.out << "imported vm " << image->name << " " << image->id << " (" << image->machine << ", "
         << images::HumanSize(image->size) << ") in " << Seconds(SecondsSince(t0)) << "\n";
  return 0;
}

std::string Describe(const images::Image& image) {
  return image.reference + " " + image.digest.ToString() + " (" + images::HumanSize(image.size) +
         ")";
}

int RunImport(const ImageFlags& f, GlobalOptions& g) {
  if (IsVmImage(f.path)) return RunVmImport(f, g);
  auto store = OpenStore(f);
  if (!store.ok()) return Fail(store.error().message());
  auto t0 = std::chrono::steady_clock::now();
  auto image = (*store)->Import(f.path, f.name);
  if (!image.ok()) return Fail(image.error().message());
  *g.out << "imported " << Describe(*image) << " in " << Seconds(SecondsSince(t0)) << "\n";
  return 0;
}

int RunPull(const ImageFlags& f, GlobalOptions& g) {
  auto store = OpenStore(f);
  if (!store.ok()) return Fail(store.error().message());
  images::PullOptions o;
  o.insecure = f.insecure;
  if (!f.creds.empty()) {
    size_t colon = f.creds.find(':');
    o.username = f.creds.substr(0, colon);
    if (colon != std::string::npos) o.password = f.creds.substr(colon + 1);
  }
  if (!f.quiet) o.progress = [&g](std::string_view line) { *g.out << line << std::endl; };
  auto t0 = std::chrono::steady_clock::now();
  auto image = (*store)->Pull(f.ref, o);
  if (!image.ok()) return Fail(image.error().message());
  *g.out << "pulled " << Describe(*image) << " in " << Seconds(SecondsSince(t0)) << "\n";
  return 0;
}

std::string Created(const std::string& created) {
  auto t = ParseRfc3339(created);
  if (!t) return "<unknown>";
  return HumanDuration(std::chrono::system_clock::now() - *t) + " ago";
}

int RunList(const ImageFlags& f, GlobalOptions& g) {
  auto store = OpenStore(f);
  if (!store.ok()) return Fail(store.error().message());
  auto list = (*store)->List();
  if (!list.ok()) return Fail(list.error().message());
  auto vm_store = OpenVmStore(f);
  if (!vm_store.ok()) return Fail(vm_store.error().message());
  auto vms = (*vm_store)->List();
  if (!vms.ok()) return Fail(vms.error().message());
  TabWriter w(*g.out, 6, 3);
  w.Write("NAME\tTAG\tKIND\tDIGEST\tSIZE\tCREATED\n");
  for (const auto& s : *list) {
    w.Write(s.name + "\t" + s.tag + "\toci\t" + s.digest.Short() + "\t" +
            images::HumanSize(s.size) + "\t" + Created(s.created) + "\n");
  }
  for (const auto& v : *vms) {
    std::string short_id = v.id.substr(v.id.find(':') + 1, 12);
    w.Write(v.name + "\t-\tvm\t" + short_id + "\t" + images::HumanSize(v.size) + "\t" +
            Created(v.created) + "\n");
  }
  return 0;
}

std::string GcLine(const images::GcResult& r) {
  return "freed " + images::HumanSize(r.freed_bytes) + " (" + std::to_string(r.removed_blobs) +
         " blobs, " + std::to_string(r.removed_layers) + " layers)";
}

int RunRemove(const ImageFlags& f, GlobalOptions& g) {
  auto store = OpenStore(f);
  if (!store.ok()) return Fail(store.error().message());
  auto vm_store = OpenVmStore(f);
  if (!vm_store.ok()) return Fail(vm_store.error().message());
  int rc = 0;
  bool any = false;
  for (const auto& ref : f.refs) {
    // A name may be in either store (or both); removed from each that has it.
    Status vm_removed = (*vm_store)->Remove(ref);
    bool vm_found = vm_removed.code() != Code::kNotFound;
    if (vm_removed.ok()) {
      *g.out << "removed vm " << ref << "\n";
    } else if (vm_found) {
      rc = Fail("image rm " + ref + ": " + vm_removed.message());
    }
    auto removed = (*store)->Remove(ref);
    if (!removed.ok()) {
      // Not an OCI image: fine if it was a VM image.
      if (!vm_found || removed.error().code() != Code::kNotFound) {
        rc = Fail("image rm " + ref + ": " + removed.error().message());
      }
      continue;
    }
    any = true;
    for (const auto& r : *removed) *g.out << "untagged " << r << "\n";
  }
  if (!any) return rc;
  // Content no image needs any more goes now; mounted rootfs are leased.
  auto gc = (*store)->GarbageCollect();
  if (!gc.ok()) return Fail("image rm: " + gc.error().message());
  *g.out << GcLine(*gc) << "\n";
  return rc;
}

int RunPrune(const ImageFlags& f, GlobalOptions& g) {
  auto store = OpenStore(f);
  if (!store.ok()) return Fail(store.error().message());
  auto gc = (*store)->GarbageCollect();
  if (!gc.ok()) return Fail("image prune: " + gc.error().message());
  *g.out << GcLine(*gc) << "\n";
  auto vm_store = OpenVmStore(f);
  if (!vm_store.ok()) return Fail(vm_store.error().message());
  // VM image content no name and no disk cloned from it uses.
  auto vm_gc = (*vm_store)->GarbageCollect();
  if (!vm_gc.ok()) return Fail("image prune: " + vm_gc.error().message());
  *g.out << "freed " << images::HumanSize(*vm_gc) << " (vm images)\n";
  return 0;
}

}  // namespace

void AddImageCommand(CLI::App& app, GlobalOptions& g, Runner* run) {
  auto flags = std::make_shared<ImageFlags>();
  auto* cmd = app.add_subcommand("image", "Manage the host's OCI and VM images (no server needed)");
  cmd->require_subcommand(1);
  cmd->fallthrough();
  cmd->add_option("--data-dir", flags->data_dir,
                  "Lintel's data directory, as given to lintel up (images in DIR/images, VM "
                  "images in DIR/images/vm; env LINTEL_DATA_DIR)")
      ->envname("LINTEL_DATA_DIR")
      ->capture_default_str();
  auto set = [run, flags, &g](int (*fn)(const ImageFlags&, GlobalOptions&)) {
    return [run, flags, &g, fn] { *run = [flags, &g, fn] { return fn(*flags, g); }; };
  };

  auto* import = cmd->add_subcommand(
      "import",
      "Import an OCI layout (dir or tar) or docker archive, or a VM image: a qcow2 or raw disk "
      "(file or http(s) URL) or a bundle directory with vm-image.json");
  import
      ->add_option("PATH", flags->path,
                   "The layout directory, archive, disk file, bundle directory or disk URL")
      ->required();
  import->add_option("--name", flags->name,
                     "NAME[:TAG] (default: the archive's own name); for a VM image NAME "
                     "(default: the file or directory name without extension)");
  import->callback(set(RunImport));

  auto* pull = cmd->add_subcommand("pull", "Pull an image from an OCI registry");
  pull->add_option("REF", flags->ref, "[REGISTRY/]REPOSITORY[:TAG][@DIGEST]")->required();
  pull->add_flag("--insecure", flags->insecure,
                 "Skip TLS verification, then try plain HTTP (loopback registries always may)");
  pull->add_option("--creds", flags->creds, "USER:PASSWORD for the registry or its token server");
  pull->add_flag("-q,--quiet", flags->quiet, "Print only the result");
  pull->callback(set(RunPull));

  auto* ls = cmd->add_subcommand("ls", "List images");
  ls->alias("list");
  ls->callback(set(RunList));

  auto* rm = cmd->add_subcommand("rm", "Remove images and free what no other image uses");
  rm->add_option("REF", flags->refs,
                 "Name[:tag], digest or digest prefix; a VM image's name (its disks stay "
                 "usable: the content goes once no disk is cloned from it)")
      ->required();
  rm->callback(set(RunRemove));

  auto* prune = cmd->add_subcommand(
      "prune", "Free blobs and layers no image or container uses, and unused VM image content");
  prune->callback(set(RunPrune));
}

}  // namespace lintel::cli
