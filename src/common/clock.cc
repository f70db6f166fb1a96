#include "common/clock.h"

namespace lintel {

Clock& Clock::Real() {
  static RealClock* const kClock = new RealClock();
  return *kClock;
}

FakeClock::FakeClock() : FakeClock(WallTime(std::chrono::seconds(1767225600))) {}

FakeClock::FakeClock(WallTime start) : wall_(start), mono_(std::chrono::hours(1)) {}

Clock::WallTime FakeClock::Now() const {
  std::lock_guard<std::mutex> l(mu_);
  return wall_;
}

Clock::MonoTime FakeClock::Monotonic() const {
  std::lock_guard<std::mutex> l(mu_);
  return mono_;
}

void FakeClock::Advance(std::chrono::nanoseconds d) {
  std::lock_guard<std::mutex> l(mu_);
  wall_ += std::chrono::duration_cast<WallTime::duration>(d);
  mono_ += d;
}

}  // namespace lintel
