#include "drivers/oci/k8s_log.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>

#include "common/time_format.h"
#include "support/temp_dir.h"

namespace lintel::drivers::oci {
namespace {

using Strings = std::vector<std::string>;

TEST(K8sRecordTest, Parse) {
  auto r = ParseK8sRecord("2026-11-28T06:43:35.983397690+00:00 stdout F hello world\n");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->stream, "stdout");
  EXPECT_FALSE(r->partial);
  EXPECT_EQ(r->text, "hello world");
  EXPECT_EQ(r->time, *ParseRfc3339("2026-11-28T06:43:35.983397690Z"));

  auto p = ParseK8sRecord("2026-11-28T07:43:35.5+01:00 stderr P part");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->stream, "stderr");
  EXPECT_TRUE(p->partial);
  EXPECT_EQ(p->text, "part");
  EXPECT_EQ(p->time, *ParseRfc3339("2026-11-28T06:43:35.5Z"));

  auto empty = ParseK8sRecord("2026-11-28T06:43:35Z stdout F");
  ASSERT_TRUE(empty);
  EXPECT_EQ(empty->text, "");
  auto spaces = ParseK8sRecord("2026-11-28T06:43:35Z stdout F   indented ");
  ASSERT_TRUE(spaces);
  EXPECT_EQ(spaces->text, "  indented ");

  EXPECT_FALSE(ParseK8sRecord("not a log line"));
  EXPECT_FALSE(ParseK8sRecord("yesterday stdout F x"));
}

TEST(K8sRecordTest, PartialRecordsJoin) {
  LineAssembler a;
  EXPECT_FALSE(a.Add(*ParseK8sRecord("2026-01-01T00:00:00Z stdout P abc")));
  EXPECT_FALSE(a.Add(*ParseK8sRecord("2026-01-01T00:00:01Z stdout P def")));
  auto line = a.Add(*ParseK8sRecord("2026-01-01T00:00:02Z stdout F ghi"));
  ASSERT_TRUE(line);
  EXPECT_EQ(line->text, "abcdefghi");
  EXPECT_EQ(line->time, *ParseRfc3339("2026-01-01T00:00:00Z"));  // the first part's
  auto next = a.Add(*ParseK8sRecord("2026-01-01T00:00:03Z stderr F x"));
  ASSERT_TRUE(next);
  EXPECT_EQ(next->text, "x");
  EXPECT_EQ(next->stream, "stderr");
}

class LogFilesTest : public ::testing::Test {
 protected:
  void Write(const std::string& path, const Strings& texts, const char* mode = "w") {
    FILE* f = std::fopen(path.c_str(), mode);
    ASSERT_NE(f, nullptr);
    for (const auto& t : texts)
      std::fprintf(f, "2026-01-01T00:00:00.000000001+00:00 stdout F %s\n", t.c_str());
    std::fclose(f);
  }
  Strings Read(const std::vector<std::string>& paths, int64_t tail, LogPosition* pos = nullptr) {
    Strings out;
    auto r = ReadLogs(paths, tail, [&](const LogLine& l) {
      out.push_back(l.text);
      return true;
    });
    EXPECT_TRUE(r.ok());
    if (pos && r.ok()) *pos = *r;
    return out;
  }
  lintel::testing::TempDir dir_;
};

TEST_F(LogFilesTest, RotatedFirstThenCurrentWithTail) {
  std::string log = RunLogPath(dir_.path(), 3);
  EXPECT_EQ(log, dir_.path() + "/3.log");
  Write(RotatedPath(log), {"a", "b"});
  Write(log, {"c", "d", "e"});
  EXPECT_EQ(Read({RotatedPath(log), log}, -1), (Strings{"a", "b", "c", "d", "e"}));
  EXPECT_EQ(Read({RotatedPath(log), log}, 2), (Strings{"d", "e"}));
  EXPECT_EQ(Read({RotatedPath(log), log}, 0), Strings{});
  EXPECT_EQ(Read({dir_.path() + "/missing.log", log}, -1), (Strings{"c", "d", "e"}));
  // The sink can stop early.
  Strings first;
  ASSERT_TRUE(ReadLogs({log}, -1, [&](const LogLine& l) {
                first.push_back(l.text);
                return false;
              }).ok());
  EXPECT_EQ(first, Strings{"c"});
}

TEST_F(LogFilesTest, FollowGoesOnAcrossARotation) {
  std::string log = RunLogPath(dir_.path(), 0);
  Write(log, {"one"});
  LogPosition pos;
  EXPECT_EQ(Read({log}, -1, &pos), Strings{"one"});
  // More lines, then a rotation and a new file, all before the follower looks.
  Write(log, {"two"}, "a");
  ASSERT_EQ(std::rename(log.c_str(), RotatedPath(log).c_str()), 0);
  Write(log, {"three"});
  Strings got;
  int polls = 0;
  Status s = FollowLog(
      log, pos,
      [&](const LogLine& l) {
        got.push_back(l.text);
        return true;
      },
      [&] { return ++polls > 1; }, std::chrono::milliseconds(1));
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(got, (Strings{"two", "three"}));
}

}  // namespace
}  // namespace lintel::drivers::oci
