#include "cli/local_host.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <spdlog/spdlog.h>
#include <sys/file.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstring>

#include "agent/estate_network.h"
#include "agent/handle_store.h"
#include "common/fs.h"
#include "drivers/by_kind.h"
#include "drivers/oci/image_store_rootfs.h"
#include "drivers/oci/oci_driver.h"
#include "drivers/qemu/qemu_driver.h"
#include "images/image_store.h"
#include "images/vm_image_store.h"

namespace lintel::cli {

namespace {

struct LocalHost {
  // Destroyed last (members go in reverse): the drivers use it until the end.
  std::unique_ptr<agent::EstateNetwork> network;
  std::unique_ptr<images::ImageStore> images;
  std::unique_ptr<drivers::oci::ImageStoreRootfs> rootfs;
  std::unique_ptr<images::VmImageStore> vm_images;
};

bool OwnInterface(const std::string& name) {
  return name.rfind("lintel", 0) == 0 || name.rfind("lv", 0) == 0 || name.rfind("lt", 0) == 0;
}

// The first IPv4 address of an interface that is up and not loopback.
std::string FirstInternalIp() {
  struct ifaddrs* list = nullptr;
  if (::getifaddrs(&list) != 0) return "";
  std::string out;
  for (auto* a = list; a && out.empty(); a = a->ifa_next) {
    if (!a->ifa_addr || a->ifa_addr->sa_family != AF_INET) continue;
    if ((a->ifa_flags & IFF_LOOPBACK) || !(a->ifa_flags & IFF_UP)) continue;
    if (a->ifa_name && OwnInterface(a->ifa_name)) continue;
    char text[INET_ADDRSTRLEN] = {};
    auto* in = reinterpret_cast<struct sockaddr_in*>(a->ifa_addr);
    if (::inet_ntop(AF_INET, &in->sin_addr, text, sizeof(text))) out = text;
  }
  ::freeifaddrs(list);
  return out;
}

}  // namespace

std::string LocalHostname() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof(buf) - 1) != 0) return "";
  std::string name(buf);
  for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return name;
}

Json LocalAddresses(const std::string& name, const std::string& address) {
  Json out = Json::array({{{"type", "Hostname"}, {"address", name}}});
  if (std::string ip = address.empty() ? FirstInternalIp() : address; !ip.empty()) {
    out.push_back({{"type", "InternalIP"}, {"address", ip}});
  }
  return out;
}

void RealCapacity(std::string* cpu, std::string* memory) {
  long cpus = ::sysconf(_SC_NPROCESSORS_ONLN);
  if (cpus > 0) *cpu = std::to_string(cpus);
  long pages = ::sysconf(_SC_PHYS_PAGES), page = ::sysconf(_SC_PAGE_SIZE);
  if (pages > 0 && page > 0) {
    *memory = std::to_string(static_cast<int64_t>(pages) * page / (1024 * 1024)) + "Mi";
  }
}

Status LockDataDir(const std::string& dir) {
  LINTEL_RETURN_IF_ERROR(MakeDirs(dir, 0700));
  std::string path = dir + "/agent.lock";
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return Internal("open " + path + ": " + std::strerror(errno));
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    ::close(fd);
    return Unavailable("another lintel agent uses " + dir);
  }
  return Status();  // the descriptor stays open until exit
}

