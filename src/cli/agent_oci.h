// `lintel agent --driver oci`: the host's drivers for a real machine. Pods run
// on the OCI driver over the host's image store; VirtualMachines are refused
// ("no VM driver on this host") until the QEMU driver exists.
#pragma once

#include <memory>
#include <string>

#include "common/status.h"
#include "drivers/driver.h"

namespace lintel::cli {

struct OciAgentFlags {
  std::string data_dir;    // the agent's: DATA/oci
  std::string images_dir;  // the image store (shared with `lintel image`)
  std::string run_dir;     // namespace files, conmon links
  std::string runtime;     // auto, runc, crun
};

// The host's driver (a ByKindDriver: Pods on oci, no VMs). `keep` receives
// what the driver uses (the image store): keep it until the driver is gone.
Result<std::unique_ptr<drivers::Driver>> MakeOciHostDriver(const OciAgentFlags& flags,
                                                           std::shared_ptr<void>* keep);

}  // namespace lintel::cli
