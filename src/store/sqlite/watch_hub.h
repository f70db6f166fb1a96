// WatchHub: every watch of one store, their per-watch buffers and the dispatch
// thread that runs all watch callbacks.
//
// How a watch gets every event exactly once, in order, with no gap while
// writes race with registration:
//
//   writer thread                       dispatch thread
//   commit batch (revisions a..b)
//   Publish(events, b)  --lock-->  published_ = b; for each *live* watch,
//                                  append matching events > cursor to buffer
//
//   A new watch from `after` < published_ starts in replay: the dispatcher reads
//   history (cursor, published_] in pages on a read connection and delivers
//   them. Under the lock, when its cursor reaches published_, it turns live;
//   Publish has skipped it until then and includes it from then on. Both
//   steps take the lock, so no revision is missed or seen twice. A watch from
//   `after` >= published_ is live at once. History is the replay buffer, so a
//   long replay holds no memory; a live watch whose buffer passes the bound is
//   ended with on_error(Unavailable "watch fell behind").
//
// Per-watch states (all changes under mu_):
//
//   replay --caught up--> live --Cancel--> cancelled (no more callbacks)
//      |                    |
//      '--error/Close/overflow--> error pending --on_error delivered--> ended
//
// Thread-safety: Add, Publish, SetCompacted, Close and Watch destruction may be
// called from any thread; Publish only from the writer, in revision order.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string_view>
#include <thread>
#include <vector>

#include "common/status.h"
#include "common/thread_annotations.h"
#include "store/sqlite/key_range.h"
#include "store/sqlite/reader_pool.h"
#include "store/store.h"

namespace lintel::store::sqlite {

class WatchHub : public std::enable_shared_from_this<WatchHub> {
 public:
  // `readers` must outlive the dispatch thread (until Close returns).
  WatchHub(ReaderPool& readers, size_t buffer_limit, Revision published, Revision compacted);
  ~WatchHub();
  WatchHub(const WatchHub&) = delete;
  WatchHub& operator=(const WatchHub&) = delete;

  void Start();

  // Registers a watch (see Store::WatchPrefix). Gone if `after` is below the
  // compacted revision; Unavailable after Close.
  Result<std::unique_ptr<Watch>> Add(std::string_view prefix, Revision after,
                                     WatchCallbacks callbacks);

  // Writer thread, after a commit: the batch's events, ascending, and the
  // revision it committed. Never blocks on a watcher.
  void Publish(std::vector<Event>&& events, Revision revision);
  void SetCompacted(Revision compacted);

  // Ends every watch with on_error(reason) and stops the dispatch thread.
  // Idempotent. Must not be called from a watch callback.
  void Close(const Status& reason);

 private:
  struct State;
  class Handle;

  void Cancel(State& w);
  void Run();
  void Enqueue(const std::shared_ptr<State>& w) LINTEL_REQUIRES(mu_);
  void Replay(std::unique_lock<std::mutex>& l, const std::shared_ptr<State>& w);
  void DeliverBuffered(std::unique_lock<std::mutex>& l, const std::shared_ptr<State>& w);
  void DeliverError(std::unique_lock<std::mutex>& l, const std::shared_ptr<State>& w);
  // Runs `fn` (a callback of `w`) without the lock, marked delivering.
  template <typename Fn>
  void Deliver(std::unique_lock<std::mutex>& l, const std::shared_ptr<State>& w, Fn&& fn);

  ReaderPool& readers_;
  const size_t buffer_limit_;
  std::thread thread_;

  std::mutex mu_;
  std::condition_variable work_cv_;  // dispatcher: ready_ or closing_
  std::condition_variable idle_cv_;  // Cancel: a delivery finished
  std::map<uint64_t, std::shared_ptr<State>> watches_ LINTEL_GUARDED_BY(mu_);
  std::deque<std::shared_ptr<State>> ready_ LINTEL_GUARDED_BY(mu_);
  uint64_t next_id_ LINTEL_GUARDED_BY(mu_) = 1;
  Revision published_ LINTEL_GUARDED_BY(mu_);
  Revision compacted_ LINTEL_GUARDED_BY(mu_);
  bool closing_ LINTEL_GUARDED_BY(mu_) = false;
};

}  // namespace lintel::store::sqlite
