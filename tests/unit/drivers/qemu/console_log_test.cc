#include "drivers/qemu/console_log.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "common/fs.h"
#include "support/temp_dir.h"

namespace lintel::drivers::qemu {
namespace {

using namespace std::chrono_literals;

void Append(const std::string& path, const std::string& text) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::write(fd, text.data(), text.size()), static_cast<ssize_t>(text.size()));
  ::close(fd);
}

std::vector<std::string> ReadAll(const std::string& path, int64_t tail = -1) {
  std::vector<std::string> out;
  EXPECT_TRUE(ReadConsoleLog(path, tail, [&](const LogLine& l) {
                out.push_back(l.text);
                return true;
              }).ok());
  return out;
}

TEST(ConsoleLog, RotatesKeepingOneOldFileAndReadsAcrossIt) {
  lintel::testing::TempDir dir;
  const std::string log = dir.path() + "/console.log";
  EXPECT_TRUE(ReadAll(log).empty());  // no file yet: nothing, no error
  Append(log, "boot 1\r\nline a\nhalf ");
  auto rotated = RotateConsoleLog(log, 10);
  ASSERT_TRUE(rotated.ok());
  EXPECT_TRUE(*rotated);
  EXPECT_EQ(*ReadFile(log), "");
  Append(log, "line\nprompt # ");
  // The line cut by the rotation is whole again; \r dropped; a prompt without
  // a newline shows.
  EXPECT_EQ(ReadAll(log), (std::vector<std::string>{"boot 1", "line a", "half line", "prompt # "}));
  EXPECT_EQ(ReadAll(log, 2), (std::vector<std::string>{"half line", "prompt # "}));
  auto again = RotateConsoleLog(log, 1 << 20);
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(*again);
}

TEST(ConsoleLog, FollowSeesNewLinesAndRotationUntilDone) {
  lintel::testing::TempDir dir;
  const std::string log = dir.path() + "/console.log";
  Append(log, "old\n");
  std::vector<std::string> seen;
  auto offset = ReadConsoleLog(
      log, -1,
      [&](const LogLine& l) {
        seen.push_back(l.text);
        return true;
      },
      true);
  ASSERT_TRUE(offset.ok());
  std::atomic<bool> done{false};
  std::thread writer([&] {
    std::this_thread::sleep_for(150ms);
    Append(log, "new 1\n");
    std::this_thread::sleep_for(250ms);
    ASSERT_TRUE(RotateConsoleLog(log, 1).ok());
    Append(log, "after rotation\n");
    std::this_thread::sleep_for(250ms);
    done = true;
  });
  ASSERT_TRUE(FollowConsoleLog(
                  log, *offset,
                  [&](const LogLine& l) {
                    seen.push_back(l.text);
                    return true;
                  },
                  [&] { return done.load(); })
                  .ok());
  writer.join();
  EXPECT_EQ(seen, (std::vector<std::string>{"old", "new 1", "after rotation"}));
}

}  // namespace
}  // namespace lintel::drivers::qemu
