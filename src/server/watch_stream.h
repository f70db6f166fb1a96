// The HTTP side of a watch: a WatchSink that writes newline-delimited watch
// events (JSON objects or one-row Tables) to a chunked response, and the
// timers that end watches after their timeoutSeconds.
#pragma once

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <queue>
#include <string>
#include <thread>
#include <vector>

#include "api/kind.h"
#include "api/table.h"
#include "server/http/http.h"
#include "server/watch_cache.h"

namespace lintel::server {

struct WatchFormat {
  bool table = false;
  std::string table_version = "v1";  // meta.k8s.io version
  api::IncludeObject include = api::IncludeObject::kMetadata;
  bool send_initial_events_end = false;  // sendInitialEvents=true
  bool bookmarks = false;
};

class HttpWatchSink final : public WatchSink {
 public:
  // Beyond this many queued bytes a client is too slow and is cut off (it
  // will re-watch from its last resourceVersion).
  static constexpr size_t kMaxQueuedBytes = 64 << 20;

  HttpWatchSink(std::shared_ptr<http::Stream> stream, const api::KindInfo* kind,
                WatchFormat format)
      : stream_(std::move(stream)), kind_(kind), format_(std::move(format)) {}

  bool OnEvent(WatchEventType type, const EventPtr& event) override;
  bool OnBookmark(Revision rv) override;
  void OnInitialEventsEnd(Revision rv) override;
  void OnEnd(const Status& why) override;
  bool Alive() const override { return !stream_->Closed(); }

  // Writes an ERROR event carrying `status`, then ends the stream.
  static void WriteError(http::Stream& stream, const Status& status);

 private:
  std::string BookmarkLine(Revision rv, bool initial_end) const;

  std::shared_ptr<http::Stream> stream_;
  const api::KindInfo* kind_;
  WatchFormat format_;
};

// Closes streams at their deadlines, on one thread.
class StreamTimers {
 public:
  StreamTimers();
  ~StreamTimers();
  void CloseAt(std::chrono::steady_clock::time_point when, std::weak_ptr<http::Stream> stream);

 private:
  struct Entry {
    std::chrono::steady_clock::time_point when;
    std::weak_ptr<http::Stream> stream;
    bool operator>(const Entry& o) const { return when > o.when; }
  };
  void Loop();

  std::mutex mu_;
  std::condition_variable cv_;
  std::priority_queue<Entry, std::vector<Entry>, std::greater<>> heap_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace lintel::server
