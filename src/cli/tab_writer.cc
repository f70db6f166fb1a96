#include "cli/tab_writer.h"

#include <algorithm>

namespace lintel::cli {

size_t TextWidth(std::string_view text) {
  size_t n = 0;
  for (unsigned char c : text) {
    if ((c & 0xC0) != 0x80) ++n;
  }
  return n;
}

void TabWriter::Write(std::string_view text) {
  for (char c : text) {
    if (c == '\t') {
      current_.push_back(std::move(partial_));
      partial_.clear();
    } else if (c == '\n') {
      current_.push_back(std::move(partial_));
      partial_.clear();
      lines_.push_back(std::move(current_));
      current_.clear();
    } else {
      partial_.push_back(c);
    }
  }
}

void TabWriter::Flush() {
  if (!partial_.empty() || !current_.empty()) {
    current_.push_back(std::move(partial_));
    partial_.clear();
    lines_.push_back(std::move(current_));
    current_.clear();
  }
  if (lines_.empty()) return;
  std::vector<size_t> widths;
  Format(0, lines_.size(), widths);
  lines_.clear();
  out_.flush();
}

// Go's tabwriter.format: finds the blocks of lines that have a cell in column
// `widths.size()`, sizes that column per block and recurses for the next one.
void TabWriter::Format(size_t line0, size_t line1, std::vector<size_t>& widths) {
  size_t column = widths.size();
  for (size_t i = line0; i < line1; ++i) {
    if (column + 1 >= lines_[i].size()) continue;
    // Line i starts a block with a cell in this column.
    WriteLines(line0, i, widths);
    line0 = i;
    size_t width = min_width_;
    if (remember_widths_ && column < remembered_.size()) {
      width = std::max(width, remembered_[column]);
    }
    for (; i < line1; ++i) {
      if (column + 1 >= lines_[i].size()) break;
      width = std::max(width, TextWidth(lines_[i][column]) + padding_);
    }
    if (remember_widths_) {
      if (remembered_.size() <= column) remembered_.resize(column + 1, 0);
      remembered_[column] = width;
    }
    widths.push_back(width);
    Format(line0, i, widths);
    widths.pop_back();
    line0 = i;
  }
  WriteLines(line0, line1, widths);
}

void TabWriter::WriteLines(size_t line0, size_t line1, const std::vector<size_t>& widths) {
  for (size_t i = line0; i < line1; ++i) {
    const Line& line = lines_[i];
    std::string text;
    for (size_t j = 0; j < line.size(); ++j) {
      text += line[j];
      if (j + 1 < line.size() && j < widths.size()) {
        size_t w = TextWidth(line[j]);
        if (w < widths[j]) text.append(widths[j] - w, ' ');
      }
    }
    // A final line flushed without its '\n' gets one too.
    text.push_back('\n');
    out_ << text;
  }
}

}  // namespace lintel::cli
