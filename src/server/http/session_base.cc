#include "server/http/session_base.h"

namespace lintel::http {

bool Gate::PostFlush(const std::weak_ptr<SessionBase>& weak) {
  std::shared_lock lock(mu_);
  if (!open_) {
    return false;
  }
  bool post_drain = false;
  {
    std::lock_guard flush_lock(flush_mu_);
    flushes_.push_back(weak);
    post_drain = !drain_posted_;
    drain_posted_ = true;
  }
  if (post_drain) {
    boost::asio::post(io_, [gate = shared_from_this()] { gate->DrainFlushes(); });
  }
  return true;
}

void Gate::DrainFlushes() {
  std::vector<std::weak_ptr<SessionBase>> batch;
  {
    std::lock_guard flush_lock(flush_mu_);
    batch.swap(flushes_);
    drain_posted_ = false;
  }
  for (const auto& weak : batch) {
    if (std::shared_ptr<SessionBase> session = weak.lock()) {
      SessionBase* raw = session.get();
      boost::asio::post(raw->strand(), [s = std::move(session)] { s->FlushStream(); });
    }
  }
}

}  // namespace lintel::http
