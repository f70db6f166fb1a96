#include "scheduler/host_index.h"

#include <algorithm>
#include <numeric>

namespace lintel::scheduler {

namespace {

constexpr int64_t kMiB = int64_t{1} << 20;

int32_t Clamp32(int64_t v) { return static_cast<int32_t>(std::clamp<int64_t>(v, -1, INT32_MAX)); }

// Rounded up, so that a host's value never falls below what it can hold.
int32_t CeilMib(int64_t bytes) { return bytes < 0 ? -1 : Clamp32((bytes + kMiB - 1) / kMiB); }

}  // namespace

IndexQuery::IndexQuery(const Resources& need, const uint64_t* m)
    : cpu(need.cpu),
      memory_mib(CeilMib(std::max<int64_t>(need.memory, 0))),
      pods(Clamp32(need.pods)),
      vms(Clamp32(need.vms)),
      mask(m) {
  // Only the free memory of hosts with at least this much cpu can matter.
  for (int i = 0; i < HostIndex::kSteps; ++i) {
    if (HostIndex::kCpuSteps[i] <= need.cpu) {
      step = i;
    }
  }
}

HostIndex::Node HostIndex::Leaf(const Entry& entry) {
  Node n;
  if (!entry.usable) {
    return n;  // like padding: below every request
  }
  const Resources& free = entry.free;
  const Resources& allocatable = entry.allocatable;
  n.cpu = free.cpu;
  n.emptiness = Emptiness(allocatable, free);
  // A host short of memory holds nothing: -1 stays below any request.
  n.memory_mib = free.memory < 0 ? -1 : Clamp32((free.memory + kMiB - 1) / kMiB);
  n.pods = Clamp32(free.pods);
  n.vms = Clamp32(free.vms);
  for (int i = 0; i < kSteps; ++i) {
    n.memory_at[i] = free.cpu >= kCpuSteps[i] ? n.memory_mib : -1;
  }
  return n;
}

int64_t HostIndex::Emptiness(const Resources& allocatable, const Resources& free) {
  auto part = [](int64_t f, int64_t a) -> int64_t {
    if (a <= 0 || f <= 0) {
      return 0;
    }
    return static_cast<int64_t>((static_cast<__int128>(std::min(f, a)) << 20) / a);
  };
  return part(free.cpu, allocatable.cpu) + part(free.memory, allocatable.memory);
}

void HostIndex::Rebuild(std::span<const Entry> entries) {
  std::vector<uint32_t> order(entries.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) {
    const Resources& x = entries[a].allocatable;
    const Resources& y = entries[b].allocatable;
    if (x.memory != y.memory) {
      return x.memory > y.memory;
    }
    if (x.cpu != y.cpu) {
      return x.cpu > y.cpu;
    }
    return entries[a].id < entries[b].id;
  });
  HostId max_id = 0;
  for (const Entry& e : entries) {
    max_id = std::max(max_id, e.id);
  }
  position_.assign(entries.empty() ? 0 : max_id + 1, UINT32_MAX);
  host_at_.resize(entries.size());
  leaves_ = 1;
  while (leaves_ < entries.size()) {
    leaves_ *= 2;
  }
  nodes_.assign(size_t{2} * leaves_, Node());
  for (uint32_t pos = 0; pos < order.size(); ++pos) {
    const Entry& e = entries[order[pos]];
    host_at_[pos] = e.id;
    position_[e.id] = pos;
    nodes_[leaves_ + pos] = Leaf(e);
  }
  for (uint32_t node = leaves_ - 1; node >= 1; --node) {
    Pull(node);
  }
}

void HostIndex::Update(const Entry& entry) {
  uint32_t node = leaves_ + position_[entry.id];
  nodes_[node] = Leaf(entry);
  for (node /= 2; node >= 1; node /= 2) {
    Pull(node);
  }
}

void HostIndex::Pull(uint32_t node) {
  const Node& l = nodes_[size_t{2} * node];
  const Node& r = nodes_[size_t{2} * node + 1];
  Node& n = nodes_[node];
  n.cpu = std::max(l.cpu, r.cpu);
  n.emptiness = std::max(l.emptiness, r.emptiness);
  n.memory_mib = std::max(l.memory_mib, r.memory_mib);
  n.pods = std::max(l.pods, r.pods);
  n.vms = std::max(l.vms, r.vms);
  for (int i = 0; i < kSteps; ++i) {
    n.memory_at[i] = std::max(l.memory_at[i], r.memory_at[i]);
  }
}

}  // namespace lintel::scheduler
