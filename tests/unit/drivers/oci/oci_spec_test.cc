#include "drivers/oci/oci_spec.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "drivers/oci/seccomp.h"

namespace lintel::drivers::oci {
namespace {

using Strings = std::vector<std::string>;

TEST(ProcessArgsTest, KubernetesCommandAndArgsOverTheImage) {
  struct Case {
    const char* name;
    std::optional<Strings> command, args;
    Strings entrypoint, cmd;
    Strings want;
  } cases[] = {
      {"image defaults", std::nullopt, std::nullopt, {"/ep"}, {"a", "b"}, {"/ep", "a", "b"}},
      {"cmd only image", std::nullopt, std::nullopt, {}, {"/bin/sh"}, {"/bin/sh"}},
      {"args replace cmd", std::nullopt, Strings{"x"}, {"/ep"}, {"a"}, {"/ep", "x"}},
      {"command drops cmd", Strings{"/c"}, std::nullopt, {"/ep"}, {"a"}, {"/c"}},
      {"command and args", Strings{"/c"}, Strings{"y", "z"}, {"/ep"}, {"a"}, {"/c", "y", "z"}},
      {"empty args clear cmd", std::nullopt, Strings{}, {"/ep"}, {"a"}, {"/ep"}},
      {"args without entrypoint",
       std::nullopt,
       Strings{"-c", "echo"},
       {},
       {"/bin/sh"},
       {"-c", "echo"}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    ContainerPlan p;
    if (c.command) {
      p.command = *c.command;
      p.has_command = true;
    }
    if (c.args) {
      p.args = *c.args;
      p.has_args = true;
    }
    ImageDefaults img;
    img.entrypoint = c.entrypoint;
    img.cmd = c.cmd;
    auto got = ProcessArgs(p, img);
    ASSERT_TRUE(got.ok()) << got.error().ToString();
    EXPECT_EQ(*got, c.want);
  }
}

TEST(ProcessArgsTest, NothingToRunIsInvalid) {
  ContainerPlan p;
  auto got = ProcessArgs(p, ImageDefaults{});
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.error().code(), Code::kInvalid);
  EXPECT_NE(got.error().message().find("no command specified"), std::string::npos);
}

TEST(MergeEnvTest, ContainerOverridesImageAndExpands) {
  auto env = MergeEnv({"PATH=/img/bin", "A=1", "B=2", "junk"},
                      {{"B", "two"}, {"C", "$(A)-$(B)-$(NOPE)-$$(A)"}}, "web-0");
  EXPECT_EQ(env,
            (Strings{"PATH=/img/bin", "A=1", "B=two", "HOSTNAME=web-0", "C=1-two-$(NOPE)-$(A)"}));
}

TEST(MergeEnvTest, DefaultPathWhenTheImageHasNone) {
  auto env = MergeEnv({}, {}, "h");
  ASSERT_EQ(env.size(), 2u);
  EXPECT_EQ(env[0].rfind("PATH=/usr/local/sbin:", 0), 0u);
  EXPECT_EQ(env[1], "HOSTNAME=h");
}

TEST(CapabilitiesTest, DockerDefaultsWithAddAndDrop) {
  SecurityContext sc;
  EXPECT_EQ(EffectiveCapabilities(sc).size(), 14u);
  sc.drop_caps = {"NET_RAW", "cap_mknod"};
  sc.add_caps = {"NET_ADMIN", "CAP_CHOWN"};
  auto caps = EffectiveCapabilities(sc);
  EXPECT_EQ(caps.size(), 13u);
  EXPECT_EQ(std::count(caps.begin(), caps.end(), "CAP_NET_RAW"), 0);
  EXPECT_EQ(std::count(caps.begin(), caps.end(), "CAP_MKNOD"), 0);
  EXPECT_EQ(std::count(caps.begin(), caps.end(), "CAP_NET_ADMIN"), 1);
  EXPECT_EQ(std::count(caps.begin(), caps.end(), "CAP_CHOWN"), 1);
  sc.drop_caps = {"ALL"};
  sc.add_caps = {"NET_BIND_SERVICE"};
  EXPECT_EQ(EffectiveCapabilities(sc), (Strings{"CAP_NET_BIND_SERVICE"}));
}

TEST(OomScoreTest, QosClassesClampedToTheAgent) {
  HostLimits host;
  host.memory_bytes = int64_t{1000} << 20;
  PodPlan pod;
  pod.containers.resize(1);
  ContainerPlan& c = pod.containers[0];
  EXPECT_EQ(OomScoreAdj(pod, c, host), 1000);  // BestEffort
  c.resources.memory_request = int64_t{250} << 20;
  EXPECT_EQ(OomScoreAdj(pod, c, host), 750);  // Burstable: 1000 - 1000 * 250/1000
  c.resources.memory_limit = c.resources.memory_request;
  c.resources.cpu_limit = c.resources.cpu_request = 500;
  EXPECT_EQ(OomScoreAdj(pod, c, host), 0);  // Guaranteed -997, but never below the agent's
  host.own_oom_score_adj = -500;
  EXPECT_EQ(OomScoreAdj(pod, c, host), -500);
}

TEST(LinuxResourcesTest, LimitsAndRequests) {
  Resources r;
  r.memory_limit = 32 << 20;
  r.cpu_limit = 250;
  r.cpu_request = 100;
  Json j = LinuxResources(r, 4096);
  EXPECT_EQ(j["memory"]["limit"], 32 << 20);
  EXPECT_EQ(j["cpu"]["quota"], 25000);
  EXPECT_EQ(j["cpu"]["period"], 100000);
  EXPECT_EQ(j["cpu"]["shares"], 102);
  EXPECT_EQ(j["pids"]["limit"], 4096);
  Json none = LinuxResources(Resources{}, 0);
  EXPECT_FALSE(none.contains("memory"));
  EXPECT_FALSE(none.contains("cpu"));
  EXPECT_FALSE(none.contains("pids"));
  r.cpu_limit = 1;  // 1m: below the kernel's minimum quota
  EXPECT_EQ(LinuxResources(r, 0)["cpu"]["quota"], 1000);
}

class BuildConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    pod_.ns = "default";
    pod_.name = "web";
    pod_.uid = "u1";
    pod_.hostname = "web";
    ContainerPlan c;
    c.name = "main";
    c.image = "busybox";
    c.command = {"/bin/sh", "-c", "echo $(GREETING)"};
    c.has_command = true;
    c.env = {{"GREETING", "hi"}};
    c.volume_mounts = {{"data", "/data", false}, {"conf", "/etc/app", true}};
    pod_.containers.push_back(c);
    in_.pod = &pod_;
    in_.container = &pod_.containers[0];
    in_.image.env = {"PATH=/bin"};
    in_.image.working_dir = "/srv";
    in_.user = {1000, 1000, {2000}, "/home/app"};
    in_.rootfs = "/pods/u1/containers/main/0/rootfs";
    in_.cgroups_path = "/lintel/pods/u1/main";
    in_.sandbox = {"/run/lintel/netns/u1",
                   "/run/lintel/netns/u1.ipc",
                   "/run/lintel/netns/u1.uts",
                   "/pods/u1/etc/hosts",
                   "/pods/u1/etc/hostname",
                   "/pods/u1/etc/resolv.conf",
                   {{"data", "/pods/u1/volumes/data"}, {"conf", "/pods/u1/volumes/conf"}},
                   std::nullopt};
    in_.host.nofile = 20000;
  }
  static const Json* MountAt(const Json& config, const std::string& dest) {
    for (const auto& m : config["mounts"]) {
      if (m["destination"] == dest) return &m;
    }
    return nullptr;
  }
  PodPlan pod_;
  BundleInput in_;
};

