#include "scheduler/scores/normalize.h"

#include <algorithm>

#include "scheduler/scores/score.h"

namespace lintel::scheduler {

void NormalizeByMax(std::span<int64_t> scores, bool reverse) {
  int64_t max = 0;
  for (int64_t s : scores) {
    max = std::max(max, s);
  }
  for (int64_t& s : scores) {
    int64_t v = max <= 0 ? 0 : std::max<int64_t>(s, 0) * kMaxScore / max;
    s = reverse ? kMaxScore - v : v;
  }
}

void NormalizeMinMax(std::span<int64_t> scores) {
  if (scores.empty()) {
    return;
  }
  auto [lo, hi] = std::minmax_element(scores.begin(), scores.end());
  const int64_t min = *lo;
  const int64_t range = *hi - *lo;
  for (int64_t& s : scores) {
    s = range == 0 ? 0 : (s - min) * kMaxScore / range;
  }
}

}  // namespace lintel::scheduler
