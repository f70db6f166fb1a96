// FakeDriver: a Driver that runs nothing. A started workload is Running after
// a configurable delay and stays so until stopped, like a host with infinite
// speed and no processes. It is product code: hollow hosts (`lintel agent
// --driver=fake --hosts N`) use it to load the control plane, and tests use it
// as the driver double. State lives in memory only, so its workloads do not
// outlive the agent; Recover of an unknown uid adopts it as Running.
//
// Per-workload annotations change its behaviour (Nomad's mock driver):
//   fake.lintel.dev/run-delay    "500ms": Starting -> Running after this
//                                (default: FakeOptions::run_delay)
//   fake.lintel.dev/start-error  Start fails with this message
//   fake.lintel.dev/exit-after   "5s": Running -> Exited after this long
//   fake.lintel.dev/exit-code    the exit code then (default 0)
//
// Exec (Pods) runs no host command: ["echo", ARGS...] prints ARGS, ["cat"]
// copies stdin to stdout until EOF, ["exit", "N"] exits N, anything else
// prints an error and exits 127. OpenConsole (VMs) is an echo of what is
// written to it.
//
// Threading: thread-safe. Timed transitions run on a Timers thread, which
// many drivers may share (one per process for thousands of hollow hosts);
// the Listener is called there.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "common/clock.h"
#include "common/thread_annotations.h"
#include "drivers/driver.h"

namespace lintel::drivers::fake {

inline constexpr char kRunDelayAnnotation[] = "fake.lintel.dev/run-delay";
inline constexpr char kStartErrorAnnotation[] = "fake.lintel.dev/start-error";
inline constexpr char kExitAfterAnnotation[] = "fake.lintel.dev/exit-after";
inline constexpr char kExitCodeAnnotation[] = "fake.lintel.dev/exit-code";

// Runs callbacks at deadlines of a Clock's Monotonic() time, on one thread, in
// deadline order. With a FakeClock the thread polls (every few milliseconds),
// so advancing the clock fires what became due. Thread-safe.
class Timers {
 public:
  explicit Timers(Clock* clock = &Clock::Real());
  ~Timers();
  Timers(const Timers&) = delete;
  Timers& operator=(const Timers&) = delete;

  // Runs `fn` on the timer thread once `when` has passed (at once if it has).
  void At(Clock::MonoTime when, std::function<void()> fn);
  // Stops the thread; callbacks not yet run are dropped. Idempotent.
  void Stop();
  Clock& clock() const { return *clock_; }

 private:
  void Run();

  Clock* clock_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::multimap<Clock::MonoTime, std::function<void()>> due_ LINTEL_GUARDED_BY(mu_);
  bool stop_ LINTEL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

struct FakeOptions {
  std::chrono::milliseconds run_delay{1000};
  std::string accelerator = "kvm";  // reported for VMs (Auto); "none": VMs fail to start
  bool sandbox = false;             // accepts Pods with isolation: vm
  Clock* clock = &Clock::Real();
  // Shared by many drivers (hollow hosts); null: the driver makes its own.
  std::shared_ptr<Timers> timers;
};

struct FakeStats {
  uint64_t starts = 0;
  uint64_t recovers = 0;  // of workloads it did not know (adopted as Running)
  uint64_t stops = 0;
  uint64_t destroys = 0;
  uint64_t restarts = 0;
};

class FakeDriver final : public Driver {
 public:
  explicit FakeDriver(FakeOptions options = {});
  ~FakeDriver() override;

  Capabilities capabilities() const override;
  void SetListener(Listener listener) override;
  Result<Handle> Start(const WorkloadSpec& spec) override;
  Status Recover(const Handle& handle, const WorkloadSpec& spec) override;
  Status Stop(const std::string& uid, std::chrono::milliseconds grace) override;
  Status Destroy(const std::string& uid) override;
  Result<WorkloadStatus> StatusOf(const std::string& uid) const override;
  // Running again at once (an exit re-armed), unpaused.
  Status Restart(const std::string& uid, std::chrono::milliseconds grace) override;
  // VMs only, while Running: WorkloadStatus::paused.
  Status Pause(const std::string& uid) override;
  Status Resume(const std::string& uid) override;
  Result<ExecSession> Exec(const std::string& uid, const ExecOptions& options) override;
  Result<int> OpenConsole(const std::string& uid) override;

  // For tests and the hollow-host report.
  FakeStats stats() const;
  // The uids it knows, sorted.
  std::vector<std::string> Workloads() const;
  // The grace of the last Stop of `uid`, among the last few hundred Stops.
  std::optional<std::chrono::milliseconds> StopGrace(const std::string& uid) const;

  struct State;  // shared with pending timer callbacks

 private:
  Status SetPaused(const std::string& uid, bool paused);

  FakeOptions options_;
  std::shared_ptr<State> state_;
};

// "500ms", "2s", "1.5m", "1h"; a bare number is seconds. nullopt if malformed.
std::optional<std::chrono::milliseconds> ParseDuration(std::string_view text);

}  // namespace lintel::drivers::fake
