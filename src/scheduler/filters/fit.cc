#include "scheduler/filters/fit.h"

namespace lintel::scheduler {

Reason FitFilter(const Resources& charge, const Resources& free) {
  if (charge.pods > free.pods) {
    return kTooManyPods;
  }
  if (charge.vms > free.vms) {
    return kTooManyVms;
  }
  if (charge.cpu > free.cpu) {
    return kInsufficientCpu;
  }
  if (charge.memory > free.memory) {
    return kInsufficientMemory;
  }
  return kPass;
}

}  // namespace lintel::scheduler
