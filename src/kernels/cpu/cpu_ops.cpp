#include "kernels/cpu/cpu_ops.h"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "kernels/cpu/int8_linear.h"

namespace dsinfer::cpu {

float dot(const float* a, const float* b, int64_t n) {
  float acc = 0.f;
#pragma omp simd reduction(+ : acc)
  for (int64_t i = 0; i < n; ++i) acc += a[i] * b[i];
  return acc;
}

void axpy(float a, const float* x, float* y, int64_t n) {
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) y[i] += a * x[i];
}

void linear_rows(const LinearWeight& w, int64_t row_begin, int64_t n_rows, const float* x, int64_t n_tokens,
                 float* y, int64_t y_stride) {
  if (w.format == WeightFormat::Int8Channel) {
    linear_int8_rows(w, row_begin, n_rows, x, n_tokens, y, y_stride);
    return;
  }
  const int64_t cols = w.cols;
  if (w.format == WeightFormat::F32) {
    const float* base = static_cast<const float*>(w.data);
#pragma omp parallel for schedule(static) if (n_rows * n_tokens * cols > 32768)
    for (int64_t r = 0; r < n_rows; ++r) {
      const float* row = base + (row_begin + r) * cols;
      for (int64_t t = 0; t < n_tokens; ++t) y[t * y_stride + r] = dot(x + t * cols, row, cols);
    }
    return;
  }
  // Dequantize one weight row at a time into a thread-local buffer, then use it
  // for every token: each weight byte is read once per call.
#pragma omp parallel if (n_rows * n_tokens * cols > 32768)
  {
    std::vector<float> row(static_cast<size_t>(cols));
#pragma omp for schedule(static)
    for (int64_t r = 0; r < n_rows; ++r) {
      w.dequant_row(row_begin + r, row.data());
      for (int64_t t = 0; t < n_tokens; ++t) y[t * y_stride + r] = dot(x + t * cols, row.data(), cols);
    }
  }
}

void linear(const LinearWeight& w, const float* x, int64_t n_tokens, float* y) {
  linear_rows(w, 0, w.rows, x, n_tokens, y, w.rows);
}

void linear_transposed_rows(const LinearWeight& w, int64_t row_begin, int64_t n_rows, const float* x,
                            int64_t n_tokens, float* y) {
  const int64_t cols = w.cols;
  std::fill(y, y + n_tokens * cols, 0.f);
  std::vector<float> row(static_cast<size_t>(cols));
  for (int64_t r = 0; r < n_rows; ++r) {
    w.dequant_row(row_begin + r, row.data());
    for (int64_t t = 0; t < n_tokens; ++t) axpy(x[t * n_rows + r], row.data(), y + t * cols, cols);
  }
}

void rms_norm(const float* x, const float* weight, int64_t n_tokens, int64_t dim, double eps, float* out) {
  for (int64_t t = 0; t < n_tokens; ++t) {
    const float* xi = x + t * dim;
    float ss = dot(xi, xi, dim);
    const float inv = 1.0f / std::sqrt(ss / static_cast<float>(dim) + static_cast<float>(eps));
    float* o = out + t * dim;
    for (int64_t i = 0; i < dim; ++i) o[i] = weight[i] * (xi[i] * inv);
  }
}

void silu_mul(const float* gate, const float* up, int64_t n, float* out) {
  for (int64_t i = 0; i < n; ++i) {
    const float g = gate[i];
    out[i] = g / (1.0f + std::exp(-g)) * up[i];
  }
}

void softmax_inplace(float* x, int64_t n) {
  float m = -INFINITY;
  for (int64_t i = 0; i < n; ++i) m = std::max(m, x[i]);
  float sum = 0.f;
  for (int64_t i = 0; i < n; ++i) {
    x[i] = std::exp(x[i] - m);
    sum += x[i];
  }
  const float inv = 1.0f / sum;
  for (int64_t i = 0; i < n; ++i) x[i] *= inv;
}

}  // namespace dsinfer::cpu
