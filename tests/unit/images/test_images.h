// scripts/test-images output (DIR/busybox, DIR/busybox.tar; DIR/tiny), built
// once per test process into a temporary directory that is removed when the
// process exits (CTest runs each test case as a process of its own).
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

#include "support/temp_dir.h"

namespace lintel::images::testing {

inline const std::string& TestImages() {
  static lintel::testing::TempDir dir;  // removed at exit
  static bool built = [] {
    std::string cmd = std::string(LINTEL_SOURCE_DIR) + "/scripts/test-images " + dir.path() +
                      " busybox >/dev/null";
    return std::system(cmd.c_str()) == 0;
  }();
  EXPECT_TRUE(built) << "scripts/test-images failed";
  return dir.path();
}

// DIR/tiny: the test VM (a bundle directory with vm-image.json; see
// scripts/test-images). The first build on a machine fetches Debian's cloud
// kernel with apt-get download and caches it in ~/.cache/lintel.
inline std::string TinyVmImage() {
  static bool built = [] {
    std::string cmd = std::string(LINTEL_SOURCE_DIR) + "/scripts/test-images " + TestImages() +
                      " tiny >/dev/null";
    return std::system(cmd.c_str()) == 0;
  }();
  EXPECT_TRUE(built) << "scripts/test-images tiny failed";
  return TestImages() + "/tiny";
}

}  // namespace lintel::images::testing
