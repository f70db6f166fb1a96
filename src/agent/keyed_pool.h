// KeyedPool: a bounded pool of threads that processes keys, each key by at
// most one thread at a time, with coalescing (a key added while queued is
// queued once; added while being processed, it runs once more afterwards),
// two priorities (high first, but at most three high keys in a row while a
// normal one waits), and delayed re-runs for back-off. It is the agent's
// workqueue: the driver pool reconciles workloads by uid on one, the status
// writer runs writes on another.
//
// Threading: thread-safe. `process` runs on the pool's threads. Add after
// Stop is ignored.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "common/thread_annotations.h"

namespace lintel::agent {

enum class Priority : uint8_t { kNormal, kHigh };

class KeyedPool {
 public:
  // Processes one key; returns when to process it again (zero: done). A
  // throw is caught, logged and treated as "again in a second".
  using Process = std::function<std::chrono::milliseconds(const std::string& key)>;

  KeyedPool(std::string name, int threads, Process process);
  ~KeyedPool();
  KeyedPool(const KeyedPool&) = delete;
  KeyedPool& operator=(const KeyedPool&) = delete;

  void Start();
  // Stops the threads after the keys being processed finish; queued keys are
  // dropped. Idempotent.
  void Stop();

  void Add(const std::string& key, Priority priority = Priority::kNormal);
  void AddAfter(const std::string& key, std::chrono::milliseconds delay);

  // Keys queued, delayed or being processed.
  size_t Size() const;

 private:
  struct Entry {
    bool queued = false;
    bool running = false;
    bool dirty = false;  // added while running
    bool high = false;
    int delayed = 0;  // pending AddAfter timers
  };
  void Loop();
  void Enqueue(const std::string& key, Entry& e, bool high) LINTEL_REQUIRES(mu_);
  void MaybeErase(const std::string& key) LINTEL_REQUIRES(mu_);

  const std::string name_;
  const int threads_;
  const Process process_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::unordered_map<std::string, Entry> entries_ LINTEL_GUARDED_BY(mu_);
  std::deque<std::string> high_ LINTEL_GUARDED_BY(mu_);
  std::deque<std::string> normal_ LINTEL_GUARDED_BY(mu_);
  std::multimap<std::chrono::steady_clock::time_point, std::string> delayed_ LINTEL_GUARDED_BY(mu_);
  // High keys taken in a row while normal ones wait; see Loop.
  static constexpr int kHighBurst = 3;
  int high_streak_ LINTEL_GUARDED_BY(mu_) = 0;
  bool stop_ LINTEL_GUARDED_BY(mu_) = false;
  std::vector<std::thread> workers_;
};

}  // namespace lintel::agent
