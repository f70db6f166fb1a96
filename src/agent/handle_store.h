// HandleStore: where the agent keeps the driver handles of the workloads it
// started, so that a restarted agent can re-adopt them (Driver::Recover).
// FileHandleStore keeps one JSON file per workload (written atomically, with
// fsync) for drivers whose workloads outlive the agent; MemoryHandleStore is
// for those whose workloads die with it (the fake driver), where persisting
// would only cost writes.
//
// Threading: implementations are thread-safe.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "common/thread_annotations.h"
#include "drivers/driver.h"

namespace lintel::agent {

class HandleStore {
 public:
  virtual ~HandleStore() = default;
  // Durable once it returns OK.
  virtual Status Put(const drivers::Handle& handle) = 0;
  // nullopt when none was kept (or it cannot be read: logged).
  virtual std::optional<drivers::Handle> Get(const std::string& uid) = 0;
  // Forgets it; a missing one is not an error.
  virtual void Delete(const std::string& uid) = 0;
  // Every handle kept (an agent restarted reaps those of workloads that are
  // gone: deleted or moved while it was down).
  virtual std::vector<drivers::Handle> List() = 0;
};

class MemoryHandleStore final : public HandleStore {
 public:
  Status Put(const drivers::Handle& handle) override;
  std::optional<drivers::Handle> Get(const std::string& uid) override;
  void Delete(const std::string& uid) override;
  std::vector<drivers::Handle> List() override;

 private:
  std::mutex mu_;
  std::map<std::string, drivers::Handle> handles_ LINTEL_GUARDED_BY(mu_);
};

class FileHandleStore final : public HandleStore {
 public:
  // Creates `dir` if needed.
  static Result<std::unique_ptr<FileHandleStore>> Open(const std::string& dir);
  Status Put(const drivers::Handle& handle) override;
  std::optional<drivers::Handle> Get(const std::string& uid) override;
  void Delete(const std::string& uid) override;
  std::vector<drivers::Handle> List() override;

 private:
  explicit FileHandleStore(std::string dir) : dir_(std::move(dir)) {}
  std::string PathOf(const std::string& uid) const;

  const std::string dir_;
};

}  // namespace lintel::agent
