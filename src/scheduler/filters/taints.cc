#include "scheduler/filters/taints.h"

namespace lintel::scheduler {

Reason TaintFilter(const HostInfo& host, const WorkloadInfo& w) {
  for (const Taint& taint : host.taints) {
    if (taint.effect == TaintEffect::kPreferNoSchedule) {
      continue;
    }
    if (!Tolerated(w.tolerations, taint)) {
      return kUntoleratedTaint;
    }
  }
  return kPass;
}

}  // namespace lintel::scheduler
