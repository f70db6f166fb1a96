#include "drivers/qemu/vm_plan.h"

#include <gtest/gtest.h>

#include <algorithm>

namespace lintel::drivers::qemu {
namespace {

WorkloadSpec Spec(Json spec) {
  WorkloadSpec s;
  s.kind = WorkloadKind::kVirtualMachine;
  s.ns = "prod";
  s.name = "db";
  s.uid = "u1";
  s.spec = std::move(spec);
  return s;
}

// The value after `flag` in argv, or "" (the first occurrence).
std::string After(const std::vector<std::string>& argv, const std::string& flag, int nth = 0) {
  for (size_t i = 0; i + 1 < argv.size(); ++i) {
    if (argv[i] == flag && nth-- == 0) return argv[i + 1];
  }
  return "";
}

TEST(VmPlan, ParsesSizesDisksAndCloudInit) {
  auto p = ParseVmPlan(Spec(
      {{"image", "tiny"},
       {"cpu", 2},
       {"memory", "1Gi"},
       {"runStrategy", "RerunOnFailure"},
       {"disks",
        {{{"name", "data"}, {"size", "10Gi"}, {"keep", true}},
         {{"name", "scratch"}, {"image", "blank"}}}},
       {"cloudInit",
        {{"userData", "#!/bin/sh\necho hi\n"}, {"sshAuthorizedKeys", {"ssh-ed25519 AAAA me"}}}}}));
  ASSERT_TRUE(p.ok()) << p.error().ToString();
  EXPECT_EQ(p->cpus, 2);
  EXPECT_EQ(p->memory_bytes, 1LL << 30);
  EXPECT_EQ(p->run_strategy, "RerunOnFailure");
  ASSERT_EQ(p->disks.size(), 3u);
  EXPECT_EQ(p->disks[0].name, "root");
  EXPECT_EQ(p->disks[0].image, "tiny");
  EXPECT_EQ(p->disks[1].size_bytes, 10LL << 30);
  EXPECT_TRUE(p->disks[1].keep);
  EXPECT_EQ(p->disks[2].image, "blank");
  EXPECT_TRUE(p->seed);
  EXPECT_EQ(p->ssh_keys.size(), 1u);
}

TEST(VmPlan, RejectsBadSpecsNamingTheField) {
  struct Case {
    Json spec;
    std::string field;
  } cases[] = {
      {{{"cpu", 1}}, "spec.image"},
      {{{"image", "x"}, {"cpu", 0}}, "spec.cpu"},
      {{{"image", "x"}, {"memory", "12"}}, "spec.memory"},
      {{{"image", "x"}, {"memory", "lots"}}, "spec.memory"},
      {{{"image", "x"}, {"disks", {{{"name", "root"}, {"size", "1Gi"}}}}}, "spec.disks[0].name"},
      {{{"image", "x"}, {"disks", {{{"name", "Data"}, {"size", "1Gi"}}}}}, "spec.disks[0].name"},
      {{{"image", "x"}, {"disks", {{{"name", "d"}}}}}, "spec.disks[0]"},
      {{{"image", "x"}, {"accelerator", "HVF"}}, "spec.accelerator"},
      {{{"image", "x"}, {"machine", "pc"}}, "spec.machine"},
      {{{"image", "x"}, {"cloudInit", {{"sshAuthorizedKeys", {"a\nb"}}}}},
       "spec.cloudInit.sshAuthorizedKeys"},
  };
  for (const auto& c : cases) {
    auto p = ParseVmPlan(Spec(c.spec));
    ASSERT_FALSE(p.ok()) << c.spec.dump();
    EXPECT_EQ(p.error().code(), Code::kInvalid);
    EXPECT_EQ(p.error().message().rfind(c.field, 0), 0u) << p.error().message();
  }
}

TEST(QemuArgv, MicrovmDirectKernelBoot) {
  auto p = ParseVmPlan(Spec(
      {{"image", "tiny"}, {"memory", "256Mi"}, {"disks", {{{"name", "data"}, {"size", "1Gi"}}}}}));
  ASSERT_TRUE(p.ok());
  BootImage img{"/img/vmlinuz", "/img/initrd.img", "root=/dev/vda console=ttyS0", "microvm"};
  VmPaths paths;
  paths.disks = {"/vm/root.qcow2", "/vm/data.qcow2"};
  paths.seed = "/vm/seed.iso";
  paths.qmp_socket = "/run/u1.qmp";
  paths.serial_socket = "/run/u1.ser";
  paths.console_log = "/vm/console.log";
  paths.pidfile = "/vm/qemu.pid";
  auto argv = QemuArgv("/usr/bin/qemu-system-x86_64", *p, img, paths, "tcg", 2600000);
  EXPECT_EQ(argv[0], "/usr/bin/qemu-system-x86_64");
  EXPECT_EQ(After(argv, "-machine"), "microvm");
  EXPECT_EQ(After(argv, "-accel"), "tcg");
  EXPECT_EQ(After(argv, "-m"), "256");
  EXPECT_EQ(After(argv, "-kernel"), "/img/vmlinuz");
  EXPECT_EQ(After(argv, "-initrd"), "/img/initrd.img");
  EXPECT_EQ(After(argv, "-append"), "root=/dev/vda console=ttyS0 tsc_early_khz=2600000");
  EXPECT_NE(std::find(argv.begin(), argv.end(), "-no-reboot"), argv.end());
  EXPECT_EQ(After(argv, "-qmp"), "unix:/run/u1.qmp,server=on,wait=off");
  EXPECT_NE(After(argv, "-chardev").find("logfile=/vm/console.log,logappend=on"),
            std::string::npos);
  // The boot disk first (the guest's /dev/vda), the data disk, the seed last.
  EXPECT_EQ(After(argv, "-drive", 0).rfind("id=disk-root,file=/vm/root.qcow2", 0), 0u);
  EXPECT_EQ(After(argv, "-drive", 1).rfind("id=disk-data,file=/vm/data.qcow2", 0), 0u);
  EXPECT_NE(After(argv, "-drive", 2).find("/vm/seed.iso,format=raw,if=none,readonly=on"),
            std::string::npos);
  EXPECT_EQ(After(argv, "-device", 0).rfind("virtio-blk-device,", 0), 0u);
}

TEST(QemuArgv, Q35BootsTheDiskLoaderOnPci) {
  auto p = ParseVmPlan(Spec({{"image", "debian"}, {"cpu", 4}}));
  ASSERT_TRUE(p.ok());
  BootImage img;  // a plain disk: no kernel
  EXPECT_EQ(MachineFor(*p, img), "q35");
  VmPaths paths;
  paths.disks = {"/vm/root.qcow2"};
  auto argv = QemuArgv("qemu", *p, img, paths, "kvm", 2600000);
  EXPECT_EQ(After(argv, "-machine"), "q35");
  EXPECT_EQ(After(argv, "-cpu"), "host");
  EXPECT_EQ(After(argv, "-smp"), "4");
  EXPECT_EQ(After(argv, "-kernel"), "");
  EXPECT_EQ(After(argv, "-device", 0), "virtio-blk-pci,drive=disk-root,serial=root,bootindex=0");
  // A spec's machine wins over the image's.
  p->machine = "microvm";
  img.kernel = "/k";
  img.machine = "q35";
  EXPECT_EQ(MachineFor(*p, img), "microvm");
}

TEST(QemuArgv, EstateNicIsATapWithTheOverlaysMtu) {
  auto p = ParseVmPlan(Spec({{"image", "tiny"}}));
  ASSERT_TRUE(p.ok());
  BootImage img;
  img.kernel = "/k";
  VmPaths paths;
  paths.disks = {"/vm/root.qcow2"};
  auto plain = QemuArgv("qemu", *p, img, paths, "tcg", 0);
  EXPECT_EQ(After(plain, "-netdev"), "");  // no network: no NIC
  paths.tap = "lt0a1b2c3d";
  paths.mac = "52:54:0a:f4:03:05";
  paths.mtu = 1450;
  auto argv = QemuArgv("qemu", *p, img, paths, "tcg", 0);
  EXPECT_EQ(After(argv, "-netdev"), "tap,id=net0,ifname=lt0a1b2c3d,script=no,downscript=no");
  EXPECT_EQ(After(argv, "-device", 1),
            "virtio-net-device,netdev=net0,mac=52:54:0a:f4:03:05,host_mtu=1450");
  p->machine = "q35";
  argv = QemuArgv("qemu", *p, img, paths, "tcg", 0);
  EXPECT_EQ(After(argv, "-device", 1).rfind("virtio-net-pci,", 0), 0u);
}

TEST(VmPlan, EstateNetworkConfigIsStaticNetplan) {
  NetworkInterface n;
  n.ip = "10.244.3.5";
  n.prefix = 16;
  n.gateway = "10.244.3.1";
  n.mac = "52:54:0a:f4:03:05";
  n.mtu = 1450;
  n.nameservers = {"10.244.3.1"};
  n.search = {"prod.svc", "svc"};
  EXPECT_EQ(EstateNetworkConfig(n),
            "version: 2\nethernets:\n  eth0:\n    match:\n      macaddress: "
            "\"52:54:0a:f4:03:05\"\n    set-name: eth0\n    addresses: [10.244.3.5/16]\n"
            "    gateway4: 10.244.3.1\n    mtu: 1450\n    nameservers:\n      addresses: "
            "[10.244.3.1]\n      search: [prod.svc, svc]\n");
}

TEST(VmPlan, ReadinessProbeTcpOrHttpButNotExec) {
  auto p = ParseVmPlan(
      Spec({{"image", "tiny"},
            {"readinessProbe", {{"tcpSocket", {{"port", 80}}}, {"periodSeconds", 1}}}}));
  ASSERT_TRUE(p.ok()) << p.error().message();
  ASSERT_TRUE(p->readiness.has_value());
  EXPECT_EQ(p->readiness->port, 80);
  EXPECT_EQ(p->readiness->period_seconds, 1);
  auto bad = ParseVmPlan(
      Spec({{"image", "tiny"}, {"readinessProbe", {{"exec", {{"command", {"true"}}}}}}}));
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message().find("spec.readinessProbe: exec is not supported"),
            std::string::npos);
}

}  // namespace
}  // namespace lintel::drivers::qemu
