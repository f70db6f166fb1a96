// PodRunner: probes. Each probe run is a short-lived thread (it blocks up to
// the probe's timeout in `runtime exec` or a connect); its result is posted
// back through the runner's wake-up descriptor and applied on the runner's
// thread, which alone touches the trackers.
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <atomic>

#include "drivers/oci/pod_runner.h"

namespace lintel::drivers::oci {

struct PodRunner::ProbeRun {
  std::thread thread;
  std::atomic<bool> done{false};
  ProbeResult result;
};

void PodRunner::ResetProbes(Container& c) {
  Clock::MonoTime now = env_->clock->Monotonic();
  auto make = [&](const std::optional<ProbeSpec>& spec, int success, bool initially_ok) {
    if (!spec) return std::optional<ProbeState>();
    ProbeState ps;
    ps.spec = &*spec;
    ps.tracker = ProbeTracker(success, spec->failure_threshold, initially_ok);
    ps.next = now + std::chrono::seconds(spec->initial_delay_seconds);
    return std::optional<ProbeState>(std::move(ps));
  };
  DropProbes(c);
  // Liveness and startup probes need one success (as Kubernetes enforces).
  c.liveness = make(c.plan->liveness, 1, true);
  c.readiness =
      make(c.plan->readiness, c.plan->readiness ? c.plan->readiness->success_threshold : 1, false);
  c.startup = make(c.plan->startup, 1, false);
  c.started_ok = !c.startup.has_value();
}

void PodRunner::RunProbes(Container& c) {
  if (c.killing || !c.rec->current) return;
  Clock::MonoTime now = env_->clock->Monotonic();
  ProbeTarget target{env_->runtime, c.rec->current->id, sandbox_.netns};
  auto maybe_launch = [&](std::optional<ProbeState>& ps) {
    if (!ps || ps->in_flight || now < ps->next) return;
    ps->next = now + std::chrono::seconds(ps->spec->period_seconds);
    auto run = std::make_shared<ProbeRun>();
    ps->in_flight = run;
    // The thread holds only copies and the shared run; the runner joins it
    // before the wake-up descriptor goes away.
    run->thread = std::thread([run, spec = *ps->spec, target, fd = wake_fd_.get()] {
      run->result = RunProbe(spec, target);
      run->done.store(true);
      uint64_t one = 1;
      ssize_t n = ::write(fd, &one, sizeof(one));
      (void)n;
    });
  };
  if (!c.started_ok) {
    maybe_launch(c.startup);
    return;  // liveness and readiness wait for the startup probe
  }
  maybe_launch(c.liveness);
  maybe_launch(c.readiness);
}

void PodRunner::CollectProbes(Container& c) {
  auto take = [](std::optional<ProbeState>& ps) -> std::optional<ProbeResult> {
    if (!ps || !ps->in_flight || !ps->in_flight->done.load()) return std::nullopt;
    ps->in_flight->thread.join();
    ProbeResult r = std::move(ps->in_flight->result);
    ps->in_flight.reset();
    ps->tracker.Record(r.success);
    if (!r.success) ps->last_failure = r.message;
    return r;
  };
  const auto grace = std::chrono::seconds(plan_.grace_seconds);
  if (auto r = take(c.startup)) {
    if (c.startup->tracker.ok()) {
      c.started_ok = true;
      c.startup.reset();
    } else if (c.startup->tracker.failed()) {
      spdlog::info("oci: pod {}/{} container {}: startup probe failed: {}", plan_.ns, plan_.name,
                   c.plan->name, r->message);
      Kill(c, "Startup probe failed: " + r->message, grace);
    }
  }
  if (auto r = take(c.liveness); r && !c.liveness->tracker.ok() && !c.killing) {
    spdlog::info("oci: pod {}/{} container {}: liveness probe failed: {}", plan_.ns, plan_.name,
                 c.plan->name, r->message);
    Kill(c, "Liveness probe failed: " + r->message, grace);
  }
  (void)take(c.readiness);
}

void PodRunner::DropProbes(Container& c) {
  for (auto* ps : {&c.liveness, &c.readiness, &c.startup}) {
    if (*ps && (*ps)->in_flight) {
      (*ps)->in_flight->thread.join();  // bounded by the probe's timeout
      (*ps)->in_flight.reset();
    }
  }
}

}  // namespace lintel::drivers::oci
