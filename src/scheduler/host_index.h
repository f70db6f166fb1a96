// HostIndex: hosts ordered by capacity (largest first) in a segment tree whose nodes keep
// the maximum free cpu, memory, pods and vms and the maximum "emptiness" below them, so
// that the scheduler finds fitting hosts without scanning the cluster:
//
//   FirstFit  visits hosts that may fit, leftmost (largest host) first: bin-pack.
//             Subtrees whose maxima cannot hold the request are skipped.
//   MostFree  visits hosts that may fit, emptier subtrees first (depth-first, the child
//             with the emptier host first): spread. The first host visited is the
//             emptiest unless a false positive of the pruning leads elsewhere; later ones
//             are its neighbours in the tree, not the global runners-up (a best-first
//             search gives those exactly but was 3x slower for 8 candidates).
//
//                 [max free cpu/mem/pods/vms, max emptiness, max mem at cpu >= T]
//                  /                                      |
//           [ ... ]                                    [ ... ]
//           /     |                                    /     |
//      pos 0    pos 1   ...  (hosts by allocatable memory desc, cpu desc, id)
//
// Per-resource maxima alone prune badly in two dimensions: a packed cluster is full of
// hosts with cpu but no memory left and others the other way round, and a subtree holding
// both looks like it fits everything. So each node also keeps, for a few cpu thresholds T,
// the most free memory among its hosts with at least T millicores free; a query uses the
// largest T not above its cpu. An optional bit mask over positions (from the static
// filters) prunes 64-host blocks with no feasible host. The visitor does the exact checks; visiting
// is cheap: O(log n) per host visited. Update is O(log n).
//
// Owned by a Snapshot, which keeps it current; one thread at a time, like the Snapshot.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <span>
#include <vector>

#include "scheduler/model.h"

namespace lintel::scheduler {

using HostId = uint32_t;
inline constexpr HostId kNoHost = UINT32_MAX;

// The lower bounds a host must meet to be visited.
struct IndexQuery {
  IndexQuery(const Resources& need, const uint64_t* mask);

  int64_t cpu = 0;
  int32_t memory_mib = 0;  // rounded up
  int32_t pods = 0;
  int32_t vms = 0;
  int step = -1;                   // the largest cpu threshold <= cpu, -1 for none
  const uint64_t* mask = nullptr;  // bit per position; nullptr: all hosts
};

class HostIndex {
 public:
  // Cpu thresholds (millicores) of the per-node memory maxima: a tenth of a core to 16.
  static constexpr int kSteps = 8;
  static constexpr int64_t kCpuSteps[kSteps] = {100, 250, 500, 1000, 2000, 4000, 8000, 16000};

  struct Entry {
    HostId id = 0;
    Resources allocatable;
    Resources free;
    // False for a host that takes nothing new (NotReady, cordoned): it stays in the order
    // but reads as full, so that it never keeps a subtree from being pruned.
    bool usable = true;
  };

  // Orders the hosts and builds the tree: O(n log n).
  void Rebuild(std::span<const Entry> entries);
  // A host's free resources changed: O(log n).
  void Update(const Entry& entry);

  size_t size() const { return host_at_.size(); }
  uint32_t position(HostId id) const { return position_[id]; }
  HostId host_at(uint32_t position) const { return host_at_[position]; }
  // 2^20 * (free cpu / allocatable cpu + free memory / allocatable memory), clamped at 0.
  static int64_t Emptiness(const Resources& allocatable, const Resources& free);

  // Calls visit(HostId) -> bool (true: stop) for hosts that may fit `q`, in position order.
  template <typename Visit>
  void FirstFit(const IndexQuery& q, Visit&& visit) const;
  // The same, emptier subtrees first (ties: lower position first).
  template <typename Visit>
  void MostFree(const IndexQuery& q, Visit&& visit) const;

 private:
  // 64 bytes. Memory in MiB rounded up (an upper bound, so pruning stays sound); counts
  // clamped to int32.
  struct Node {
    int64_t cpu = -1;
    int64_t emptiness = -1;
    int32_t memory_mib = -1;
    int32_t pods = -1;
    int32_t vms = -1;
    int32_t memory_at[kSteps] = {-1, -1, -1, -1, -1, -1, -1, -1};
  };
  static Node Leaf(const Entry& entry);
  // Whether the subtree at `node` (positions [lo, lo + span)) may hold a fitting host.
  bool MayFit(const IndexQuery& q, uint32_t node, uint32_t lo, uint32_t span) const;
  void Pull(uint32_t node);

  uint32_t leaves_ = 0;  // a power of two >= size()
  std::vector<Node> nodes_;
  std::vector<uint32_t> position_;  // by HostId
  std::vector<HostId> host_at_;     // by position
};

inline bool HostIndex::MayFit(const IndexQuery& q, uint32_t node, uint32_t lo,
                              uint32_t span) const {
  const Node& n = nodes_[node];
  if (n.cpu < q.cpu || n.memory_mib < q.memory_mib || n.pods < q.pods || n.vms < q.vms) {
    return false;
  }
  if (q.step >= 0 && n.memory_at[q.step] < q.memory_mib) {
    return false;
  }
  if (q.mask != nullptr && span <= 64) {
    uint64_t bits = q.mask[lo >> 6] >> (lo & 63);
    if (span < 64) {
      bits &= (uint64_t{1} << span) - 1;
    }
    return bits != 0;
  }
  return true;
}

template <typename Visit>
void HostIndex::FirstFit(const IndexQuery& q, Visit&& visit) const {
  if (host_at_.empty()) {
    return;
  }
  struct Frame {
    uint32_t node, lo, span;
  };
  std::array<Frame, 80> stack;
  size_t top = 0;
  stack[top++] = {1, 0, leaves_};
  while (top > 0) {
    Frame f = stack[--top];
    if (!MayFit(q, f.node, f.lo, f.span)) {
      continue;
    }
    if (f.span == 1) {
      if (q.mask != nullptr && ((q.mask[f.lo >> 6] >> (f.lo & 63)) & 1) == 0) {
        continue;
      }
      if (visit(host_at_[f.lo])) {
        return;
      }
      continue;
    }
    uint32_t half = f.span / 2;
    stack[top++] = {2 * f.node + 1, f.lo + half, half};
    stack[top++] = {2 * f.node, f.lo, half};
  }
}

template <typename Visit>
void HostIndex::MostFree(const IndexQuery& q, Visit&& visit) const {
  if (host_at_.empty()) {
    return;
  }
  struct Frame {
    uint32_t node, lo, span;
  };
  std::array<Frame, 80> stack;
  size_t top = 0;
  stack[top++] = {1, 0, leaves_};
  while (top > 0) {
    Frame f = stack[--top];
    if (!MayFit(q, f.node, f.lo, f.span)) {
      continue;
    }
    if (f.span == 1) {
      if (q.mask != nullptr && ((q.mask[f.lo >> 6] >> (f.lo & 63)) & 1) == 0) {
        continue;
      }
      if (visit(host_at_[f.lo])) {
        return;
      }
      continue;
    }
    uint32_t half = f.span / 2;
    Frame left{2 * f.node, f.lo, half};
    Frame right{2 * f.node + 1, f.lo + half, half};
    // The emptier child pops first; on a tie, the left one.
    if (nodes_[right.node].emptiness > nodes_[left.node].emptiness) {
      std::swap(left, right);
    }
    stack[top++] = right;
    stack[top++] = left;
  }
}

}  // namespace lintel::scheduler
