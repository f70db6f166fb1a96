// Internal to the transport: the fixed pool of threads on which handlers run,
// so that a handler that blocks (a store write) never stalls socket I/O.
// Submit from any thread; Start and Stop from the owner.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "common/thread_annotations.h"

namespace lintel::http {

class WorkerPool {
 public:
  WorkerPool() = default;
  ~WorkerPool() { Stop(); }
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  void Start(int threads);
  // Queues `task`; false once stopping. Tasks must not throw (they are wrapped
  // in a catch-all that logs anyway). Urgent tasks go first, four to one while
  // others wait, so that a flood of ordinary requests cannot starve them and
  // they cannot starve the flood.
  bool Submit(std::function<void()> task, bool urgent = false);
  // Lets running tasks finish, drops queued ones, joins the threads.
  void Stop();

 private:
  void Run();

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> queue_ LINTEL_GUARDED_BY(mu_);
  std::deque<std::function<void()>> urgent_ LINTEL_GUARDED_BY(mu_);
  int urgent_in_a_row_ LINTEL_GUARDED_BY(mu_) = 0;
  bool stopping_ LINTEL_GUARDED_BY(mu_) = false;
  std::vector<std::thread> threads_;
};

}  // namespace lintel::http
