// WorkQueue: de-duplicating keys to process, with delayed re-adds, drained by
// one worker thread (like client-go's rate-limited queue, minus the rates).
// Thread-safe.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>

namespace lintel::controllers {

class WorkQueue {
 public:
  // `process` returns how long to wait before processing the key again, or
  // zero when done with it.
  explicit WorkQueue(std::function<std::chrono::milliseconds(const std::string&)> process);
  ~WorkQueue();
  void Start();
  void Stop();
  void Add(const std::string& key);
  void AddAfter(const std::string& key, std::chrono::milliseconds delay);

 private:
  void Loop();

  std::function<std::chrono::milliseconds(const std::string&)> process_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::set<std::string> ready_set_;
  std::multimap<std::chrono::steady_clock::time_point, std::string> delayed_;
  std::vector<std::string> ready_;
  bool stop_ = false;
  bool paused_ = true;
  std::thread thread_;
};

}  // namespace lintel::controllers
