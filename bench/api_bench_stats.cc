// Percentiles and durations for the report.
#include <algorithm>
#include <cmath>

#include "api_bench.h"

namespace lintel::bench {

namespace {

// Nearest rank: the smallest sample with at least q of the samples at or below it.
double Rank(const std::vector<double>& sorted, double q) {
  if (sorted.empty()) {
    return 0;
  }
  auto i = static_cast<size_t>(std::ceil(q * static_cast<double>(sorted.size())));
  return sorted[std::clamp<size_t>(i, 1, sorted.size()) - 1];
}

}  // namespace

Percentiles Summarize(std::vector<double> samples) {
  std::sort(samples.begin(), samples.end());
  Percentiles p;
  p.n = samples.size();
  p.p50 = Rank(samples, 0.50);
  p.p90 = Rank(samples, 0.90);
  p.p99 = Rank(samples, 0.99);
  p.p999 = Rank(samples, 0.999);
  p.max = samples.empty() ? 0 : samples.back();
  return p;
}

double Median(std::vector<double> samples) {
  if (samples.empty()) {
    return 0;
  }
  std::sort(samples.begin(), samples.end());
  size_t n = samples.size();
  return n % 2 == 1 ? samples[n / 2] : (samples[n / 2 - 1] + samples[n / 2]) / 2;
}

double Seconds(SteadyClock::duration d) { return std::chrono::duration<double>(d).count(); }
double Millis(SteadyClock::duration d) {
  return std::chrono::duration<double, std::milli>(d).count();
}

}  // namespace lintel::bench