Result<std::unique_ptr<drivers::Driver>> MakeLocalHostDriver(const LocalHostFlags& f,
                                                             std::shared_ptr<void>* keep,
                                                             drivers::WorkloadNetwork* network) {
  auto host = std::make_shared<LocalHost>();
  std::unique_ptr<drivers::Driver> pods, vms;
  if (f.pods) {
    auto store = images::ImageStore::Open(f.images_dir);
    if (!store.ok()) return store.error().Wrap("image store " + f.images_dir);
    host->images = std::move(*store);
    host->rootfs = std::make_unique<drivers::oci::ImageStoreRootfs>(host->images.get());
    drivers::oci::OciOptions o;
    o.data_dir = f.data_dir;
    o.run_dir = f.run_dir;
    o.runtime = f.runtime;
    o.rootfs = host->rootfs.get();
    o.network = network;
    auto oci = drivers::oci::OciDriver::Create(std::move(o));
    if (!oci.ok()) return oci.error().Wrap("oci driver");
    pods = std::move(*oci);
  }
  if (f.vms != "off") {
    const std::string vm_dir = f.images_dir + "/vm";
    auto store = images::VmImageStore::Open(vm_dir);
    if (!store.ok()) return store.error().Wrap("VM image store " + vm_dir);
    host->vm_images = std::move(*store);
    drivers::qemu::QemuOptions o;
    o.data_dir = f.data_dir;
    o.run_dir = f.run_dir;
    o.images = host->vm_images.get();
    o.accelerator = f.accelerator;
    o.network = network;
    auto qemu = drivers::qemu::QemuDriver::Create(std::move(o));
    if (qemu.ok()) {
      vms = std::move(*qemu);
    } else if (f.vms == "required" || qemu.error().code() != Code::kNotFound) {
      return qemu.error();
    } else {
      // VirtualMachines bound here fail at once with that reason, and the
      // Host reports accelerator none, so the scheduler does not place them.
      spdlog::warn("agent: {}; this host runs no VMs", qemu.error().message());
    }
  }
  if (!pods && !vms) return BadRequest("this host would run neither Pods nor VMs");
  *keep = host;
  return std::unique_ptr<drivers::Driver>(
      std::make_unique<drivers::ByKindDriver>(std::move(pods), std::move(vms)));
}

Result<std::unique_ptr<agent::AgentEndpoint>> StartAgentEndpoint(agent::Agent& agent,
                                                                 const std::string& listen,
                                                                 const std::string& pki_dir,
                                                                 const std::string& cluster_ca_pem,
                                                                 agent::HostConfig* config) {
  if (cluster_ca_pem.empty()) {
    spdlog::warn(
        "agent: the server has no cluster CA (no TLS), so the agent serves no endpoint "
        "and logs cannot be read through the API");
    return std::unique_ptr<agent::AgentEndpoint>();
  }
  agent::AgentEndpointOptions o;
  o.listen = listen;
  o.pki_dir = pki_dir;
  o.cluster_ca_pem = cluster_ca_pem;
  // Its certificate names the host's addresses (an InternalIP first: the URL
  // uses the first name when listening on every interface).
  for (const auto& a : config->addresses) {
    if (a.value("type", "") == "InternalIP") o.names.push_back(a.value("address", ""));
  }
  for (const auto& a : config->addresses) {
    if (a.value("type", "") == "Hostname") o.names.push_back(a.value("address", ""));
  }
  o.names.push_back("127.0.0.1");
  LINTEL_ASSIGN_OR_RETURN(std::unique_ptr<agent::AgentEndpoint> endpoint,
                          agent::AgentEndpoint::Start(std::move(o), &agent));
  config->agent_endpoint = endpoint->Advertised();
  return endpoint;
}

Status AddLocalHost(agent::Agent& agent, agent::HostConfig config, const LocalHostFlags& f,
                    std::shared_ptr<void>* keep) {
  std::unique_ptr<agent::EstateNetwork> network;
  if (f.network == "on") {
    agent::EstateNetworkOptions o;
    o.host = config.name;
    o.state_dir = f.data_dir + "/network";
    for (const auto& a : config.addresses) {
      if (a.value("type", "") == "InternalIP") o.vtep_ip = a.value("address", "");
    }
    o.mtu = f.mtu;
    o.dns_port = f.dns_port;
    network = std::make_unique<agent::EstateNetwork>(agent.client(), std::move(o));
  } else if (f.network != "off") {
    return BadRequest("--network must be on or off, not \"" + f.network + "\"");
  }
  LINTEL_ASSIGN_OR_RETURN(std::unique_ptr<drivers::Driver> driver,
                          MakeLocalHostDriver(f, keep, network.get()));
  if (network) {
    LINTEL_RETURN_IF_ERROR(network->Start().Wrap("estate network"));
    std::static_pointer_cast<LocalHost>(*keep)->network = std::move(network);
  }
  // Containers and VMs outlive the agent: keep handles on disk for re-adoption.
  LINTEL_ASSIGN_OR_RETURN(std::unique_ptr<agent::FileHandleStore> handles,
                          agent::FileHandleStore::Open(f.data_dir + "/handles"));
  agent.AddHost(std::move(config), std::move(driver), std::move(handles));
  return Status();
}

}  // namespace lintel::cli
