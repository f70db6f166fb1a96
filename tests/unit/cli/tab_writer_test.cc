#include "cli/tab_writer.h"

#include <gtest/gtest.h>

#include <sstream>

namespace lintel::cli {
namespace {

std::string Format(std::string_view text, size_t min_width, size_t padding) {
  std::ostringstream out;
  {
    TabWriter w(out, min_width, padding);
    w.Write(text);
  }
  return out.str();
}

TEST(TabWriterTest, AlignsColumnsAsKubectlTables) {
  EXPECT_EQ(Format("NAME\tPHASE\tAGE\nweb-server-1\tRunning\t5m\n", 6, 3),
            "NAME           PHASE     AGE\n"
            "web-server-1   Running   5m\n");
}

TEST(TabWriterTest, ColumnsAreAtLeastMinWidth) {
  EXPECT_EQ(Format("A\tB\tC\nx\ty\tz\n", 6, 3), "A     B     C\nx     y     z\n");
}

TEST(TabWriterTest, EmptyCellsArePadded) {
  EXPECT_EQ(Format("NAME\tIP\tAGE\ndb-1\t\t2s\n", 6, 3), "NAME   IP    AGE\ndb-1         2s\n");
}

TEST(TabWriterTest, LineWithoutTabsEndsTheBlock) {
  // As describe prints: "Metadata:" restarts the alignment.
  EXPECT_EQ(Format("Name:\tdb-1\nAnnotations:\t<none>\nMetadata:\n  Generation:\t1\n", 0, 2),
            "Name:         db-1\n"
            "Annotations:  <none>\n"
            "Metadata:\n"
            "  Generation:  1\n");
}

TEST(TabWriterTest, NestedBlocksAlignPerColumn) {
  // The second column is aligned only over the lines that have one.
  EXPECT_EQ(Format("a\tb\tc\naaaa\tb\nx\tbbbbbb\tc\n", 0, 1),
            "a    b c\n"
            "aaaa b\n"
            "x    bbbbbb c\n");
}

TEST(TabWriterTest, RememberWidthsKeepsWatchRowsAligned) {
  std::ostringstream out;
  TabWriter w(out, 6, 3);
  w.set_remember_widths(true);
  w.Write("NAME\tPHASE\tAGE\nlong-name-here\tPending\t1s\n");
  w.Flush();
  w.Write("a\tRunning\t2s\n");
  w.Flush();
  EXPECT_EQ(out.str(),
            "NAME             PHASE     AGE\n"
            "long-name-here   Pending   1s\n"
            "a                Running   2s\n");
}

TEST(TabWriterTest, CountsCodePointsNotBytes) {
  EXPECT_EQ(Format("é\tx\nab\ty\n", 0, 1), "é  x\nab y\n");
}

}  // namespace
}  // namespace lintel::cli
