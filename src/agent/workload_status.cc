#include "agent/workload_status.h"

#include "common/time_format.h"

namespace lintel::agent {

namespace {

using drivers::RunState;
using drivers::WorkloadKind;

Json Condition(bool ready, const std::string& reason, const std::string& message,
               Clock::WallTime since) {
  Json c = {{"type", "Ready"}, {"status", ready ? "True" : "False"}};
  if (!reason.empty()) c["reason"] = reason;
  if (!message.empty()) c["message"] = message;
  c["lastTransitionTime"] = FormatRfc3339(since);
  return c;
}

Json ContainerState(const drivers::ContainerStatus& c) {
  switch (c.state) {
    case RunState::kStarting:
      return {{"waiting", {{"reason", "ContainerCreating"}}}};
    case RunState::kRunning:
      return {{"running", {{"startedAt", FormatRfc3339(c.started_at)}}}};
    case RunState::kExited:
    case RunState::kFailed: {
      Json t = {{"exitCode", c.exit_code}, {"finishedAt", FormatRfc3339(c.finished_at)}};
      if (c.started_at != Clock::WallTime{}) t["startedAt"] = FormatRfc3339(c.started_at);
      if (!c.reason.empty()) t["reason"] = c.reason;
      if (!c.message.empty()) t["message"] = c.message;
      return {{"terminated", std::move(t)}};
    }
  }
  return Json::object();
}

Json ContainerStatuses(const drivers::WorkloadStatus& st) {
  Json out = Json::array();
  for (const auto& c : st.containers) {
    bool running = c.state == RunState::kRunning;
    Json cs = {{"name", c.name},
               {"ready", running},
               {"started", running},
               {"restartCount", c.restart_count},
               {"state", ContainerState(c)}};
    if (!c.image.empty()) cs["image"] = c.image;
    out.push_back(std::move(cs));
  }
  return out;
}

}  // namespace

bool IsTerminalPhase(WorkloadKind kind, const std::string& phase) {
  if (kind == WorkloadKind::kPod) return phase == "Succeeded" || phase == "Failed";
  return phase == "Stopped" || phase == "Failed";
}

std::optional<WorkloadReport> ReportFor(WorkloadKind kind, const drivers::WorkloadStatus& st) {
  WorkloadReport r;
  const bool pod = kind == WorkloadKind::kPod;
  switch (st.state) {
    case RunState::kStarting:
      return std::nullopt;
    case RunState::kRunning:
      r.phase = "Running";
      r.ready = true;
      r.ready_condition = Condition(true, "", "", st.started_at);
      break;
    case RunState::kExited:
      if (pod) {
        r.phase = st.exit_code == 0 ? "Succeeded" : "Failed";
      } else {
        r.phase = st.exit_code == 0 ? "Stopped" : "Failed";
      }
      r.ready_condition =
          Condition(false, pod ? "PodCompleted" : "Stopped", st.message, st.finished_at);
      break;
    case RunState::kFailed:
      r.phase = "Failed";
      r.ready_condition =
          Condition(false, st.reason.empty() ? "Failed" : st.reason, st.message, st.finished_at);
      break;
  }
  r.digest = r.phase + "/" + st.reason + "/" + std::to_string(st.exit_code);
  r.status["phase"] = r.phase;
  if (st.started_at != Clock::WallTime{}) r.status["startTime"] = FormatRfc3339(st.started_at);
  if (pod) {
    r.status["containerStatuses"] = ContainerStatuses(st);
    for (const auto& c : st.containers) r.digest += "/" + std::to_string(c.restart_count);
    if (!r.ready && !st.reason.empty()) r.status["reason"] = st.reason;
    if (!r.ready && !st.message.empty()) r.status["message"] = st.message;
  } else {
    if (!st.accelerator.empty()) r.status["accelerator"] = st.accelerator;
    if (!r.ready) {
      std::string why = st.reason;
      if (!st.message.empty()) why += (why.empty() ? "" : ": ") + st.message;
      if (!why.empty()) r.status["lastExitReason"] = why;
    }
  }
  return r;
}

WorkloadReport StartFailedReport(WorkloadKind kind, const drivers::WorkloadSpec& spec,
                                 const std::string& message, Clock::WallTime now) {
  drivers::WorkloadStatus st;
  st.state = RunState::kFailed;
  st.reason = "StartError";
  st.message = message;
  st.finished_at = now;
  if (kind == WorkloadKind::kPod) {
    auto it = spec.spec.find("containers");
    if (it != spec.spec.end() && it->is_array()) {
      for (const auto& c : *it) {
        drivers::ContainerStatus cs;
        cs.name = c.value("name", "");
        cs.image = c.value("image", "");
        cs.state = RunState::kFailed;
        cs.exit_code = 128;  // as runc reports a container that never started
        cs.reason = "StartError";
        cs.message = message;
        cs.finished_at = now;
        st.containers.push_back(std::move(cs));
      }
    }
  }
  return *ReportFor(kind, st);
}

}  // namespace lintel::agent
