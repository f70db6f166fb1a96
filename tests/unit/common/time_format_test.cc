#include "common/time_format.h"

#include <gtest/gtest.h>

namespace lintel {
namespace {

using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;

TEST(TimeFormatTest, FormatsAndParsesRfc3339) {
  auto t = std::chrono::system_clock::time_point(seconds(1767225600));  // 2026-01-01
  EXPECT_EQ(FormatRfc3339(t), "2026-01-01T00:00:00Z");
  EXPECT_EQ(FormatRfc3339Micro(t + std::chrono::microseconds(1500)),
            "2026-01-01T00:00:00.001500Z");
  auto p = ParseRfc3339("2026-01-01T01:00:00+01:00");
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(*p, t);
  EXPECT_EQ(*ParseRfc3339("2026-01-01T00:00:00.5Z"), t + std::chrono::milliseconds(500));
}

TEST(TimeFormatTest, RejectsMalformed) {
  for (const char* bad : {"", "2026-01-01", "2026-13-01T00:00:00Z", "2026-01-01T00:00:00",
                          "2026-01-01T00:00:00Zjunk", "2026-01-01 00:00:00Z"}) {
    SCOPED_TRACE(bad);
    EXPECT_FALSE(ParseRfc3339(bad).has_value());
  }
}

TEST(TimeFormatTest, HumanDurationMatchesKubectl) {
  struct Case {
    std::chrono::seconds d;
    const char* want;
  } cases[] = {
      {seconds(0), "0s"},          {seconds(119), "119s"},       {seconds(120), "2m"},
      {seconds(150), "2m30s"},     {minutes(10), "10m"},         {minutes(179), "179m"},
      {hours(3), "3h"},            {minutes(200), "3h20m"},      {hours(8), "8h"},
      {hours(47), "47h"},          {hours(49), "2d1h"},          {hours(24 * 8), "8d"},
      {hours(24 * 365 * 3), "3y"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.want);
    EXPECT_EQ(HumanDuration(c.d), c.want);
  }
}

}  // namespace
}  // namespace lintel