TEST_F(BuildConfigTest, Process) {
  auto config = BuildConfig(in_);
  ASSERT_TRUE(config.ok()) << config.error().ToString();
  const Json& p = (*config)["process"];
  EXPECT_EQ(p["args"], Json({"/bin/sh", "-c", "echo hi"}));
  EXPECT_EQ(p["cwd"], "/srv");
  EXPECT_EQ(p["terminal"], false);
  EXPECT_EQ(p["user"], Json({{"uid", 1000}, {"gid", 1000}, {"additionalGids", {2000}}}));
  EXPECT_NE(std::find(p["env"].begin(), p["env"].end(), "HOME=/home/app"), p["env"].end());
  EXPECT_NE(std::find(p["env"].begin(), p["env"].end(), "GREETING=hi"), p["env"].end());
  EXPECT_EQ(p["rlimits"], Json::parse(R"([{"type": "RLIMIT_NOFILE", "hard": 20000,
                                            "soft": 20000}])"));
  EXPECT_EQ(p["noNewPrivileges"], true);
  EXPECT_GE(p["oomScoreAdj"].get<int>(), 0);
  EXPECT_EQ(p["capabilities"]["bounding"].size(), 14u);
  EXPECT_EQ(p["capabilities"]["effective"], p["capabilities"]["bounding"]);
  EXPECT_TRUE(p["capabilities"]["inheritable"].empty());
}

TEST_F(BuildConfigTest, PrivilegeEscalationOnlyWhenAsked) {
  pod_.containers[0].security.allow_privilege_escalation = true;
  EXPECT_EQ((*BuildConfig(in_))["process"]["noNewPrivileges"], false);
  pod_.containers[0].security.allow_privilege_escalation = false;
  EXPECT_EQ((*BuildConfig(in_))["process"]["noNewPrivileges"], true);
}

