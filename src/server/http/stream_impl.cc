#include "server/http/stream_impl.h"

#include <spdlog/spdlog.h>

#include <exception>

namespace lintel::http {

bool StreamImpl::Write(std::shared_ptr<const std::string> chunk) {
  std::unique_lock lock(mu_);
  if (finished_ || close_requested_) {
    return false;
  }
  // A zero-length chunk would end the chunked body; there is nothing to send.
  if (!chunk || chunk->empty()) {
    return true;
  }
  queued_bytes_ += chunk->size();
  queue_.push_back(std::move(chunk));
  ScheduleFlush(lock);
  return true;
}

void StreamImpl::Close() {
  std::unique_lock lock(mu_);
  if (finished_ || close_requested_) {
    return;
  }
  close_requested_ = true;
  ScheduleFlush(lock);
}

void StreamImpl::ScheduleFlush(std::unique_lock<std::mutex>& lock) {
  if (flush_scheduled_) {
    return;
  }
  flush_scheduled_ = true;
  lock.unlock();
  // If this fails the server stopped or the connection is gone; the transport
  // Finish()es the stream on that path, so there is nothing to do here.
  (void)gate_->PostFlush(session_);
}

size_t StreamImpl::QueuedBytes() const {
  std::lock_guard lock(mu_);
  return queued_bytes_;
}

bool StreamImpl::Closed() const {
  std::lock_guard lock(mu_);
  return finished_ || close_requested_;
}

void StreamImpl::OnClose(std::function<void()> fn) {
  std::unique_lock lock(mu_);
  if (!finished_) {
    on_close_.push_back(std::move(fn));
    return;
  }
  lock.unlock();
  fn();
}

StreamImpl::Batch StreamImpl::Take() {
  std::lock_guard lock(mu_);
  flush_scheduled_ = false;
  Batch batch;
  batch.chunks.swap(queue_);
  for (const auto& c : batch.chunks) {
    batch.bytes += c->size();
  }
  batch.close = close_requested_ && !finished_;
  return batch;
}

void StreamImpl::Written(size_t bytes) {
  std::lock_guard lock(mu_);
  queued_bytes_ = bytes > queued_bytes_ ? 0 : queued_bytes_ - bytes;
}

void StreamImpl::Finish() {
  std::vector<std::function<void()>> callbacks;
  {
    std::lock_guard lock(mu_);
    if (finished_) {
      return;
    }
    finished_ = true;
    queue_.clear();
    queued_bytes_ = 0;
    callbacks.swap(on_close_);
  }
  for (auto& fn : callbacks) {
    try {
      fn();
    } catch (const std::exception& e) {
      spdlog::error("http: stream OnClose callback threw: {}", e.what());
    } catch (...) {
      spdlog::error("http: stream OnClose callback threw");
    }
  }
}

}  // namespace lintel::http
