#include "agent/keyed_pool.h"

#include <spdlog/spdlog.h>

namespace lintel::agent {

KeyedPool::KeyedPool(std::string name, int threads, Process process)
    : name_(std::move(name)), threads_(threads < 1 ? 1 : threads), process_(std::move(process)) {}

KeyedPool::~KeyedPool() { Stop(); }

void KeyedPool::Start() {
  std::lock_guard<std::mutex> l(mu_);
  if (!workers_.empty() || stop_) return;
  for (int i = 0; i < threads_; ++i) workers_.emplace_back([this] { Loop(); });
}

void KeyedPool::Stop() {
  {
    std::lock_guard<std::mutex> l(mu_);
    stop_ = true;
    high_.clear();
    normal_.clear();
    delayed_.clear();
  }
  cv_.notify_all();
  for (auto& t : workers_) {
    if (t.joinable()) t.join();
  }
  workers_.clear();
}

void KeyedPool::Enqueue(const std::string& key, Entry& e, bool high) {
  // Once high, a key stays high while it is known (its retries included).
  if (e.running) {
    e.dirty = true;
    e.high = e.high || high;
    return;
  }
  if (e.queued && (e.high || !high)) return;
  high = high || e.high;
  // Queued at normal priority and now wanted at high: queue it again in front;
  // the stale normal copy is skipped when popped (it is no longer queued then).
  e.queued = true;
  e.high = high;
  (high ? high_ : normal_).push_back(key);
  cv_.notify_one();
}

void KeyedPool::MaybeErase(const std::string& key) {
  auto it = entries_.find(key);
  if (it != entries_.end() && !it->second.queued && !it->second.running &&
      it->second.delayed == 0) {
    entries_.erase(it);
  }
}

void KeyedPool::Add(const std::string& key, Priority priority) {
  std::lock_guard<std::mutex> l(mu_);
  if (stop_) return;
  Enqueue(key, entries_[key], priority == Priority::kHigh);
}

void KeyedPool::AddAfter(const std::string& key, std::chrono::milliseconds delay) {
  if (delay <= std::chrono::milliseconds(0)) {
    Add(key);
    return;
  }
  std::lock_guard<std::mutex> l(mu_);
  if (stop_) return;
  ++entries_[key].delayed;
  delayed_.emplace(std::chrono::steady_clock::now() + delay, key);
  cv_.notify_one();
}

size_t KeyedPool::Size() const {
  std::lock_guard<std::mutex> l(mu_);
  return entries_.size();
}

void KeyedPool::Loop() {
  std::unique_lock<std::mutex> l(mu_);
  while (!stop_) {
    // Delayed keys that became due join the queue.
    auto now = std::chrono::steady_clock::now();
    while (!delayed_.empty() && delayed_.begin()->first <= now) {
      std::string key = std::move(delayed_.begin()->second);
      delayed_.erase(delayed_.begin());
      Entry& e = entries_[key];
      --e.delayed;
      Enqueue(key, e, e.high);
    }
    // High first, but every kHighBurst-th pick goes to a waiting normal key,
    // so that a flood of high keys (10,000 hosts' heartbeats on a slow
    // server) slows normal ones down without starving them.
    std::deque<std::string>* q = nullptr;
    if (!high_.empty() && (normal_.empty() || high_streak_ < kHighBurst)) {
      q = &high_;
      high_streak_ = normal_.empty() ? 0 : high_streak_ + 1;
    } else if (!normal_.empty()) {
      q = &normal_;
      high_streak_ = 0;
    }
    if (!q) {
      if (delayed_.empty()) {
        cv_.wait(l);
      } else {
        cv_.wait_until(l, delayed_.begin()->first);
      }
      continue;
    }
    std::string key = std::move(q->front());
    q->pop_front();
    auto it = entries_.find(key);
    if (it == entries_.end() || !it->second.queued || it->second.running ||
        (q == &normal_ && it->second.high)) {
      continue;  // a stale copy (re-queued at high priority)
    }
    it->second.queued = false;
    it->second.running = true;
    l.unlock();
    std::chrono::milliseconds again{0};
    try {
      again = process_(key);
    } catch (const std::exception& e) {
      spdlog::error("{}: processing {} threw: {}", name_, key, e.what());
      again = std::chrono::seconds(1);
    }
    l.lock();
    Entry& e = entries_[key];
    e.running = false;
    if (stop_) break;
    if (e.dirty) {
      e.dirty = false;
      Enqueue(key, e, e.high);
    } else if (again > std::chrono::milliseconds(0)) {
      ++e.delayed;
      delayed_.emplace(std::chrono::steady_clock::now() + again, key);
    }
    MaybeErase(key);
  }
}

}  // namespace lintel::agent
