// Object builders for the scheduler's tests: hosts and workloads in one line.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include "apimachinery/labels.h"
#include "scheduler/model.h"
#include "scheduler/snapshot.h"

namespace lintel::scheduler::testing {

inline constexpr int64_t kGi = int64_t{1} << 30;
inline constexpr int64_t kMi = int64_t{1} << 20;

// A ready kvm + sandbox host with `cores` cpus and `gib` GiB, default ratios.
inline HostInfo Host(std::string name, int64_t cores, int64_t gib, Labels labels = {}) {
  HostInfo h;
  h.name = std::move(name);
  h.labels = std::move(labels);
  NormalizeLabels(&h.labels);
  h.ready = true;
  h.accelerator = Accelerator::kKvm;
  h.sandbox = true;
  h.allocatable = {cores * 1000, gib * kGi, 110, 64};
  return h;
}

inline WorkloadInfo Pod(std::string name, int64_t milli, int64_t mib, Labels labels = {}) {
  WorkloadInfo w;
  w.kind = WorkloadKind::kPod;
  w.ns = "default";
  w.name = std::move(name);
  w.uid = "uid-" + w.name;
  w.labels = std::move(labels);
  NormalizeLabels(&w.labels);
  w.requests = {milli, mib * kMi, 0, 0};
  return w;
}

// A VM with `vcpus` and `mib` MiB of guest memory, with QEMU overhead.
inline WorkloadInfo Vm(std::string name, int64_t vcpus, int64_t mib, Labels labels = {}) {
  WorkloadInfo w = Pod(std::move(name), vcpus * 1000, mib, std::move(labels));
  w.kind = WorkloadKind::kVirtualMachine;
  w.overhead.memory = VmMemoryOverhead(mib * kMi, vcpus);
  return w;
}

inline apimachinery::LabelSelector Sel(std::string_view text) {
  auto s = apimachinery::LabelSelector::Parse(text);
  EXPECT_TRUE(s.ok()) << text;
  return s.ok() ? *s : apimachinery::LabelSelector::Nothing();
}

inline WorkloadTerm Term(std::string_view selector, std::string key) {
  return WorkloadTerm{Sel(selector), {}, std::move(key)};
}

inline HostId MustAdd(Snapshot& s, HostInfo h) {
  auto id = s.AddHost(std::move(h));
  EXPECT_TRUE(id.ok()) << id.status().ToString();
  return id.ok() ? *id : kNoHost;
}

}  // namespace lintel::scheduler::testing
