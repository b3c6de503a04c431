#include "runtime/run_statistics.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace dsinfer {

double mean_of(const std::vector<double>& v) {
  return v.empty() ? 0.0 : std::accumulate(v.begin(), v.end(), 0.0) / static_cast<double>(v.size());
}

double percentile_of(std::vector<double> v, double q) {
  if (v.empty()) return 0.0;
  std::sort(v.begin(), v.end());
  const double pos = q / 100.0 * static_cast<double>(v.size() - 1);
  const size_t lo = static_cast<size_t>(std::floor(pos)), hi = std::min(lo + 1, v.size() - 1);
  return v[lo] + (v[hi] - v[lo]) * (pos - static_cast<double>(lo));
}

double outlier_filtered_mean(const std::vector<double>& v) {
  if (v.empty()) return 0.0;
  const double q1 = percentile_of(v, 25), q3 = percentile_of(v, 75);
  const double limit = q3 + 1.5 * (q3 - q1);
  std::vector<double> kept;
  for (double x : v)
    if (x <= limit) kept.push_back(x);
  return mean_of(kept);
}

}  // namespace dsinfer
