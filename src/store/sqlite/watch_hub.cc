#include "store/sqlite/watch_hub.h"

#include <pthread.h>
#include <spdlog/spdlog.h>

#include <exception>
#include <string>
#include <utility>

#include "common/check.h"
#include "store/sqlite/reads.h"

namespace lintel::store::sqlite {
namespace {

// Events per on_events call, so that one huge backlog does not hog the thread.
constexpr size_t kDeliveryChunk = 1024;

// The hub whose dispatch thread this is, to let a callback destroy a watch.
thread_local const WatchHub* t_dispatching = nullptr;

}  // namespace

struct WatchHub::State {
  uint64_t id = 0;
  KeyRange range;
  // Used by the dispatcher while `delivering`; released once cancelled or ended.
  WatchCallbacks callbacks;

  // Guarded by the hub's mu_.
  Revision cursor = 0;  // every matching event at or below it is delivered or buffered
  bool replaying = false;
  bool queued = false;
  bool delivering = false;
  bool cancelled = false;
  bool self_cancelled = false;  // destroyed from its own callback
  bool ended = false;
  std::optional<Status> error;
  std::deque<std::shared_ptr<const Event>> buffer;
};

class WatchHub::Handle final : public Watch {
 public:
  Handle(std::shared_ptr<WatchHub> hub, std::shared_ptr<State> state)
      : hub_(std::move(hub)), state_(std::move(state)) {}
  ~Handle() override { hub_->Cancel(*state_); }

