// Guards for integration tests that need root or a host tool. Without them a
// test skips and says what is missing; with LINTEL_REQUIRE_ROOT_TESTS=1 (CI)
// the skip is a failure instead.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

namespace lintel::testing {

inline bool RootTestsRequired() {
  const char* v = std::getenv("LINTEL_REQUIRE_ROOT_TESTS");
  return v != nullptr && std::string(v) == "1";
}

// True when `tool` is on PATH.
inline bool HaveTool(const std::string& tool) {
  return std::system(("command -v " + tool + " >/dev/null 2>&1").c_str()) == 0;
}

}  // namespace lintel::testing

// Skips (or, in CI, fails) the current test unless running as root.
#define LINTEL_REQUIRE_ROOT()                                                         \
  do {                                                                                \
    if (::geteuid() != 0) {                                                           \
      if (::lintel::testing::RootTestsRequired()) FAIL() << "needs root";             \
      GTEST_SKIP() << "needs root (set LINTEL_REQUIRE_ROOT_TESTS=1 to fail instead)"; \
    }                                                                                 \
  } while (0)

// Skips (or, in CI, fails) the current test unless `tool` is installed.
#define LINTEL_REQUIRE_TOOL(tool)                                                  \
  do {                                                                             \
    if (!::lintel::testing::HaveTool(tool)) {                                      \
      if (::lintel::testing::RootTestsRequired()) FAIL() << tool << " is missing"; \
      GTEST_SKIP() << tool << " is missing (scripts/setup installs it)";           \
    }                                                                              \
  } while (0)
