// Workload reconciliation: what the watches say is bound here, what the
// driver runs, and what the API was told, brought in line one uid at a time.
#include <spdlog/spdlog.h>

#include <algorithm>

#include "agent/host_agent.h"
#include "agent/resource_watch.h"
#include "agent/spec_refs.h"
#include "agent/vm_power.h"
#include "agent/workload_status.h"

namespace lintel::agent {

namespace {

using drivers::WorkloadKind;

const Json& At(const Json& obj, const char* a, const char* b) {
  static const Json kNull;
  if (!obj.is_object()) return kNull;
  auto it = obj.find(a);
  if (it == obj.end() || !it->is_object()) return kNull;
  auto jt = it->find(b);
  return jt == it->end() ? kNull : *jt;
}

std::string Str(const Json& j) { return j.is_string() ? j.get<std::string>() : ""; }

std::string ReadyOf(const Json& conditions) {
  if (!conditions.is_array()) return "";
  for (const auto& c : conditions) {
    if (c.is_object() && c.value("type", "") == "Ready") return c.value("status", "");
  }
  return "";
}

constexpr std::chrono::milliseconds kMaxBackoff{30'000};

}  // namespace

void HostAgent::OnWorkload(WorkloadKind kind, const Json& obj) {
  const std::string uid = UidOf(obj);
  if (uid.empty()) return;
  bool wake;
  bool vm_power_changed = false;
  {
    std::lock_guard<std::mutex> l(mu_);
    auto [it, inserted] = workloads_.try_emplace(uid);
    Workload& w = it->second;
    const Json& status = obj.value("status", Json::object());
    std::string phase = Str(At(obj, "status", "phase"));
    std::string ready = ReadyOf(status.value("conditions", Json::array()));
    bool terminating = At(obj, "metadata", "deletionTimestamp").is_string();
    if (inserted) {
      w.spec.kind = kind;
      w.spec.uid = uid;
      w.spec.ns = Str(At(obj, "metadata", "namespace"));
      w.spec.name = Str(At(obj, "metadata", "name"));
      // Already Running (or further) when first seen: an earlier agent started
      // it, so re-adopt it rather than start it twice.
      w.adopt = phase == "Running";
      w.finished = IsTerminalPhase(kind, phase);
    }
    w.spec.spec = obj.value("spec", Json::object());
    w.spec.annotations.clear();
    const Json& ann = At(obj, "metadata", "annotations");
    if (ann.is_object()) {
      for (auto a = ann.begin(); a != ann.end(); ++a) {
        if (a->is_string()) w.spec.annotations[a.key()] = a->get<std::string>();
      }
    }
    const Json& grace = At(obj, "spec", "terminationGracePeriodSeconds");
    if (grace.is_number_integer()) w.grace_seconds = grace.get<int64_t>();
    if (kind == WorkloadKind::kVirtualMachine) {
      std::string key = VmPowerKey(w.spec);
      if (inserted) {
        // Requests made before this agent saw the VM are history.
        w.seen_start_request = AnnotationOf(w.spec, kStartRequested);
        w.seen_restart_request = AnnotationOf(w.spec, kRestartRequested);
      } else if (key != w.power_key) {
        vm_power_changed = true;
      }
      w.power_key = std::move(key);
    }
    w.rv = Str(At(obj, "metadata", "resourceVersion"));
    w.conditions = status.value("conditions", Json::array());
    // Worth a reconcile: news, a deletion, or an API that no longer says what
    // we reported once it had said so (someone else wrote the status).
    wake = inserted || terminating != w.terminating || w.gone || vm_power_changed;
    if (!w.reported.empty()) {
      if (phase == w.reported_phase && ready == w.reported_ready) {
        w.confirmed = true;
      } else if (w.confirmed) {
        w.confirmed = false;
        w.reported.clear();
        wake = true;
      }
    }
    w.gone = false;
    w.terminating = terminating;
    w.observed_phase = std::move(phase);
    w.observed_ready = std::move(ready);
  }
  if (wake) ctx_->reconcile(name(), uid, std::chrono::milliseconds(0));
}

void HostAgent::OnWorkloadGone(const std::string& uid) {
  {
    std::lock_guard<std::mutex> l(mu_);
    auto it = workloads_.find(uid);
    if (it == workloads_.end()) return;
    it->second.gone = true;
  }
  ctx_->reconcile(name(), uid, std::chrono::milliseconds(0));
}

void HostAgent::OnDriverChange(const std::string& uid) {
  ctx_->reconcile(name(), uid, std::chrono::milliseconds(0));
}

std::chrono::milliseconds HostAgent::Backoff(const std::string& uid) {
  std::lock_guard<std::mutex> l(mu_);
  auto it = workloads_.find(uid);
  int n = it == workloads_.end() ? 0 : it->second.attempts++;
  return std::min(std::chrono::milliseconds(200) * (1 << std::min(n, 8)), kMaxBackoff);
}

std::chrono::milliseconds HostAgent::Reconcile(const std::string& uid) {
  Workload w;
  {
    std::lock_guard<std::mutex> l(mu_);
    auto it = workloads_.find(uid);
    if (it == workloads_.end()) return std::chrono::milliseconds(0);
    w = it->second;
  }
  if (w.gone || w.terminating) return StopWorkload(uid, w);
  if (w.spec.kind == WorkloadKind::kVirtualMachine) return ReconcileVm(uid, w);
  if (w.finished) {
    if (!w.started && !w.remains_checked) AdoptRemains(uid, w);
    return std::chrono::milliseconds(0);
  }
  if (!w.started && w.start_error.empty()) {
    auto again = StartWorkload(uid, w);
    if (again > std::chrono::milliseconds(0)) return again;
  }
  Report(uid);
  return std::chrono::milliseconds(0);
}

void HostAgent::AdoptRemains(const std::string& uid, const Workload& w) {
  // Ended before this agent saw it (an earlier agent ran it): the driver may
  // still keep what it left (logs, state, a directory). Taken back, its logs
  // can be read and deleting the workload removes them.
  bool adopted = false;
  if (auto kept = handles_->Get(uid)) {
    Status s = driver_->Recover(*kept, w.spec);
    adopted = s.ok();
    if (!s.ok() && s.code() != Code::kNotFound) {
      spdlog::warn("agent: take back ended {}/{} on {}: {}", w.spec.ns, w.spec.name, name(),
                   s.ToString());
    }
  }
  std::lock_guard<std::mutex> l(mu_);
  auto it = workloads_.find(uid);
  if (it == workloads_.end()) return;
  it->second.remains_checked = true;
  it->second.started = it->second.started || adopted;
}

std::chrono::milliseconds HostAgent::StopWorkload(const std::string& uid, const Workload& w) {
  if (w.started && !w.finished && !IsTerminalPhase(w.spec.kind, w.reported_phase) &&
      w.attempts == 0) {
    RecordEvents(
        w.spec,
        {{"Normal", "Killing",
          w.spec.kind == WorkloadKind::kPod
              ? "Stopping the pod's containers (grace " + std::to_string(w.grace_seconds) + "s)"
              : "Stopping the virtual machine (grace " + std::to_string(w.grace_seconds) + "s)"}});
  }
  if (w.started) {
    Status s = driver_->Stop(uid, std::chrono::seconds(w.grace_seconds));
    if (s.ok() || s.code() == Code::kNotFound) s = driver_->Destroy(uid);
    if (!s.ok() && s.code() != Code::kNotFound) {
      spdlog::warn("agent: stop {} {}/{} on {}: {}",
                   w.spec.kind == WorkloadKind::kPod ? "pod" : "vm", w.spec.ns, w.spec.name, name(),
                   s.ToString());
      return Backoff(uid);
    }
    handles_->Delete(uid);
  }
  std::lock_guard<std::mutex> l(mu_);
  auto it = workloads_.find(uid);
  if (it == workloads_.end()) return std::chrono::milliseconds(0);
  if (w.started) ++counters_.stops;
  if (it->second.gone) {
    workloads_.erase(it);  // nothing more to do for it here
  } else {
    // Terminating but still here (finalizers): stopped, and left alone.
    it->second.started = false;
    it->second.finished = true;
  }
  return std::chrono::milliseconds(0);
}

std::chrono::milliseconds HostAgent::StartWorkload(const std::string& uid, const Workload& w) {
  bool started = false;
  bool recovered = false;
  std::string error;
  if (w.adopt) {
    drivers::Handle h;
    if (auto kept = handles_->Get(uid)) {
      h = std::move(*kept);
    } else {
      h.driver = caps_.name;
      h.uid = uid;
    }
    Status s = driver_->Recover(h, w.spec);
    if (s.ok()) {
      started = recovered = true;
    } else if (s.code() != Code::kNotFound) {
      spdlog::warn("agent: recover {}/{} on {}: {}", w.spec.ns, w.spec.name, name(), s.ToString());
      if (s.retryable()) return Backoff(uid);
      // Unrecoverable handle: start it anew below.
    }
  }
  if (!started) {
    auto resolved = ResolveSpecReferences(*ctx_->client, w.spec);
    auto h = resolved.ok() ? driver_->Start(*resolved) : Result<drivers::Handle>(resolved.error());
    if (h.ok()) {
      Status put = handles_->Put(*h);
      if (!put.ok()) {
        // Without its handle a restarted agent could not find it: undo.
        spdlog::warn("agent: keep handle of {}/{}: {}", w.spec.ns, w.spec.name, put.ToString());
        (void)driver_->Destroy(uid);
        return Backoff(uid);
      }
      started = true;
    } else if (h.error().code() == Code::kAlreadyExists) {
      started = true;  // the driver has it (started before we lost track)
    } else if (h.error().retryable()) {
      spdlog::warn("agent: start {}/{} on {}: {}", w.spec.ns, w.spec.name, name(),
                   h.error().ToString());
      // Said once per reason (no free address, the network not ready yet, ...):
      // the workload stays pending and is tried again with back-off.
      bool tell = false;
      {
        std::lock_guard<std::mutex> l(mu_);
        auto it = workloads_.find(uid);
        if (it != workloads_.end() && it->second.retry_error != h.error().message()) {
          it->second.retry_error = h.error().message();
          tell = true;
        }
      }
      if (tell) {
        RecordEvents(w.spec, {{"Warning", "FailedStart",
                               "cannot start on " + name() +
                                   " yet (trying again): " + h.error().message()}});
      }
      return Backoff(uid);
    } else {
      error = h.error().message();
      spdlog::info("agent: start {}/{} on {} failed: {}", w.spec.ns, w.spec.name, name(), error);
    }
  }
  std::lock_guard<std::mutex> l(mu_);
  auto it = workloads_.find(uid);
  if (it == workloads_.end()) return std::chrono::milliseconds(0);
  Workload& cur = it->second;
  cur.started = started;
  cur.start_error = error;
  cur.attempts = 0;
  cur.retry_error.clear();
  if (recovered) {
    ++counters_.recovers;
  } else if (started) {
    ++counters_.starts;
  } else {
    ++counters_.start_failures;
  }
  // Deleted meanwhile: the pool runs Reconcile again and stops it.
  return std::chrono::milliseconds(0);
}

void HostAgent::Report(const std::string& uid) {
  std::optional<WorkloadReport> report;
  {
    std::lock_guard<std::mutex> l(mu_);
    auto it = workloads_.find(uid);
    if (it == workloads_.end()) return;
    if (!it->second.start_error.empty()) {
      report = StartFailedReport(it->second.spec.kind, it->second.spec, it->second.start_error,
                                 ctx_->clock->Now());
    } else if (!it->second.started && !it->second.halted.empty()) {
      drivers::WorkloadStatus st;  // a VM kept stopped by its runStrategy
      st.state = drivers::RunState::kExited;
      st.reason = "Halted";
      st.message = it->second.halted;
      report = ReportFor(it->second.spec.kind, st);
    }
  }
  if (!report) {
    auto st = driver_->StatusOf(uid);
    if (!st.ok()) {
      if (st.error().code() == Code::kNotFound) {
        // The driver lost it (it should not): start it again.
        std::lock_guard<std::mutex> l(mu_);
        auto it = workloads_.find(uid);
        if (it != workloads_.end()) {
          it->second.started = false;
          it->second.adopt = false;
        }
        ctx_->reconcile(name(), uid, std::chrono::seconds(1));
      }
      return;
    }
    drivers::WorkloadKind kind;
    {
      std::lock_guard<std::mutex> l(mu_);
      auto it = workloads_.find(uid);
      if (it == workloads_.end()) return;
      kind = it->second.spec.kind;
    }
    report = ReportFor(kind, *st);
    if (!report) return;  // Starting: nothing to say yet
  }
  WorkloadStatusPatch p;
  std::vector<WorkloadEvent> events;
  drivers::WorkloadSpec spec;
  {
    std::lock_guard<std::mutex> l(mu_);
    auto it = workloads_.find(uid);
    if (it == workloads_.end()) return;
    Workload& w = it->second;
    if (w.reported == report->digest) return;
    w.reported = report->digest;
    w.reported_phase = report->phase;
    w.reported_ready = report->ready ? "True" : "False";
    Json before = std::exchange(w.reported_status, report->status);
    w.confirmed = w.observed_phase == w.reported_phase && w.observed_ready == w.reported_ready;
    // The API says so already (an earlier agent wrote it): nothing to write.
    // Not for Pending, whose reasons (ErrImagePull, then ImagePullBackOff)
    // change under one phase.
    if (w.confirmed && report->phase != "Pending") return;
    events = EventsBetween(w.spec.kind, before, report->status);
    spec = w.spec;
    p.resource = ResourceOf(w.spec.kind);
    p.ns = w.spec.ns;
    p.name = w.spec.name;
    p.uid = uid;
    p.host = name();
    p.resource_version = w.rv;
    p.current_conditions = w.conditions;
    ++counters_.reports;
  }
  p.status = std::move(report->status);
  p.conditions = Json::array({std::move(report->ready_condition)});
  client::Client* c = ctx_->client;
  ctx_->writer->Submit("workload/" + uid,
                       [c, p = std::move(p)]() { return WriteWorkloadStatus(*c, p); });
  RecordEvents(spec, events);
}

void HostAgent::RecordEvents(const drivers::WorkloadSpec& w,
                             const std::vector<WorkloadEvent>& events) {
  if (ctx_->events == nullptr || events.empty()) return;
  Json about = {{"apiVersion", "lintel.dev/v1alpha1"},
                {"kind", w.kind == WorkloadKind::kPod ? "Pod" : "VirtualMachine"},
                {"metadata", {{"name", w.name}, {"namespace", w.ns}, {"uid", w.uid}}}};
  controllers::EventRecorder* recorder = ctx_->events;
  // Each Event its own key (never coalesced), after the status write it
  // describes; a failed Event write is dropped by the recorder (history).
  static std::atomic<uint64_t> sequence{0};
  for (const auto& e : events) {
    ctx_->writer->Submit("event/" + std::to_string(sequence++), [recorder, about, e] {
      recorder->Record(about, e.type, e.reason, e.message);
      return Status();
    });
  }
}

int HostAgent::ReapOrphans(const std::unordered_set<std::string>& listed) {
  int reaped = 0;
  for (const drivers::Handle& h : handles_->List()) {
    if (listed.count(h.uid)) continue;
    {
      std::lock_guard<std::mutex> l(mu_);
      if (workloads_.count(h.uid)) continue;  // arrived since the list
    }
    // Only a VM driver keeps handles named "qemu"; the kind routes the
    // recovery in a driver that runs both.
    drivers::WorkloadSpec spec;
    spec.kind = h.driver == "qemu" ? WorkloadKind::kVirtualMachine : WorkloadKind::kPod;
    spec.uid = h.uid;
    Status s = driver_->Recover(h, spec);
    if (s.ok()) s = driver_->Destroy(h.uid);
    if (!s.ok() && s.code() != Code::kNotFound) {
      spdlog::warn("agent: {}: reap {} {} (gone from the API): {}", name(), h.driver, h.uid,
                   s.ToString());
      continue;  // kept: tried again at the next start
    }
    handles_->Delete(h.uid);
    spdlog::info("agent: {}: reaped {} workload {}: gone from the API while the agent was down",
                 name(), h.driver, h.uid);
    ++reaped;
  }
  return reaped;
}

}  // namespace lintel::agent
