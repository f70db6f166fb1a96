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
  if (since != Clock::WallTime{}) c["lastTransitionTime"] = FormatRfc3339(since);
  return c;
}

Json Terminated(int exit_code, int signal, const std::string& reason, const std::string& message,
                Clock::WallTime started, Clock::WallTime finished, const std::string& id) {
  Json t = {{"exitCode", exit_code}, {"finishedAt", FormatRfc3339(finished)}};
  if (signal != 0) t["signal"] = signal;
  if (started != Clock::WallTime{}) t["startedAt"] = FormatRfc3339(started);
  if (!reason.empty()) t["reason"] = reason;
  if (!message.empty()) t["message"] = message;
  if (!id.empty()) t["containerID"] = id;
  return {{"terminated", std::move(t)}};
}

Json ContainerState(const drivers::ContainerStatus& c) {
  switch (c.state) {
    case RunState::kStarting: {
      // Waiting: ContainerCreating, CrashLoopBackOff, ErrImagePull, ...
      Json w = {{"reason", c.reason.empty() ? "ContainerCreating" : c.reason}};
      if (!c.message.empty()) w["message"] = c.message;
      return {{"waiting", std::move(w)}};
    }
    case RunState::kRunning:
      return {{"running", {{"startedAt", FormatRfc3339(c.started_at)}}}};
    case RunState::kExited:
    case RunState::kFailed:
      return Terminated(c.exit_code, c.signal, c.reason, c.message, c.started_at, c.finished_at,
                        c.container_id);
  }
  return Json::object();
}

Json ContainerStatuses(const drivers::WorkloadStatus& st) {
  Json out = Json::array();
  for (const auto& c : st.containers) {
    bool running = c.state == RunState::kRunning;
    Json cs = {{"name", c.name},
               {"ready", running && c.ready.value_or(true)},
               {"started", running},
               {"restartCount", c.restart_count},
               {"state", ContainerState(c)}};
    if (!c.image.empty()) cs["image"] = c.image;
    if (!c.image_id.empty()) cs["imageID"] = c.image_id;
    if (!c.container_id.empty()) cs["containerID"] = c.container_id;
    if (const auto& t = c.last_termination) {
      cs["lastState"] = Terminated(t->exit_code, t->signal, t->reason, t->message, t->started_at,
                                   t->finished_at, "");
    }
    out.push_back(std::move(cs));
  }
  return out;
}

