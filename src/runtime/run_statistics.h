#pragma once
// Summary statistics of per-step timings for the run report.
#include <vector>

namespace dsinfer {

double mean_of(const std::vector<double>& v);
// Linear-interpolated percentile (q in [0, 100]), as numpy's default.
double percentile_of(std::vector<double> v, double q);
// The seed's decode average: drop samples above Q3 + 1.5 * IQR, average the rest.
double outlier_filtered_mean(const std::vector<double>& v);

}  // namespace dsinfer
