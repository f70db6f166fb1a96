// StatusWriter: the agent's writes to the API (Host registration and
// heartbeats, workload status), on a bounded pool of writer threads.
//
// At scale status writes are the bottleneck (the server commits a few thousand
// writes a second), so writes are keyed and coalesced: a write submitted for a
// key that already has one waiting replaces it, and one key is written by one
// thread at a time, so each workload transition costs at most one write and a
// newer state never loses to an older one. Host writes go first, three to
// one while workload writes wait (a heartbeat stuck behind a burst of
// workload writes would make the host NotReady; workload writes must still
// move when 10,000 hosts' heartbeats outrun a slow server).
// A write that fails with a retryable error (Unavailable, Timeout, Conflict,
// TooManyRequests, Internal) runs again after a back-off (100ms doubling to
// 10s) unless a newer one replaced it; other errors are logged and dropped.
//
// Threading: thread-safe. Jobs run on the writer threads.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <unordered_map>

#include "agent/keyed_pool.h"
#include "client/client.h"
#include "common/json.h"
#include "common/status.h"

namespace lintel::agent {

struct WriterStats {
  uint64_t submitted = 0;
  uint64_t coalesced = 0;  // replaced before they ran
  uint64_t succeeded = 0;
  uint64_t retried = 0;
  uint64_t dropped = 0;  // failed with an error not worth retrying
};

class StatusWriter {
 public:
  // One write: OK, or why it failed (retried when retryable, see above).
  using Job = std::function<Status()>;

  explicit StatusWriter(int threads);
  ~StatusWriter();

  void Start();
  // Waits for the writes in progress; drops the queued ones.
  void Stop();

  void Submit(const std::string& key, Job job, Priority priority = Priority::kNormal);

  WriterStats stats() const;
  // Keys with a write queued, delayed or running.
  size_t Pending() const { return pool_.Size(); }

 private:
  struct Slot {
    Job job;  // empty while running with nothing newer
    Priority priority = Priority::kNormal;
    int attempts = 0;
  };
  std::chrono::milliseconds Run(const std::string& key);

  KeyedPool pool_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, Slot> slots_;
  WriterStats stats_;
};

// A workload's status write: a merge patch of /status guarded by the
// resourceVersion it was computed from. `conditions` are upserted by type
// into the object's (keeping lastTransitionTime when the status is
// unchanged); the other fields of `status` replace the object's.
struct WorkloadStatusPatch {
  client::Resource resource;
  std::string ns;
  std::string name;
  std::string uid;                          // the object written must still be this one
  std::string host;                         // ... and still bound here (status.host)
  std::string resource_version;             // as last seen; "" reads it first
  Json current_conditions = Json::array();  // status.conditions as last seen
  Json status = Json::object();             // phase, startTime, containerStatuses, ...
  Json conditions = Json::array();          // to upsert
};

// Writes `p`. On Conflict it re-reads the object and tries again (a few
// times). OK as well when the object is gone, was replaced (another uid) or is
// bound elsewhere: there is nothing left to write then.
Status WriteWorkloadStatus(client::Client& client, WorkloadStatusPatch p);

// `current` with each of `updates` replacing the condition of its type (the
// old lastTransitionTime kept when the status did not change), others kept.
Json UpsertConditions(const Json& current, const Json& updates);

}  // namespace lintel::agent
