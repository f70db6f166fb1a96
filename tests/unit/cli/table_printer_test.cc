#include "cli/table_printer.h"

#include <gtest/gtest.h>

#include <sstream>

namespace lintel::cli {
namespace {

Json VmTable() {
  return Json::parse(R"({
    "kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": {"resourceVersion": "7"},
    "columnDefinitions": [
      {"name": "Name", "type": "string", "format": "name", "priority": 0},
      {"name": "Phase", "type": "string", "format": "", "priority": 0},
      {"name": "CPUs", "type": "integer", "format": "", "priority": 0},
      {"name": "Image", "type": "string", "format": "", "priority": 1},
      {"name": "Age", "type": "string", "format": "", "priority": 0}],
    "rows": [
      {"cells": ["db-1", "Running", 2, "tiny", "5m"],
       "object": {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1",
                  "metadata": {"name": "db-1", "namespace": "prod",
                               "labels": {"app": "db", "tier": "back"}}}},
      {"cells": ["web-frontend", "", 1, "alpine", "10d"],
       "object": {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1",
                  "metadata": {"name": "web-frontend", "namespace": "default"}}}]})");
}

std::string Print(const Json& table, TablePrintOptions opts) {
  std::ostringstream out;
  {
    TabWriter w(out, 6, 3);
    TablePrinter p(w, std::move(opts));
    p.Print(table);
  }
  return out.str();
}

TEST(TablePrinterTest, DefaultHidesPriorityColumns) {
  EXPECT_EQ(Print(VmTable(), {}),
            "NAME           PHASE     CPUS   AGE\n"
            "db-1           Running   2      5m\n"
            "web-frontend             1      10d\n");
}

TEST(TablePrinterTest, WideShowsAllColumns) {
  TablePrintOptions o;
  o.wide = true;
  EXPECT_EQ(Print(VmTable(), o),
            "NAME           PHASE     CPUS   IMAGE    AGE\n"
            "db-1           Running   2      tiny     5m\n"
            "web-frontend             1      alpine   10d\n");
}

TEST(TablePrinterTest, NamespaceColumnComesFirst) {
  TablePrintOptions o;
  o.with_namespace = true;
  EXPECT_EQ(Print(VmTable(), o),
            "NAMESPACE   NAME           PHASE     CPUS   AGE\n"
            "prod        db-1           Running   2      5m\n"
            "default     web-frontend             1      10d\n");
}

TEST(TablePrinterTest, LabelColumnsThenLabels) {
  TablePrintOptions o;
  o.label_columns = {"app", "example.com/tier"};
  o.show_labels = true;
  EXPECT_EQ(Print(VmTable(), o),
            "NAME           PHASE     CPUS   AGE   APP   TIER   LABELS\n"
            "db-1           Running   2      5m    db           app=db,tier=back\n"
            "web-frontend             1      10d                <none>\n");
}

TEST(TablePrinterTest, KindPrefixAndNoHeaders) {
  TablePrintOptions o;
  o.kind_prefix = "virtualmachine.lintel.dev";
  o.no_headers = true;
  EXPECT_EQ(Print(VmTable(), o),
            "virtualmachine.lintel.dev/db-1           Running   2     5m\n"
            "virtualmachine.lintel.dev/web-frontend             1     10d\n");
}

TEST(TablePrinterTest, HeaderOnceAcrossTablesWithoutColumns) {
  // Watch events: later one-row Tables may leave out columnDefinitions.
  std::ostringstream out;
  TabWriter w(out, 6, 3);
  w.set_remember_widths(true);
  TablePrinter p(w, {});
  Json first = VmTable();
  first["rows"].erase(1);
  EXPECT_EQ(p.Print(first), 1u);
  w.Flush();
  Json event = VmTable();
  event.erase("columnDefinitions");
  event["rows"].erase(0);
  EXPECT_EQ(p.Print(event), 1u);
  w.Flush();
  EXPECT_EQ(out.str(),
            "NAME   PHASE     CPUS   AGE\n"
            "db-1   Running   2      5m\n"
            "web-frontend             1      10d\n");
}

TEST(TablePrinterTest, EmptyTablePrintsNothing) {
  Json t = VmTable();
  t["rows"] = Json::array();
  EXPECT_EQ(Print(t, {}), "");
}

TEST(TablePrinterTest, FormatCell) {
  EXPECT_EQ(FormatCell("one\ntwo"), "one...");
  EXPECT_EQ(FormatCell(3), "3");
  EXPECT_EQ(FormatCell(2.0), "2");
  EXPECT_EQ(FormatCell(0.5), "0.5");
  EXPECT_EQ(FormatCell(true), "true");
  EXPECT_EQ(FormatCell(Json::array({"a", "b"})), "[a b]");
  EXPECT_EQ(FormatCell(nullptr), "<none>");
}

TEST(TablePrinterTest, FormatLabels) {
  EXPECT_EQ(FormatLabels(Json::object()), "<none>");
  EXPECT_EQ(FormatLabels({{"b", "2"}, {"a", "1"}}), "a=1,b=2");
}

}  // namespace
}  // namespace lintel::cli
