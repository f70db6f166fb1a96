#include "drivers/oci/pod_state.h"

#include "common/fs.h"

namespace lintel::drivers::oci {

namespace {

int64_t ToNanos(Clock::WallTime t) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}

Clock::WallTime FromNanos(int64_t n) {
  return Clock::WallTime(
      std::chrono::duration_cast<Clock::WallTime::duration>(std::chrono::nanoseconds(n)));
}

Json TerminationToJson(const Termination& t) {
  return {{"exitCode", t.exit_code},
          {"signal", t.signal},
          {"reason", t.reason},
          {"message", t.message},
          {"startedAt", ToNanos(t.started_at)},
          {"finishedAt", ToNanos(t.finished_at)}};
}

Termination TerminationFromJson(const Json& j) {
  Termination t;
  t.exit_code = j.value("exitCode", 0);
  t.signal = j.value("signal", 0);
  t.reason = j.value("reason", "");
  t.message = j.value("message", "");
  t.started_at = FromNanos(j.value("startedAt", int64_t{0}));
  t.finished_at = FromNanos(j.value("finishedAt", int64_t{0}));
  return t;
}

Json RunToJson(const RunRecord& r) {
  return {{"run", r.run},
          {"id", r.id},
          {"imageID", r.image_id},
          {"startedAt", ToNanos(r.started_at)},
          {"conmonPid", r.conmon_pid},
          {"pid", r.pid}};
}

RunRecord RunFromJson(const Json& j) {
  RunRecord r;
  r.run = j.value("run", 0);
  r.id = j.value("id", "");
  r.image_id = j.value("imageID", "");
  r.started_at = FromNanos(j.value("startedAt", int64_t{0}));
  r.conmon_pid = j.value("conmonPid", 0);
  r.pid = j.value("pid", 0);
  return r;
}

}  // namespace

Json PodRecordToJson(const PodRecord& r) {
  Json containers = Json::array();
  for (const auto& c : r.containers) {
    Json j = {{"name", c.name},
              {"runs", c.runs},
              {"consecutive", c.consecutive},
              {"pullFailures", c.pull_failures},
              {"done", c.done},
              {"nextStart", ToNanos(c.next_start)},
              {"waitingReason", c.waiting_reason},
              {"waitingMessage", c.waiting_message},
              {"imageID", c.image_id}};
    if (c.current) j["current"] = RunToJson(*c.current);
    if (c.last) j["last"] = TerminationToJson(*c.last);
    containers.push_back(std::move(j));
  }
  return {{"version", PodRecord::kVersion},
          {"uid", r.uid},
          {"namespace", r.ns},
          {"name", r.name},
          {"spec", r.spec},
          {"runningSince", ToNanos(r.running_since)},
          {"stopping", r.stopping},
          {"containers", std::move(containers)}};
}

Result<PodRecord> PodRecordFromJson(const Json& j) {
  if (!j.is_object() || j.value("version", 0) != PodRecord::kVersion || !j.contains("containers") ||
      !j["containers"].is_array()) {
    return Invalid("pod state: unknown version or shape");
  }
  try {
    PodRecord r;
    r.uid = j.value("uid", "");
    r.ns = j.value("namespace", "");
    r.name = j.value("name", "");
    r.spec = j.value("spec", Json::object());
    r.running_since = FromNanos(j.value("runningSince", int64_t{0}));
    r.stopping = j.value("stopping", false);
    for (const auto& cj : j["containers"]) {
      ContainerRecord c;
      c.name = cj.value("name", "");
      c.runs = cj.value("runs", 0);
      c.consecutive = cj.value("consecutive", 0);
      c.pull_failures = cj.value("pullFailures", 0);
      c.done = cj.value("done", false);
      c.next_start = FromNanos(cj.value("nextStart", int64_t{0}));
      c.waiting_reason = cj.value("waitingReason", "");
      c.waiting_message = cj.value("waitingMessage", "");
      c.image_id = cj.value("imageID", "");
      if (cj.contains("current") && cj["current"].is_object())
        c.current = RunFromJson(cj["current"]);
      if (cj.contains("last") && cj["last"].is_object()) c.last = TerminationFromJson(cj["last"]);
      r.containers.push_back(std::move(c));
    }
    return r;
  } catch (const Json::exception& e) {
    return Invalid(std::string("pod state: ") + e.what());
  }
}

Status SavePodRecord(const std::string& path, const PodRecord& r) {
  return WriteFileAtomic(path, PodRecordToJson(r).dump() + "\n", 0600);
}

Result<PodRecord> LoadPodRecord(const std::string& path) {
  LINTEL_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  LINTEL_ASSIGN_OR_RETURN(Json j, ParseJson(text));
  return PodRecordFromJson(j);
}

}  // namespace lintel::drivers::oci
