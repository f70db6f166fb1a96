// Clock: the only way Lintel code reads time, so tests can use FakeClock.
//
// Now() is wall time (timestamps in objects); Monotonic() is for timeouts and
// intervals. RealClock is stateless; FakeClock is thread-safe and moves only
// when a test advances it. Sleeping and waiting on condition variables with
// real time remain the caller's business; code that must be testable with a
// FakeClock polls Monotonic() instead of sleeping for long.
#pragma once

#include <chrono>
#include <mutex>

#include "common/thread_annotations.h"

namespace lintel {

class Clock {
 public:
  using WallTime = std::chrono::system_clock::time_point;
  using MonoTime = std::chrono::steady_clock::time_point;

  virtual ~Clock() = default;
  virtual WallTime Now() const = 0;
  virtual MonoTime Monotonic() const = 0;

  // The process-wide real clock.
  static Clock& Real();
};

class RealClock final : public Clock {
 public:
  WallTime Now() const override { return std::chrono::system_clock::now(); }
  MonoTime Monotonic() const override { return std::chrono::steady_clock::now(); }
};

class FakeClock final : public Clock {
 public:
  // Starts at a fixed, readable instant (2026-01-01T00:00:00Z) unless told otherwise.
  FakeClock();
  explicit FakeClock(WallTime start);

  WallTime Now() const override;
  MonoTime Monotonic() const override;
  void Advance(std::chrono::nanoseconds d);

 private:
  mutable std::mutex mu_;
  WallTime wall_ LINTEL_GUARDED_BY(mu_);
  MonoTime mono_ LINTEL_GUARDED_BY(mu_);
};

}  // namespace lintel
