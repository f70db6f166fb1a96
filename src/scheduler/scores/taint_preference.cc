#include "scheduler/scores/taint_preference.h"

namespace lintel::scheduler {

int64_t UntoleratedPreferNoSchedule(const HostInfo& host, const WorkloadInfo& w) {
  int64_t n = 0;
  for (const Taint& t : host.taints) {
    if (t.effect == TaintEffect::kPreferNoSchedule && !Tolerated(w.tolerations, t)) {
      ++n;
    }
  }
  return n;
}

}  // namespace lintel::scheduler
