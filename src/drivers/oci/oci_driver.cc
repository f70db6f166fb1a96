#include "drivers/oci/oci_driver.h"

#include <spdlog/spdlog.h>
#include <sys/resource.h>

#include <sstream>

#include "common/fs.h"
#include "drivers/oci/cgroups.h"
#include "drivers/oci/k8s_log.h"
#include "drivers/oci/pod_plan.h"

namespace lintel::drivers::oci {

namespace {

constexpr char kDriverName[] = "oci";

}  // namespace

HostLimits ReadHostLimits() {
  HostLimits h;
  struct rlimit rl;
  if (::getrlimit(RLIMIT_NOFILE, &rl) == 0) {
    h.nofile = rl.rlim_max == RLIM_INFINITY ? 1048576 : std::min<uint64_t>(rl.rlim_max, 1048576);
  }
  if (auto adj = ReadFile("/proc/self/oom_score_adj"); adj.ok()) {
    h.own_oom_score_adj = std::atoi(adj->c_str());
  }
  if (auto mem = ReadFile("/proc/meminfo"); mem.ok()) {
    std::istringstream in(*mem);
    std::string key;
    int64_t kb = 0;
    std::string unit;
    while (in >> key >> kb >> unit) {
      if (key == "MemTotal:") {
        h.memory_bytes = kb * 1024;
        break;
      }
    }
  }
  return h;
}

Result<std::unique_ptr<OciDriver>> OciDriver::Create(OciOptions options) {
  if (!options.rootfs) return BadRequest("oci driver: no rootfs provider");
  if (options.data_dir.empty()) return BadRequest("oci driver: no data directory");
  LINTEL_ASSIGN_OR_RETURN(RuntimeInfo info, SelectRuntime(options.runtime));
  LINTEL_ASSIGN_OR_RETURN(std::string conmon, FindExecutable(options.conmon));
  const std::string root = options.data_dir + "/oci";
  for (const std::string& dir :
       {root + "/pods", root + "/runc", options.run_dir + "/netns", options.run_dir + "/s"}) {
    LINTEL_RETURN_IF_ERROR(MakeDirs(dir, 0700));
  }
  auto runtime = std::make_unique<OciRuntime>(std::move(info), root + "/runc");
  HostLimits host = ReadHostLimits();
  spdlog::info("oci: runtime {} ({}), conmon {}, RLIMIT_NOFILE {}", runtime->Describe(),
               runtime->info().path, conmon, host.nofile);
  return std::unique_ptr<OciDriver>(
      new OciDriver(std::move(options), std::move(runtime), std::move(conmon), host));
}

OciDriver::OciDriver(OciOptions options, std::unique_ptr<OciRuntime> runtime, std::string conmon,
                     HostLimits host)
    : options_(std::move(options)), runtime_(std::move(runtime)) {
  env_.clock = options_.clock;
  env_.runtime = runtime_.get();
  env_.conmon = std::move(conmon);
  env_.rootfs = options_.rootfs;
  env_.host = host;
  env_.backoff = options_.backoff;
  env_.socket_dir = options_.run_dir + "/s";
  env_.ns_dir = options_.run_dir + "/netns";
  env_.cgroup_root = options_.cgroup_root;
  env_.log_max_bytes = options_.log_max_bytes;
  env_.pids_limit = options_.pids_limit;
  env_.housekeeping = options_.housekeeping;
  env_.network = options_.network;
  env_.notify = [this](const std::string& uid, const WorkloadStatus& st) { Notify(uid, st); };
}

OciDriver::~OciDriver() {
  std::map<std::string, std::shared_ptr<PodRunner>> pods;
  {
    std::lock_guard<std::mutex> l(mu_);
    pods.swap(pods_);
  }
  for (auto& [uid, runner] : pods) runner->Detach();
}

Capabilities OciDriver::capabilities() const {
  Capabilities c;
  c.name = kDriverName;
  c.pods = true;
  c.outlives_agent = true;
  c.logs = true;
  c.exec = true;
  c.oci_runtime = runtime_->Describe();
  return c;
}

void OciDriver::SetListener(Listener listener) {
  std::unique_lock<std::shared_mutex> l(listener_mu_);
  listener_ = std::move(listener);
}

void OciDriver::Notify(const std::string& uid, const WorkloadStatus& status) {
  std::shared_lock<std::shared_mutex> l(listener_mu_);
  if (listener_) listener_(uid, status);
}

std::string OciDriver::PodDir(const std::string& uid) const {
  return options_.data_dir + "/oci/pods/" + uid;
}

std::shared_ptr<PodRunner> OciDriver::Find(const std::string& uid) const {
  std::lock_guard<std::mutex> l(mu_);
  auto it = pods_.find(uid);
  return it == pods_.end() ? nullptr : it->second;
}

Result<Handle> OciDriver::Start(const WorkloadSpec& spec) {
  if (spec.kind != WorkloadKind::kPod) return NotSupported("the oci driver runs Pods only");
  if (spec.uid.empty() || spec.uid.find('/') != std::string::npos || spec.uid[0] == '.') {
    return BadRequest("oci driver: bad uid \"" + spec.uid + "\"");
  }
  LINTEL_ASSIGN_OR_RETURN(PodPlan plan, ParsePodPlan(spec));
  const std::string dir = PodDir(spec.uid);
  auto runner = std::make_shared<PodRunner>(&env_, std::move(plan), dir);
  {
    std::lock_guard<std::mutex> l(mu_);
    if (pods_.count(spec.uid)) return AlreadyExists("pod " + spec.uid + " runs here already");
    pods_[spec.uid] = runner;
  }
  // A directory left by an agent that died before it kept the handle: the
  // Pod exists, so adopt it rather than start it twice.
  bool exists = FileExists(dir + "/state.json");
  Status s = exists ? runner->Adopt(spec.spec) : runner->Begin(spec.spec);
  if (!s.ok()) {
    std::lock_guard<std::mutex> l(mu_);
    pods_.erase(spec.uid);
    if (pods_.empty()) ReleaseShared();
    return s.Wrap("start pod " + spec.ns + "/" + spec.name);
  }
  Handle h;
  h.driver = kDriverName;
  h.uid = spec.uid;
  h.state = {{"podDir", dir}, {"runtime", runtime_->info().name}};
  return h;
}

Status OciDriver::Recover(const Handle& handle, const WorkloadSpec& spec) {
  if (Find(handle.uid)) return Status();
  std::string dir = handle.state.is_object() ? handle.state.value("podDir", "") : "";
  if (dir.empty()) dir = PodDir(handle.uid);
  if (!FileExists(dir + "/state.json")) return NotFound("pod " + handle.uid + " is not here");
  WorkloadSpec s = spec;
  s.uid = handle.uid;
  if (s.spec.empty()) {
    auto rec = LoadPodRecord(dir + "/state.json");
    if (!rec.ok()) return rec.error();
    s.spec = rec->spec;
    s.ns = rec->ns;
    s.name = rec->name;
  }
  LINTEL_ASSIGN_OR_RETURN(PodPlan plan, ParsePodPlan(s));
  auto runner = std::make_shared<PodRunner>(&env_, std::move(plan), dir);
  {
    std::lock_guard<std::mutex> l(mu_);
    if (pods_.count(handle.uid)) return Status();
    pods_[handle.uid] = runner;
  }
  Status st = runner->Adopt(s.spec);
  if (!st.ok()) {
    std::lock_guard<std::mutex> l(mu_);
    pods_.erase(handle.uid);
    return st;
  }
  return Status();
}

Status OciDriver::Stop(const std::string& uid, std::chrono::milliseconds grace) {
  auto runner = Find(uid);
  if (!runner) return NotFound("pod " + uid + " is not known to the oci driver");
  runner->Stop(grace);
  return Status();
}

Status OciDriver::Destroy(const std::string& uid) {
  auto runner = Find(uid);
  if (!runner) {
    // Not adopted in this process (the agent restarted): adopt to tear down.
    Handle h;
    h.uid = uid;
    if (!Recover(h, WorkloadSpec{}).ok()) return NotFound("pod " + uid + " is not here");
    runner = Find(uid);
    if (!runner) return NotFound("pod " + uid + " is not here");
  }
  Status s = runner->Destroy();
  std::lock_guard<std::mutex> l(mu_);
  pods_.erase(uid);
  if (pods_.empty()) ReleaseShared();
  return s;
}

void OciDriver::ReleaseShared() { RemoveCgroupTree(options_.cgroup_root + "/pods", ""); }

Result<WorkloadStatus> OciDriver::StatusOf(const std::string& uid) const {
  auto runner = Find(uid);
  if (!runner) return NotFound("pod " + uid + " is not known to the oci driver");
  return runner->Snapshot();
}

std::optional<RunRecord> OciDriver::CurrentRun(const std::string& uid,
                                               const std::string& container) const {
  auto runner = Find(uid);
  if (!runner) return std::nullopt;
  return runner->CurrentRun(container);
}

Status OciDriver::Logs(const std::string& uid, const LogOptions& options, const LogSink& sink) {
  auto runner = Find(uid);
  if (!runner) return NotFound("pod " + uid + " is not known to the oci driver");
  LINTEL_ASSIGN_OR_RETURN(PodRunner::LogTarget t,
                          runner->LogFor(options.container, options.previous));
  LINTEL_ASSIGN_OR_RETURN(LogPosition pos,
                          ReadLogs({RotatedPath(t.path), t.path}, options.tail_lines, sink));
  if (!options.follow || !t.active) return Status();
  return FollowLog(t.path, pos, sink, [runner, t, &options] {
    return !runner->RunActive(t.container, t.run) || (options.cancelled && options.cancelled());
  });
}

}  // namespace lintel::drivers::oci
