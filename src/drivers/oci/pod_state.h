// What the OCI driver remembers about a Pod across agent restarts: one JSON
// file, DATA/oci/pods/<uid>/state.json, rewritten atomically (temp, fsync,
// rename) at every transition of a container. A run's id is written before
// the run is created, so a restarted agent always knows what the runtime
// might hold; conmon's exit file and pidfile tell it what became of the run.
//
// Pure values and (de)serialization; Load/Save block on disk. Any thread.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/json.h"
#include "common/status.h"
#include "drivers/driver.h"

namespace lintel::drivers::oci {

// One run of a container that the runtime may hold.
struct RunRecord {
  int run = 0;     // 0 for the first run; names the log file
  std::string id;  // the runtime's container id
  std::string image_id;
  Clock::WallTime started_at{};  // zero until `runtime start` succeeded
  pid_t conmon_pid = 0;
  pid_t pid = 0;
  bool operator==(const RunRecord&) const = default;
};

struct ContainerRecord {
  std::string name;
  int runs = 0;         // runs begun; restartCount is runs - 1
  int consecutive = 0;  // restarts in a row (back-off)
  int pull_failures = 0;
  std::optional<RunRecord> current;
  std::optional<Termination> last;  // how the latest finished run ended
  bool done = false;                // ended and will not run again
  Clock::WallTime next_start{};     // not before (back-off)
  std::string waiting_reason;       // while no run: ContainerCreating, CrashLoopBackOff, ...
  std::string waiting_message;
  std::string image_id;
  bool operator==(const ContainerRecord&) const = default;
};

struct PodRecord {
  static constexpr int kVersion = 1;
  std::string uid;
  std::string ns;
  std::string name;
  Json spec = Json::object();
  Clock::WallTime running_since{};  // when the Pod first had every container started
  bool stopping = false;            // Stop was asked: nothing restarts
  std::vector<ContainerRecord> containers;
  bool operator==(const PodRecord&) const = default;
};

Json PodRecordToJson(const PodRecord& r);
Result<PodRecord> PodRecordFromJson(const Json& j);

Status SavePodRecord(const std::string& path, const PodRecord& r);
// NotFound when there is no file.
Result<PodRecord> LoadPodRecord(const std::string& path);

}  // namespace lintel::drivers::oci