TEST_F(BuildConfigTest, RootAndMounts) {
  pod_.containers[0].security.read_only_root = true;
  auto config = BuildConfig(in_);
  ASSERT_TRUE(config.ok());
  EXPECT_EQ((*config)["root"], Json({{"path", in_.rootfs}, {"readonly", true}}));
  EXPECT_EQ((*config)["hostname"], "web");
  for (const char* dest :
       {"/proc", "/dev", "/dev/pts", "/dev/shm", "/dev/mqueue", "/sys", "/sys/fs/cgroup"}) {
    EXPECT_NE(MountAt(*config, dest), nullptr) << dest;
  }
  const Json* sys = MountAt(*config, "/sys");
  EXPECT_NE(std::find((*sys)["options"].begin(), (*sys)["options"].end(), "ro"),
            (*sys)["options"].end());
  const Json* hosts = MountAt(*config, "/etc/hosts");
  ASSERT_NE(hosts, nullptr);
  EXPECT_EQ((*hosts)["source"], "/pods/u1/etc/hosts");
  ASSERT_NE(MountAt(*config, "/etc/resolv.conf"), nullptr);
  ASSERT_NE(MountAt(*config, "/etc/hostname"), nullptr);
  const Json* data = MountAt(*config, "/data");
  ASSERT_NE(data, nullptr);
  EXPECT_EQ((*data)["source"], "/pods/u1/volumes/data");
  EXPECT_EQ((*data)["type"], "bind");
  EXPECT_NE(std::find((*data)["options"].begin(), (*data)["options"].end(), "rw"),
            (*data)["options"].end());
  const Json* conf = MountAt(*config, "/etc/app");
  ASSERT_NE(conf, nullptr);
  EXPECT_NE(std::find((*conf)["options"].begin(), (*conf)["options"].end(), "ro"),
            (*conf)["options"].end());
}

TEST_F(BuildConfigTest, UnpreparedVolumeIsInvalid) {
  in_.sandbox.volumes.erase("conf");
  auto config = BuildConfig(in_);
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.error().code(), Code::kInvalid);
}

TEST_F(BuildConfigTest, Linux) {
  pod_.containers[0].resources.memory_limit = 64 << 20;
  auto config = BuildConfig(in_);
  ASSERT_TRUE(config.ok());
  const Json& linux = (*config)["linux"];
  EXPECT_EQ(linux["cgroupsPath"], "/lintel/pods/u1/main");
  EXPECT_EQ(linux["resources"]["memory"]["limit"], 64 << 20);
  EXPECT_EQ(linux["resources"]["pids"]["limit"], 4096);
  std::map<std::string, std::string> ns;
  for (const auto& n : linux["namespaces"]) ns[n["type"]] = n.value("path", "");
  EXPECT_EQ(ns, (std::map<std::string, std::string>{{"pid", ""},
                                                    {"mount", ""},
                                                    {"cgroup", ""},
                                                    {"network", "/run/lintel/netns/u1"},
                                                    {"ipc", "/run/lintel/netns/u1.ipc"},
                                                    {"uts", "/run/lintel/netns/u1.uts"}}));
  EXPECT_EQ(linux["seccomp"], DefaultSeccompProfile());
  EXPECT_NE(std::find(linux["maskedPaths"].begin(), linux["maskedPaths"].end(), "/proc/kcore"),
            linux["maskedPaths"].end());
  EXPECT_NE(std::find(linux["readonlyPaths"].begin(), linux["readonlyPaths"].end(), "/proc/sys"),
            linux["readonlyPaths"].end());
}

TEST(SeccompTest, AllowByDefaultDenyTheDangerousWithEperm) {
  Json p = DefaultSeccompProfile();
  EXPECT_EQ(p["defaultAction"], "SCMP_ACT_ALLOW");
  ASSERT_EQ(p["syscalls"].size(), 1u);
  EXPECT_EQ(p["syscalls"][0]["action"], "SCMP_ACT_ERRNO");
  EXPECT_EQ(p["syscalls"][0]["errnoRet"], 1);
  const auto& denied = DeniedSyscalls();
  for (const char* name : {"kexec_load",
                           "init_module",
                           "finit_module",
                           "delete_module",
                           "reboot",
                           "swapon",
                           "swapoff",
                           "mount",
                           "umount2",
                           "pivot_root",
                           "unshare",
                           "setns",
                           "keyctl",
                           "add_key",
                           "request_key",
                           "bpf",
                           "perf_event_open",
                           "ptrace",
                           "process_vm_readv",
                           "process_vm_writev",
                           "open_by_handle_at",
                           "userfaultfd",
                           "iopl",
                           "ioperm",
                           "acct",
                           "settimeofday",
                           "clock_settime",
                           "adjtimex"}) {
    EXPECT_TRUE(std::binary_search(denied.begin(), denied.end(), name)) << name;
  }
  for (const char* allowed : {"clone", "clone3", "read", "execve", "socket"}) {
    EXPECT_FALSE(std::binary_search(denied.begin(), denied.end(), allowed)) << allowed;
  }
}

}  // namespace
}  // namespace lintel::drivers::oci
