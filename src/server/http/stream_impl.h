// Internal to the transport: the chunked response body a handler writes to.
//
// Handler threads call the Stream methods; the connection's strand takes the
// queued chunks (Take), reports what reached the socket (Written) and ends the
// stream (Finish), which runs the OnClose callbacks once.
//
//   open ──Close()──▶ closing ──last chunk written──▶ finished
//     └──────────── disconnect / Stop / write error ──────▶ finished
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/thread_annotations.h"
#include "server/http/http.h"
#include "server/http/session_base.h"

namespace lintel::http {

class StreamImpl final : public Stream {
 public:
  StreamImpl(std::weak_ptr<SessionBase> session, std::shared_ptr<Gate> gate)
      : session_(std::move(session)), gate_(std::move(gate)) {}

  // Stream (any thread).
  using Stream::Write;
  bool Write(std::shared_ptr<const std::string> chunk) override;
  void Close() override;
  size_t QueuedBytes() const override;
  bool Closed() const override;
  void OnClose(std::function<void()> fn) override;

  // Transport side (the session's strand).
  struct Batch {
    std::vector<std::shared_ptr<const std::string>> chunks;
    size_t bytes = 0;
    bool close = false;  // Close() was called and every chunk is in this batch
  };
  // Takes every queued chunk; they stay counted in QueuedBytes until Written.
  Batch Take();
  void Written(size_t bytes);
  // Marks the stream finished, drops what is queued and runs the callbacks
  // (on the calling thread). Idempotent.
  void Finish();

 private:
  // Posts one FlushStream to the session unless one is pending.
  void ScheduleFlush(std::unique_lock<std::mutex>& lock);

  const std::weak_ptr<SessionBase> session_;
  const std::shared_ptr<Gate> gate_;
  mutable std::mutex mu_;
  std::vector<std::shared_ptr<const std::string>> queue_ LINTEL_GUARDED_BY(mu_);
  size_t queued_bytes_ LINTEL_GUARDED_BY(mu_) = 0;
  bool close_requested_ LINTEL_GUARDED_BY(mu_) = false;
  bool finished_ LINTEL_GUARDED_BY(mu_) = false;
  bool flush_scheduled_ LINTEL_GUARDED_BY(mu_) = false;
  std::vector<std::function<void()>> on_close_ LINTEL_GUARDED_BY(mu_);
};

}  // namespace lintel::http
