#include "server/http/worker_pool.h"

#include <spdlog/spdlog.h>

#include <exception>

namespace lintel::http {

void WorkerPool::Start(int threads) {
  for (int i = 0; i < std::max(threads, 1); ++i) {
    threads_.emplace_back([this] { Run(); });
  }
}

bool WorkerPool::Submit(std::function<void()> task, bool urgent) {
  {
    std::lock_guard lock(mu_);
    if (stopping_) {
      return false;
    }
    (urgent ? urgent_ : queue_).push_back(std::move(task));
  }
  cv_.notify_one();
  return true;
}

void WorkerPool::Stop() {
  std::deque<std::function<void()>> dropped;
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    dropped.swap(queue_);
    for (auto& t : urgent_) dropped.push_back(std::move(t));
    urgent_.clear();
  }
  cv_.notify_all();
  for (auto& t : threads_) {
    t.join();
  }
  threads_.clear();
  dropped.clear();  // outside the lock: dropping a task may answer its request
}

void WorkerPool::Run() {
  for (;;) {
    std::function<void()> task;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [this] { return stopping_ || !queue_.empty() || !urgent_.empty(); });
      if (stopping_) {
        return;
      }
      const bool take_urgent = !urgent_.empty() && (queue_.empty() || urgent_in_a_row_ < 4);
      auto& from = take_urgent ? urgent_ : queue_;
      urgent_in_a_row_ = take_urgent ? urgent_in_a_row_ + 1 : 0;
      task = std::move(from.front());
      from.pop_front();
    }
    try {
      task();
    } catch (const std::exception& e) {
      spdlog::error("http: worker task threw: {}", e.what());
    } catch (...) {
      spdlog::error("http: worker task threw a non-exception");
    }
  }
}

}  // namespace lintel::http
