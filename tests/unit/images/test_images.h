// scripts/test-images output (DIR/busybox, DIR/busybox.tar), built once per
// test binary into a temporary directory that lives until the process exits.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

#include "support/temp_dir.h"

namespace lintel::images::testing {

inline const std::string& TestImages() {
  static auto* dir = new lintel::testing::TempDir();  // leaked: used until exit
  static bool built = [] {
    std::string cmd =
        std::string(LINTEL_SOURCE_DIR) + "/scripts/test-images " + dir->path() + " >/dev/null";
    return std::system(cmd.c_str()) == 0;
  }();
  EXPECT_TRUE(built) << "scripts/test-images failed";
  return dir->path();
}

}  // namespace lintel::images::testing
