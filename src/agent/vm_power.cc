// VirtualMachines: runStrategy and the power requests (start, stop, restart,
// pause, unpause) carried out through the driver.
//
// The driver applies runStrategy to exits it sees (Always boots again after
// any exit, RerunOnFailure after a failure); the agent applies what the API
// asks: a VM that should not run is stopped (gracefully, within its grace
// period) and kept, disks and all, until it should run again; a start request
// boots a VM that ended on its own; a restart request reboots it on the same
// disks; paused freezes its vCPUs.
#include "agent/vm_power.h"

#include <spdlog/spdlog.h>

#include "agent/host_agent.h"
#include "agent/workload_status.h"

namespace lintel::agent {

using drivers::RunState;

std::string AnnotationOf(const drivers::WorkloadSpec& spec, const char* key) {
  auto it = spec.annotations.find(key);
  return it == spec.annotations.end() ? "" : it->second;
}

std::string RunStrategyOf(const drivers::WorkloadSpec& spec) {
  auto it = spec.spec.find("runStrategy");
  return it != spec.spec.end() && it->is_string() ? it->get<std::string>() : "Always";
}

bool VmWantsRunning(const drivers::WorkloadSpec& spec) {
  const std::string strategy = RunStrategyOf(spec);
  if (strategy == "Always" || strategy == "RerunOnFailure") return true;
  if (strategy == "Manual") return AnnotationOf(spec, kPower) == "on";
  return false;
}

std::string VmPowerKey(const drivers::WorkloadSpec& spec) {
  return RunStrategyOf(spec) + "|" + AnnotationOf(spec, kPower) + "|" +
         AnnotationOf(spec, kStartRequested) + "|" + AnnotationOf(spec, kRestartRequested) + "|" +
         AnnotationOf(spec, kPaused);
}

void HostAgent::SetVmState(const std::string& uid, const std::function<void(Workload&)>& change) {
  std::lock_guard<std::mutex> l(mu_);
  auto it = workloads_.find(uid);
  if (it != workloads_.end()) change(it->second);
}

std::chrono::milliseconds HostAgent::ReconcileVm(const std::string& uid, const Workload& w) {
  const bool want = VmWantsRunning(w.spec);
  const std::string strategy = RunStrategyOf(w.spec);
  const std::string start_request = AnnotationOf(w.spec, kStartRequested);
  const std::string restart_request = AnnotationOf(w.spec, kRestartRequested);
  const auto grace = std::chrono::seconds(w.grace_seconds);
  const std::string what = "vm " + w.spec.ns + "/" + w.spec.name;

  if (!w.started) {
    // A VM that had ended when this agent first saw it boots again only if
    // it always runs or someone asked since.
    bool boot = want && w.start_error.empty() &&
                (!w.finished || strategy == "Always" || start_request != w.seen_start_request);
    if (boot) {
      SetVmState(uid, [&](Workload& cur) {
        cur.seen_start_request = start_request;
        cur.halted.clear();
        cur.finished = false;
      });
      Workload now = w;
      now.finished = false;
      auto again = StartWorkload(uid, now);
      if (again > std::chrono::milliseconds(0)) return again;
      Report(uid);
      return std::chrono::milliseconds(0);
    }
    if (!w.remains_checked) AdoptRemains(uid, w);
    if (!want) {
      SetVmState(uid, [&](Workload& cur) {
        cur.halted =
            strategy == "Manual" ? "runStrategy Manual: powered off" : "runStrategy " + strategy;
      });
    }
    // Taken back (an earlier agent ran it): the started branch decides now.
    bool adopted = false;
    SetVmState(uid, [&](Workload& cur) { adopted = cur.started; });
    if (adopted) ctx_->reconcile(name(), uid, std::chrono::milliseconds(0));
    Report(uid);
    return std::chrono::milliseconds(0);
  }

  auto st = driver_->StatusOf(uid);
  if (!st.ok()) {
    Report(uid);  // NotFound: Report starts it again
    return std::chrono::milliseconds(0);
  }
  const bool running = st->state == RunState::kRunning || st->state == RunState::kStarting;
  if (!want) {
    if (running) {
      RecordEvents(
          w.spec,
          {{"Normal", "Stopping",
            "Stopping the virtual machine (" +
                (strategy == "Manual" ? std::string("powered off") : "runStrategy " + strategy) +
                ", grace " + std::to_string(w.grace_seconds) + "s)"}});
      Status s = driver_->Stop(uid, grace);
      if (!s.ok() && s.code() != Code::kNotFound) {
        spdlog::warn("agent: stop {}: {}", what, s.ToString());
        return Backoff(uid);
      }
      SetVmState(uid, [](Workload& cur) { cur.stopped_by_request = true; });
    }
    Report(uid);
    return std::chrono::milliseconds(0);
  }
  if (!running) {
    if (w.stopped_by_request || start_request != w.seen_start_request) {
      Status s = driver_->Restart(uid, grace);
      if (!s.ok()) {
        spdlog::warn("agent: start {} again: {}", what, s.ToString());
        return Backoff(uid);
      }
      SetVmState(uid, [&](Workload& cur) {
        cur.stopped_by_request = false;
        cur.seen_start_request = start_request;
      });
    }
    Report(uid);
    return std::chrono::milliseconds(0);
  }
  if (restart_request != w.seen_restart_request) {
    SetVmState(uid, [&](Workload& cur) { cur.seen_restart_request = restart_request; });
    if (!restart_request.empty()) {
      RecordEvents(w.spec, {{"Normal", "Restarting", "Restarting the virtual machine by request"}});
      Status s = driver_->Restart(uid, grace);
      if (!s.ok()) {
        spdlog::warn("agent: restart {}: {}", what, s.ToString());
        RecordEvents(w.spec, {{"Warning", "RestartFailed", s.message()}});
      }
    }
  }
  const bool want_paused = AnnotationOf(w.spec, kPaused) == "true";
  if (st->state == RunState::kRunning && want_paused != st->paused) {
    Status s = want_paused ? driver_->Pause(uid) : driver_->Resume(uid);
    if (!s.ok()) {
      spdlog::warn("agent: {} {}: {}", want_paused ? "pause" : "unpause", what, s.ToString());
      if (s.retryable()) return Backoff(uid);
      RecordEvents(w.spec,
                   {{"Warning", want_paused ? "PauseFailed" : "UnpauseFailed", s.message()}});
    }
  }
  Report(uid);
  return std::chrono::milliseconds(0);
}

}  // namespace lintel::agent