// Names every change worth a write: phase, readiness, and each container's
// state, reason, readiness and restarts.
std::string Digest(const std::string& phase, const drivers::WorkloadStatus& st, bool ready) {
  std::string d = phase + "/" + st.reason + "/" + std::to_string(st.exit_code) + "/" + st.ip;
  if (!ready && st.state == RunState::kRunning) d += "/unready";
  for (const auto& c : st.containers) {
    d += "/" + std::to_string(c.restart_count);
    if (c.state != RunState::kRunning || c.ready.has_value()) {
      d += ":" + std::string(drivers::RunStateName(c.state)) + ":" + c.reason +
           (c.ready.value_or(false) ? ":ready" : "");
    }
  }
  return d;
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
    case RunState::kStarting: {
      // A Pod still starting is reported only once something holds it up
      // (ErrImagePull, ImagePullBackOff, CrashLoopBackOff, ...): a start
      // that simply takes its time costs no write.
      if (!pod) return std::nullopt;
      const drivers::ContainerStatus* stuck = nullptr;
      for (const auto& c : st.containers) {
        if (c.state == RunState::kStarting && !c.reason.empty() &&
            c.reason != "ContainerCreating") {
          stuck = &c;
          break;
        }
      }
      if (stuck == nullptr) return std::nullopt;
      r.phase = "Pending";
      r.ready_condition = Condition(false, "ContainersNotReady",
                                    "container " + stuck->name + ": " + stuck->reason +
                                        (stuck->message.empty() ? "" : ": " + stuck->message),
                                    Clock::WallTime{});
      break;
    }
    case RunState::kRunning:
      if (!pod && st.paused) {
        r.phase = "Paused";
        r.ready = false;
        r.ready_condition = Condition(false, "Paused", "paused by request", Clock::WallTime{});
        break;
      }
      r.phase = "Running";
      r.ready = st.ready.value_or(true);
      r.ready_condition = r.ready ? Condition(true, "", "", st.started_at)
                                  : Condition(false, st.reason, st.message, st.started_at);
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
  r.digest = Digest(r.phase, st, r.ready);
  r.status["phase"] = r.phase;
  if (st.started_at != Clock::WallTime{}) r.status["startTime"] = FormatRfc3339(st.started_at);
  if (!st.ip.empty()) {
    if (pod) {
      r.status["podIP"] = st.ip;
      r.status["podIPs"] = Json::array({{{"ip", st.ip}}});
    } else {
      r.status["ip"] = st.ip;
      r.status["ipAddresses"] = Json::array({st.ip});
    }
  }
  if (pod) {
    r.status["containerStatuses"] = ContainerStatuses(st);
    // A Running Pod that is not ready says why in its Ready condition only.
    bool ended = st.state != RunState::kRunning;
    if (ended && !st.reason.empty()) r.status["reason"] = st.reason;
    if (ended && !st.message.empty()) r.status["message"] = st.message;
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

namespace {

const Json& Field(const Json& obj, const char* key) {
  static const Json kNull;
  if (!obj.is_object()) return kNull;
  auto it = obj.find(key);
  return it == obj.end() ? kNull : *it;
}

std::string Text(const Json& obj, const char* key) {
  const Json& v = Field(obj, key);
  return v.is_string() ? v.get<std::string>() : "";
}

const Json& ContainerNamed(const Json& status, const std::string& name) {
  static const Json kNull;
  const Json& list = Field(status, "containerStatuses");
  if (!list.is_array()) return kNull;
  for (const auto& c : list) {
    if (Text(c, "name") == name) return c;
  }
  return kNull;
}

void ContainerEvents(const Json& before, const Json& after, std::vector<WorkloadEvent>* out) {
  const std::string name = Text(after, "name");
  const std::string image = Text(after, "image");
  const Json& was = Field(before, "state");
  const Json& now = Field(after, "state");
  const Json& running = Field(now, "running");
  const Json& waiting = Field(now, "waiting");
  const Json& terminated = Field(now, "terminated");
  if (running.is_object() &&
      Text(running, "startedAt") != Text(Field(was, "running"), "startedAt")) {
    out->push_back({"Normal", "Started", "Started container " + name});
  }
  const std::string why = Text(waiting, "reason");
  if (!why.empty() && why != Text(Field(was, "waiting"), "reason")) {
    const std::string msg = Text(waiting, "message");
    if (why == "ErrImagePull" || why == "ErrImageNeverPull") {
      out->push_back({"Warning", "Failed",
                      "Failed to pull image \"" + image + "\"" + (msg.empty() ? "" : ": " + msg)});
    } else if (why == "ImagePullBackOff") {
      out->push_back({"Normal", "BackOff", "Back-off pulling image \"" + image + "\""});
    } else if (why == "CrashLoopBackOff") {
      out->push_back({"Warning", "BackOff", "Back-off restarting failed container " + name});
    }
  }
  // A run that ended: as its own state, or as lastState once restarted.
  const Json* ended = terminated.is_object() ? &terminated : nullptr;
  const Json& last = Field(after, "lastState");
  if (!ended && Field(last, "terminated").is_object() &&
      Field(last, "terminated") != Field(Field(before, "lastState"), "terminated")) {
    ended = &Field(last, "terminated");
  }
  if (ended && *ended != Field(was, "terminated")) {
    const Json& code = Field(*ended, "exitCode");
    const std::string reason = Text(*ended, "reason");
    if (reason == "OOMKilled") {
      out->push_back({"Warning", "OOMKilled",
                      "Container " + name + " was killed: out of memory (its memory limit)"});
    } else if (code.is_number_integer() && code.get<int64_t>() != 0 && reason != "StartError") {
      out->push_back({"Warning", "Terminated",
                      "Container " + name + " exited with code " +
                          std::to_string(code.get<int64_t>()) +
                          (reason.empty() ? "" : " (" + reason + ")")});
    }
  }
}

}  // namespace

std::vector<WorkloadEvent> EventsBetween(WorkloadKind kind, const Json& before, const Json& after) {
  std::vector<WorkloadEvent> out;
  const std::string phase = Text(after, "phase");
  const bool phase_changed = phase != Text(before, "phase");
  if (kind == WorkloadKind::kPod) {
    const Json& list = Field(after, "containerStatuses");
    if (list.is_array()) {
      for (const auto& c : list) ContainerEvents(ContainerNamed(before, Text(c, "name")), c, &out);
    }
    if (phase_changed && phase == "Failed" && Text(after, "reason") == "StartError") {
      out.push_back({"Warning", "Failed", Text(after, "message")});
    }
    return out;
  }
  if (!phase_changed) return out;
  if (phase == "Paused") {
    out.push_back({"Normal", "Paused", "The virtual machine's vCPUs are frozen"});
  } else if (phase == "Running" && Text(before, "phase") == "Paused") {
    out.push_back({"Normal", "Unpaused", "The virtual machine runs again"});
  } else if (phase == "Running") {
    out.push_back({"Normal", "Started",
                   "Started virtual machine" + (Text(after, "accelerator").empty()
                                                    ? std::string()
                                                    : " (" + Text(after, "accelerator") + ")")});
  } else if (phase == "Stopped") {
    const std::string why = Text(after, "lastExitReason");
    out.push_back(
        {"Normal", "Stopped",
         why.empty() ? "The virtual machine stopped" : "The virtual machine stopped: " + why});
  } else if (phase == "Failed") {
    const std::string why = Text(after, "lastExitReason");
    out.push_back({"Warning", "Failed", why.empty() ? "The virtual machine failed" : why});
  }
  return out;
}

}  // namespace lintel::agent
