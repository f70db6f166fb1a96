#include "controllers/workqueue.h"

#include <spdlog/spdlog.h>

namespace lintel::controllers {

WorkQueue::WorkQueue(std::function<std::chrono::milliseconds(const std::string&)> process)
    : process_(std::move(process)) {}

WorkQueue::~WorkQueue() { Stop(); }

void WorkQueue::Start() {
  {
    std::lock_guard<std::mutex> l(mu_);
    paused_ = false;
  }
  thread_ = std::thread([this] { Loop(); });
}

void WorkQueue::Stop() {
  {
    std::lock_guard<std::mutex> l(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void WorkQueue::Add(const std::string& key) {
  std::lock_guard<std::mutex> l(mu_);
  if (ready_set_.insert(key).second) ready_.push_back(key);
  cv_.notify_one();
}

void WorkQueue::AddAfter(const std::string& key, std::chrono::milliseconds delay) {
  std::lock_guard<std::mutex> l(mu_);
  delayed_.emplace(std::chrono::steady_clock::now() + delay, key);
  cv_.notify_one();
}

void WorkQueue::Loop() {
  std::unique_lock<std::mutex> l(mu_);
  while (!stop_) {
    auto now = std::chrono::steady_clock::now();
    while (!delayed_.empty() && delayed_.begin()->first <= now) {
      const std::string& k = delayed_.begin()->second;
      if (ready_set_.insert(k).second) ready_.push_back(k);
      delayed_.erase(delayed_.begin());
    }
    if (ready_.empty()) {
      if (delayed_.empty()) {
        cv_.wait(l);
      } else {
        cv_.wait_until(l, delayed_.begin()->first);
      }
      continue;
    }
    std::string key = ready_.front();
    ready_.erase(ready_.begin());
    ready_set_.erase(key);
    l.unlock();
    std::chrono::milliseconds again{0};
    try {
      again = process_(key);
    } catch (const std::exception& e) {
      spdlog::error("work queue: processing {} threw: {}", key, e.what());
      again = std::chrono::seconds(1);
    }
    l.lock();
    if (again.count() > 0) {
      delayed_.emplace(std::chrono::steady_clock::now() + again, key);
    }
  }
}

}  // namespace lintel::controllers
