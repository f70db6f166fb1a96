// TablePrinter: prints the Tables the server renders for `get` (meta.k8s.io/v1
// Table: columnDefinitions and rows of cells plus each row's object metadata)
// the way kubectl does: upper-case headers, columns aligned by a TabWriter
// (min width 6, padding 3), priority > 0 columns only when wide, and the
// client-side decorations: a NAMESPACE column first (-A), label value
// columns (-L) and a LABELS column (--show-labels) last, kind-prefixed names
// when several types are printed together.
//
// Not thread-safe; one printer per output.
#pragma once

#include <string>
#include <vector>

#include "cli/tab_writer.h"
#include "common/json.h"

namespace lintel::cli {

struct TablePrintOptions {
  bool wide = false;
  bool with_namespace = false;
  bool show_labels = false;
  std::vector<std::string> label_columns;
  bool no_headers = false;
  // "virtualmachine.lintel.dev": the Name column prints as PREFIX/NAME.
  std::string kind_prefix;
};

class TablePrinter {
 public:
  TablePrinter(TabWriter& out, TablePrintOptions options)
      : out_(out), options_(std::move(options)) {}

  // Prints the rows of `table`. The first table that carries
  // columnDefinitions sets the columns (later ones may omit them, as watch
  // events do) and, unless no_headers, prints the header line before its
  // first row. Returns the number of rows printed.
  size_t Print(const Json& table);
  // Header printed yet (the next Print prints none).
  bool header_printed() const { return header_printed_; }

 private:
  void SetColumns(const Json& definitions);
  std::vector<std::string> RowCells(const Json& row) const;

  TabWriter& out_;
  TablePrintOptions options_;
  std::vector<size_t> visible_;  // indices into the server's columns
  std::vector<std::string> headers_;
  int name_column_ = -1;  // server column index of the Name column
  bool have_columns_ = false;
  bool header_printed_ = false;
};

// A cell as kubectl prints it: strings up to their first line break (with
// "..." when cut), numbers and booleans as Go's fmt prints them.
std::string FormatCell(const Json& cell);

// Labels as "k=v,k2=v2" sorted by key, or "<none>".
std::string FormatLabels(const Json& labels);

}  // namespace lintel::cli
