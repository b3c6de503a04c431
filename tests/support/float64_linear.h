#pragma once
// Float64 reference for bf16-weight linears computed at float32 accuracy:
// the worst |y - ref| / sum|products| over all outputs, and the bound a
// float32 sum of exact products meets (a few ulps of the magnitude; one bf16
// rounding of x alone would leave ~2^-9 / sqrt(cols) of it).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "io/numeric_formats.h"

namespace dsinfer::test {

inline double float32_sum_bound(int64_t cols) { return 8 * std::ldexp(1.0, -24) * std::sqrt(double(cols)); }

// y [tokens][rows] against bf16 weights wb [rows][cols] and x [tokens][cols].
inline double worst_relative_error(const std::vector<uint16_t>& wb, const float* x, const float* y, int64_t tokens,
                                   int64_t rows, int64_t cols) {
  double worst = 0;
  for (int64_t t = 0; t < tokens; ++t)
    for (int64_t r = 0; r < rows; ++r) {
      double ref = 0, mag = 0;
      for (int64_t k = 0; k < cols; ++k) {
        const double p = double(bf16_to_float(wb[r * cols + k])) * x[t * cols + k];
        ref += p, mag += std::fabs(p);
      }
      worst = std::max(worst, std::fabs(y[t * rows + r] - ref) / std::max(mag, 1e-300));
    }
  return worst;
}

}  // namespace dsinfer::test