 private:
  std::shared_ptr<WatchHub> hub_;
  std::shared_ptr<State> state_;
};

WatchHub::WatchHub(ReaderPool& readers, size_t buffer_limit, Revision published, Revision compacted)
    : readers_(readers),
      buffer_limit_(buffer_limit == 0 ? 1 : buffer_limit),
      published_(published),
      compacted_(compacted) {}

WatchHub::~WatchHub() { Close(Unavailable("store closing")); }

void WatchHub::Start() {
  thread_ = std::thread([this] { Run(); });
  pthread_setname_np(thread_.native_handle(), "lintel-watch");
}

Result<std::unique_ptr<Watch>> WatchHub::Add(std::string_view prefix, Revision after,
                                             WatchCallbacks callbacks) {
  if (after < 0) {
    return BadRequest("watch revision " + std::to_string(after) + " is negative");
  }
  auto w = std::make_shared<State>();
  w->range = PrefixRange(prefix);
  w->callbacks = std::move(callbacks);
  w->cursor = after;
  {
    std::lock_guard<std::mutex> l(mu_);
    if (closing_) {
      return Unavailable("store closing");
    }
    if (after < compacted_) {
      return CompactedError(after + 1, compacted_);
    }
    w->id = next_id_++;
    watches_[w->id] = w;
    if (after < published_) {
      w->replaying = true;
      Enqueue(w);
      work_cv_.notify_one();
    }
  }
  return std::unique_ptr<Watch>(new Handle(shared_from_this(), std::move(w)));
}

void WatchHub::Publish(std::vector<Event>&& events, Revision revision) {
  std::vector<std::shared_ptr<const Event>> shared;
  shared.reserve(events.size());
  for (Event& e : events) {
    shared.push_back(std::make_shared<const Event>(std::move(e)));
  }
  std::lock_guard<std::mutex> l(mu_);
  published_ = revision;
  bool woke = false;
  for (auto& [id, w] : watches_) {
    if (w->replaying || w->error || w->cancelled) {
      continue;
    }
    size_t before = w->buffer.size();
    for (const auto& e : shared) {
      if (e->revision() > w->cursor && w->range.Contains(e->kv.key)) {
        w->buffer.push_back(e);
      }
    }
    if (revision > w->cursor) {
      w->cursor = revision;
    }
    if (w->buffer.size() == before) {
      continue;
    }
    if (w->buffer.size() > buffer_limit_) {
      w->buffer.clear();
      w->error = Unavailable("watch fell behind: more than " + std::to_string(buffer_limit_) +
                             " events buffered");
    }
    Enqueue(w);
    woke = true;
  }
  if (woke) {
    work_cv_.notify_one();
  }
}

void WatchHub::SetCompacted(Revision compacted) {
  std::lock_guard<std::mutex> l(mu_);
  if (compacted > compacted_) {
    compacted_ = compacted;
  }
}

void WatchHub::Close(const Status& reason) {
  LINTEL_CHECK(t_dispatching != this);
  {
    std::lock_guard<std::mutex> l(mu_);
    if (!closing_) {
      closing_ = true;
      for (auto& [id, w] : watches_) {
        if (w->error || w->cancelled) {
          continue;
        }
        w->buffer.clear();
        w->error = reason;
        Enqueue(w);
      }
      work_cv_.notify_one();
    }
  }
  if (thread_.joinable()) {
    thread_.join();
  }
}

void WatchHub::Cancel(State& w) {
  WatchCallbacks released;
  {
    std::unique_lock<std::mutex> l(mu_);
    w.cancelled = true;
    w.buffer.clear();
    watches_.erase(w.id);
    if (t_dispatching == this) {
      // A callback destroying a watch. If it is its own, the dispatcher sees
      // `cancelled` when the callback returns, calls it no more and releases
      // the callbacks then. Any other watch is not running (one thread).
      if (w.delivering) {
        w.self_cancelled = true;
        return;
      }
    } else {
      idle_cv_.wait(l, [&] { return !w.delivering; });
    }
    released = std::move(w.callbacks);
    w.callbacks = {};
  }
  // `released` (and whatever the callbacks captured) is destroyed here, on the
  // caller's thread, without the lock.
}

void WatchHub::Enqueue(const std::shared_ptr<State>& w) {
  if (w->queued) {
    return;
  }
  w->queued = true;
  ready_.push_back(w);
}

void WatchHub::Run() {
  t_dispatching = this;
  std::unique_lock<std::mutex> l(mu_);
  while (true) {
    work_cv_.wait(l, [&] { return !ready_.empty() || closing_; });
    if (ready_.empty()) {
      break;  // closing, and every watch has had its on_error
    }
    std::shared_ptr<State> w = std::move(ready_.front());
    ready_.pop_front();
    w->queued = false;
    if (w->cancelled || w->ended) {
      continue;
    }
    if (w->error) {
      DeliverError(l, w);
    } else if (w->replaying) {
      Replay(l, w);
    } else {
      DeliverBuffered(l, w);
    }
  }
  t_dispatching = nullptr;
}

template <typename Fn>
void WatchHub::Deliver(std::unique_lock<std::mutex>& l, const std::shared_ptr<State>& w, Fn&& fn) {
  w->delivering = true;
  l.unlock();
  std::optional<Status> failed;
  try {
    fn();
  } catch (const std::exception& e) {
    failed = Internal(std::string("watch callback threw: ") + e.what());
  } catch (...) {
    failed = Internal("watch callback threw");
  }
  if (failed) {
    spdlog::error("store: {}", failed->message());
  }
  l.lock();
  w->delivering = false;
  idle_cv_.notify_all();
  if (failed && !w->error && !w->ended) {
    w->error = std::move(failed);
  }
  if (w->ended || w->self_cancelled) {
    // Nobody else will release the callbacks (and their captures): do it now,
    // without the lock.
    WatchCallbacks released = std::move(w->callbacks);
    w->callbacks = {};
    l.unlock();
    released = {};
    l.lock();
  } else if (w->error && !w->cancelled) {
    Enqueue(w);
  }
}

void WatchHub::Replay(std::unique_lock<std::mutex>& l, const std::shared_ptr<State>& w) {
  Revision after = w->cursor;
  Revision upto = published_;
  w->delivering = true;
  l.unlock();
  Result<std::vector<Event>> events = [&]() -> Result<std::vector<Event>> {
    LINTEL_ASSIGN_OR_RETURN(ReaderPool::Lease conn, readers_.Acquire());
    return ReadEvents(*conn, w->range, after, upto, kDeliveryChunk);
  }();
  l.lock();
  w->delivering = false;
  idle_cv_.notify_all();
  if (w->cancelled || w->error) {
    if (w->error) {
      Enqueue(w);
    }
    return;
  }
  if (!events.ok()) {
    w->error = events.error().Wrap("watch replay");
    Enqueue(w);
    return;
  }
  // A short page means nothing else matches up to `upto`.
  w->cursor = events->size() < kDeliveryChunk ? upto : events->back().revision();
  if (w->cursor == published_) {
    w->replaying = false;  // Publish includes it from now on
  } else {
    Enqueue(w);
  }
  if (events->empty()) {
    return;
  }
  Deliver(l, w, [&] {
    if (w->callbacks.on_events) {
      w->callbacks.on_events(std::move(*events));
    }
  });
}

void WatchHub::DeliverBuffered(std::unique_lock<std::mutex>& l, const std::shared_ptr<State>& w) {
  std::vector<std::shared_ptr<const Event>> taken;
  while (!w->buffer.empty() && taken.size() < kDeliveryChunk) {
    taken.push_back(std::move(w->buffer.front()));
    w->buffer.pop_front();
  }
  if (!w->buffer.empty()) {
    Enqueue(w);
  }
  if (taken.empty()) {
    return;
  }
  Deliver(l, w, [&] {
    std::vector<Event> events;
    events.reserve(taken.size());
    for (const auto& e : taken) {
      events.push_back(*e);
    }
    taken.clear();
    if (w->callbacks.on_events) {
      w->callbacks.on_events(std::move(events));
    }
  });
}

void WatchHub::DeliverError(std::unique_lock<std::mutex>& l, const std::shared_ptr<State>& w) {
  Status error = std::move(*w->error);
  w->ended = true;
  w->buffer.clear();
  watches_.erase(w->id);
  Deliver(l, w, [&] {
    if (w->callbacks.on_error) {
      w->callbacks.on_error(error);
    }
  });
}

}  // namespace lintel::store::sqlite
