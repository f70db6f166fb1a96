#include "drivers/oci/pod_status.h"

namespace lintel::drivers::oci {

WorkloadStatus ComputePodStatus(const PodPlan& plan, const PodRecord& rec,
                                const std::vector<ContainerLive>& live,
                                const std::string& runtime_name, const std::string& failure) {
  WorkloadStatus st;
  bool all_begun = true, all_done = true, any_running = false, all_ready = true;
  bool any_probe = false;
  const ContainerRecord* first_failed = nullptr;
  Clock::WallTime last_finish{};
  for (size_t i = 0; i < plan.containers.size() && i < rec.containers.size(); ++i) {
    const ContainerPlan& p = plan.containers[i];
    const ContainerRecord& r = rec.containers[i];
    const ContainerLive l = i < live.size() ? live[i] : ContainerLive{};
    ContainerStatus cs;
    cs.name = p.name;
    cs.image = p.image;
    cs.image_id = r.image_id;
    cs.restart_count = std::max(r.runs - 1, 0);
    if (r.current && !r.current->id.empty()) cs.container_id = runtime_name + "://" + r.current->id;
    if (l.running && r.current) {
      cs.state = RunState::kRunning;
      cs.started_at = r.current->started_at;
      cs.last_termination = r.last;
      bool ready = l.started && (!l.has_readiness || l.ready);
      if (l.has_readiness || !l.started) cs.ready = ready;
      any_probe = any_probe || l.has_readiness || !l.started;
      all_ready = all_ready && ready;
      any_running = true;
    } else if (r.done && r.last) {
      cs.state = RunState::kExited;
      cs.exit_code = r.last->exit_code;
      cs.signal = r.last->signal;
      cs.reason = r.last->reason;
      cs.message = r.last->message;
      cs.started_at = r.last->started_at;
      cs.finished_at = r.last->finished_at;
      all_ready = false;
      if (r.last->exit_code != 0 && !first_failed) first_failed = &r;
      last_finish = std::max(last_finish, r.last->finished_at);
    } else {
      cs.state = RunState::kStarting;
      cs.reason = r.waiting_reason.empty() ? "ContainerCreating" : r.waiting_reason;
      cs.message = r.waiting_message;
      cs.last_termination = r.last;
      all_ready = false;
    }
    if (r.runs == 0 && !r.done) all_begun = false;
    if (!r.done) all_done = false;
    st.containers.push_back(std::move(cs));
  }
  if (!failure.empty()) {
    st.state = RunState::kFailed;
    st.reason = "StartError";
    st.message = failure;
    st.ready = false;
    return st;
  }
  st.started_at = rec.running_since;
  if (all_done && !plan.containers.empty()) {
    st.state = RunState::kExited;
    st.finished_at = last_finish;
    if (first_failed) {
      st.exit_code = first_failed->last->exit_code;
      st.reason = first_failed->last->reason;
      st.message = "container " + first_failed->name + ": " +
                   (first_failed->last->message.empty() ? first_failed->last->reason
                                                        : first_failed->last->message);
    } else {
      st.reason = "Completed";
    }
    st.ready = false;
    return st;
  }
  st.state = (all_begun || any_running) ? RunState::kRunning : RunState::kStarting;
  if (st.state == RunState::kRunning && (!all_ready || any_probe)) {
    st.ready = all_ready;
    if (!all_ready) {
      std::string names;
      for (const auto& c : st.containers) {
        bool ok = c.state == RunState::kRunning && c.ready.value_or(true);
        if (!ok) names += (names.empty() ? "" : " ") + c.name;
      }
      st.reason = "ContainersNotReady";
      st.message = "containers with unready status: [" + names + "]";
    }
  }
  return st;
}

}  // namespace lintel::drivers::oci
