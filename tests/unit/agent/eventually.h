// Eventually: polls a condition until it holds or a deadline passes, so that
// tests wait exactly as long as they need to.
#pragma once

#include <chrono>
#include <thread>

namespace lintel::agent::testing {

template <typename F>
bool Eventually(F&& f, std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!f()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return true;
}

}  // namespace lintel::agent::testing
