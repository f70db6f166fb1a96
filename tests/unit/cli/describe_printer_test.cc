#include "cli/describe_printer.h"

#include <gtest/gtest.h>

#include "common/time_format.h"

namespace lintel::cli {
namespace {

std::chrono::system_clock::time_point Now() {
  return *ParseRfc3339("2026-11-27T23:40:00Z");
}

TEST(DescribePrinterTest, SmartLabel) {
  EXPECT_EQ(SmartLabel("apiVersion"), "API Version");
  EXPECT_EQ(SmartLabel("uid"), "UID");
  EXPECT_EQ(SmartLabel("creationTimestamp"), "Creation Timestamp");
  EXPECT_EQ(SmartLabel("cpu"), "Cpu");
  EXPECT_EQ(SmartLabel("ipAddresses"), "Ip Addresses");
  EXPECT_EQ(SmartLabel("podCIDR"), "Pod CIDR");
  EXPECT_EQ(SmartLabel("HTTPServer"), "HTTP Server");
  EXPECT_EQ(SmartLabel("imageURL"), "Image URL");
  EXPECT_EQ(SmartLabel("ipv4"), "ipv4");  // digits: left alone, as kubectl
  EXPECT_EQ(SmartLabel("example.com/x"), "example.com/x");
}

// Matches `kubectl describe vm db-1` against the same object byte for byte.
TEST(DescribePrinterTest, LikeKubectlsGenericDescriber) {
  Json vm = Json::parse(R"({
    "apiVersion": "lintel.dev/v1alpha1", "kind": "VirtualMachine",
    "metadata": {"name": "db-1", "namespace": "default", "labels": {"app": "db"},
      "annotations": {"kubectl.kubernetes.io/last-applied-configuration": "{}\n"},
      "creationTimestamp": "2026-11-27T23:31:51Z", "generation": 1, "resourceVersion": "3",
      "uid": "fc5717f4-e2a5-4e66-81e6-b2fd9a61b934",
      "managedFields": [{"manager": "kubectl"}]},
    "spec": {"accelerator": "Auto", "cpu": 1, "evictionStrategy": "LiveMigrate", "image": "tiny",
             "memory": "256Mi", "priority": 0, "runStrategy": "Always"}})");
  EXPECT_EQ(DescribeObject(vm, {}, true, Now()),
            "Name:         db-1\n"
            "Namespace:    default\n"
            "Labels:       app=db\n"
            "Annotations:  <none>\n"
            "API Version:  lintel.dev/v1alpha1\n"
            "Kind:         VirtualMachine\n"
            "Metadata:\n"
            "  Creation Timestamp:  2026-11-27T23:31:51Z\n"
            "  Generation:          1\n"
            "  Resource Version:    3\n"
            "  UID:                 fc5717f4-e2a5-4e66-81e6-b2fd9a61b934\n"
            "Spec:\n"
            "  Accelerator:        Auto\n"
            "  Cpu:                1\n"
            "  Eviction Strategy:  LiveMigrate\n"
            "  Image:              tiny\n"
            "  Memory:             256Mi\n"
            "  Priority:           0\n"
            "  Run Strategy:       Always\n"
            "Events:               <none>\n");
}

TEST(DescribePrinterTest, ListsAndClusterScopedObjects) {
  Json ns = Json::parse(R"({
    "apiVersion": "lintel.dev/v1alpha1", "kind": "Namespace",
    "metadata": {"name": "default", "finalizers": ["lintel.dev/namespace"], "generation": 1,
                 "labels": {"b": "2", "a": "1"}},
    "spec": {"containers": [{"name": "main", "image": "busybox"}]},
    "status": {"phase": "Active"}})");
  EXPECT_EQ(DescribeObject(ns, {}, true, Now()),
            "Name:         default\n"
            "Namespace:    \n"
            "Labels:       a=1\n"
            "              b=2\n"
            "Annotations:  <none>\n"
            "API Version:  lintel.dev/v1alpha1\n"
            "Kind:         Namespace\n"
            "Metadata:\n"
            "  Finalizers:\n"
            "    lintel.dev/namespace\n"
            "  Generation:  1\n"
            "Spec:\n"
            "  Containers:\n"
            "    Image:  busybox\n"
            "    Name:   main\n"
            "Status:\n"
            "  Phase:  Active\n"
            "Events:   <none>\n");
}

TEST(DescribePrinterTest, ConditionsAsATableAndEvents) {
  Json vm = Json::parse(R"({
    "apiVersion": "lintel.dev/v1alpha1", "kind": "VirtualMachine",
    "metadata": {"name": "db-1", "namespace": "default",
                 "annotations": {"note": "short", "long": "line one\nline two"}},
    "status": {"conditions": [
        {"type": "Scheduled", "status": "True", "reason": "Bound",
         "lastTransitionTime": "2026-11-27T23:35:00Z", "message": "on host-1"},
        {"type": "Ready", "status": "False", "reason": "Starting",
         "lastTransitionTime": "2026-11-27T23:39:30Z"}],
      "phase": "Starting"}})");
  std::vector<Json> events = {
      Json::parse(R"({"type": "Normal", "reason": "Started", "message": "qemu is up",
                      "firstTimestamp": "2026-11-27T23:39:00Z",
                      "lastTimestamp": "2026-11-27T23:39:00Z",
                      "source": {"component": "lintel-agent"}})"),
      Json::parse(R"({"type": "Normal", "reason": "Scheduled", "message": "to host-1",
                      "firstTimestamp": "2026-11-27T23:30:00Z",
                      "lastTimestamp": "2026-11-27T23:35:00Z", "count": 3,
                      "reportingComponent": "lintel-scheduler"})"),
  };
  EXPECT_EQ(DescribeObject(vm, events, true, Now()),
            "Name:         db-1\n"
            "Namespace:    default\n"
            "Labels:       <none>\n"
            "Annotations:  long:\n"
            "                line one\n"
            "                line two\n"
            "              note: short\n"
            "API Version:  lintel.dev/v1alpha1\n"
            "Kind:         VirtualMachine\n"
            "Metadata:\n"
            "Status:\n"
            "  Conditions:\n"
            "    Type       Status  Reason    Age  Message\n"
            "    ----       ------  ------    ---  -------\n"
            "    Scheduled  True    Bound     5m   on host-1\n"
            "    Ready      False   Starting  30s  \n"
            "  Phase:  Starting\n"
            "Events:\n"
            "  Type    Reason     Age               From              Message\n"
            "  ----    ------     ----              ----              -------\n"
            "  Normal  Scheduled  5m (x3 over 10m)  lintel-scheduler  to host-1\n"
            "  Normal  Started    60s               lintel-agent      qemu is up\n");
}

TEST(DescribePrinterTest, WithoutEvents) {
  Json obj = {{"kind", "Host"}, {"metadata", {{"name", "h"}}}};
  std::string out = DescribeObject(obj, {}, false, Now());
  EXPECT_EQ(out.find("Events"), std::string::npos);
}

}  // namespace
}  // namespace lintel::cli
