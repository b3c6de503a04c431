#include "kernels/cpu/vocab_reductions.h"

#include <algorithm>
#include <cmath>

#include "kernels/cpu/cpu_features.h"
#include "kernels/cpu/head_gemm.h"
#include "kernels/cpu/multiversion.h"

namespace dsinfer::cpu {

namespace {
constexpr int64_t kLanes = 16;

// Max and a NaN flag over 16 independent lanes, so the loop vectorizes
// without -ffast-math (`a < b ? b : a` is exactly one vmaxps).
DSINFER_MULTIVERSION float lane_max(const float* v, int64_t n, bool* nan) {
  float acc[kLanes];
  int bad[kLanes] = {};
  std::fill(acc, acc + kLanes, -INFINITY);
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (int64_t j = 0; j < kLanes; ++j) {
      const float x = v[i + j];
      acc[j] = acc[j] < x ? x : acc[j];
      bad[j] |= x != x;
    }
  float m = -INFINITY;
  int any = 0;
  for (int64_t j = 0; j < kLanes; ++j) {
    m = std::max(m, acc[j]);
    any |= bad[j];
  }
  for (; i < n; ++i) {
    m = std::max(m, v[i]);
    any |= v[i] != v[i];
  }
  *nan = any != 0;
  return m;
}

// First index holding `value`: whole 16-wide blocks are tested at once.
DSINFER_MULTIVERSION int64_t first_equal(const float* v, int64_t n, float value) {
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes) {
    int hit = 0;
    for (int64_t j = 0; j < kLanes; ++j) hit |= v[i + j] == value;
    if (hit) break;
  }
  for (; i < n; ++i)
    if (v[i] == value) return i;
  return n;
}

DSINFER_MULTIVERSION void shift_scale(const float* v, int64_t n, float shift, float scale, float* out) {
  for (int64_t i = 0; i < n; ++i) out[i] = (v[i] - shift) * scale;
}

DSINFER_MULTIVERSION float sum_run(const float* x, int64_t n) {
  float acc[kLanes] = {};
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (int64_t j = 0; j < kLanes; ++j) acc[j] += x[i + j];
  float s = 0;
  for (int64_t j = 0; j < kLanes; ++j) s += acc[j];
  for (; i < n; ++i) s += x[i];
  return s;
}
}  // namespace

VocabMax vocab_max(const float* v, int64_t n) {
  const bool wide = cpu_features().avx512;
  VocabMax r;
  bool nan = false;
  r.max = wide ? avx512::vocab_max(v, n, &nan) : lane_max(v, n, &nan);
  if (nan) {
    for (int64_t i = 0; i < n; ++i)
      if (std::isnan(v[i])) {
        r.first_nan = i;
        break;
      }
    return r;
  }
  r.argmax = wide ? avx512::first_equal(v, n, r.max) : first_equal(v, n, r.max);
  return r;
}

double exp_shifted(const float* v, int64_t n, float shift, float scale, float* out) {
  if (cpu_features().avx512) return avx512::exp_shifted(v, n, shift, scale, out);
  // Runs of 1024 in float (16 lanes of 64 terms each), then double: the sum
  // of 100K+ terms keeps ~1e-7 relative accuracy.
  float run[1024];
  double total = 0;
  for (int64_t i = 0; i < n; i += 1024) {
    const int64_t len = std::min<int64_t>(1024, n - i);
    float* dst = out ? out + i : run;
    shift_scale(v + i, len, shift, scale, dst);
    exp_inplace(dst, len);
    total += sum_run(dst, len);
  }
  return total;
}

}  // namespace dsinfer::cpu
