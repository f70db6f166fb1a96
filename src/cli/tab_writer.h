// TabWriter: Go's text/tabwriter, as kubectl prints its tables and describe
// output through it.
//
// Text is written line by line; a cell is the text before a '\t'. The text
// after the last tab of a line is not part of any column. A column is aligned
// over a block of consecutive lines that all have a tab-terminated cell in it,
// so a line without tabs ends every block (which is how describe output
// restarts its alignment after "Spec:"). A column is as wide as its widest
// cell plus `padding`, and at least `min_width`.
//
// Not thread-safe; one writer per output.
#pragma once

#include <ostream>
#include <string>
#include <string_view>
#include <vector>

namespace lintel::cli {

class TabWriter {
 public:
  // kubectl's tables: minwidth 6, padding 3. Describe: minwidth 0, padding 2.
  TabWriter(std::ostream& out, size_t min_width, size_t padding)
      : out_(out), min_width_(min_width), padding_(padding) {}
  ~TabWriter() { Flush(); }
  TabWriter(const TabWriter&) = delete;
  TabWriter& operator=(const TabWriter&) = delete;

  // Appends text; lines end at '\n'.
  void Write(std::string_view text);
  // Formats and writes the buffered lines (a final unterminated line too).
  void Flush();

  // Widths are kept across flushes for the leading columns (Go's
  // RememberWidths, which kubectl uses so `get -w` rows line up with the
  // header): a later column is never narrower than what was printed before.
  void set_remember_widths(bool remember) { remember_widths_ = remember; }

 private:
  using Line = std::vector<std::string>;
  void Format(size_t line0, size_t line1, std::vector<size_t>& widths);
  void WriteLines(size_t line0, size_t line1, const std::vector<size_t>& widths);

  std::ostream& out_;
  size_t min_width_;
  size_t padding_;
  bool remember_widths_ = false;
  std::vector<size_t> remembered_;
  std::vector<Line> lines_;
  std::string partial_;  // the current line's text after its last tab
  Line current_;         // the current line's finished cells
};

// Display width of UTF-8 text: code points, not bytes.
size_t TextWidth(std::string_view text);

}  // namespace lintel::cli
