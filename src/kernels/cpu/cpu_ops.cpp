#include "kernels/cpu/cpu_ops.h"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "kernels/cpu/bf16_linear.h"
#include "kernels/cpu/cpu_features.h"
#include "kernels/cpu/head_gemm.h"
#include "kernels/cpu/int8_linear.h"
#include "kernels/cpu/linear_avx2.h"
#include "kernels/cpu/linear_avx512.h"
#include "kernels/cpu/multiversion.h"
#include "kernels/cpu/row_blocks.h"
#include "kernels/cpu/row_kernel.h"

namespace dsinfer::cpu {

DSINFER_MULTIVERSION float dot(const float* a, const float* b, int64_t n) {
  float acc = 0.f;
#pragma omp simd reduction(+ : acc)
  for (int64_t i = 0; i < n; ++i) acc += a[i] * b[i];
  return acc;
}

DSINFER_MULTIVERSION void axpy(float a, const float* x, float* y, int64_t n) {
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) y[i] += a * x[i];
}

DSINFER_MULTIVERSION void add_inplace(float* x, const float* y, int64_t n) {
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) x[i] += y[i];
}

DSINFER_MULTIVERSION void scale_inplace(float* x, int64_t n, float a) {
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) x[i] *= a;
}

void linear_rows(const LinearWeight& w, int64_t row_begin, int64_t n_rows, const float* x, int64_t n_tokens,
                 float* y, int64_t y_stride) {
  if (w.format == WeightFormat::Int8Channel) {
    linear_int8_rows(w, row_begin, n_rows, x, n_tokens, y, y_stride);
    return;
  }
  if (uses_bf16_products(w, n_tokens)) {
    linear_bf16_rows(w, row_begin, n_rows, x, n_tokens, y, y_stride);
    return;
  }
  if (const auto k = prepare_row_kernel(w, row_begin, n_rows, x, n_tokens, y, y_stride)) {
    run_row_kernel(*k);
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
  // Portable path: dequantize one weight row at a time into a thread-local
  // buffer, then use it for every token: each weight byte is read once.
#pragma omp parallel if (n_rows * n_tokens * cols > 32768)
  {
    std::vector<float> row(static_cast<size_t>(cols));
#pragma omp for schedule(static)
    for (int64_t r = 0; r < n_rows; ++r) {
      dequant_row(w, row_begin + r, row.data());
      for (int64_t t = 0; t < n_tokens; ++t) y[t * y_stride + r] = dot(x + t * cols, row.data(), cols);
    }
  }
}

void dequant_row(const LinearWeight& w, int64_t r, float* out) {
  const CpuFeatures& isa = cpu_features();
  if (isa.avx512_vbmi && w.format == WeightFormat::Fp8Block && w.block_cols % 64 == 0) {
    avx512::fp8_lut_dequant_row(static_cast<const uint8_t*>(w.data) + r * w.cols,
                                w.scale + (r / w.block_rows) * w.scale_cols(), w.cols, w.block_cols, out);
    return;
  }
  if (isa.avx512 && w.format == WeightFormat::Fp8Block) {
    avx512::dequant_fp8_row(static_cast<const uint8_t*>(w.data) + r * w.cols,
                            w.scale + (r / w.block_rows) * w.scale_cols(), w.cols, w.block_cols, out);
    return;
  }
  if (isa.avx512 && w.format == WeightFormat::BF16) {
    avx512::dequant_bf16_row(static_cast<const uint16_t*>(w.data) + r * w.cols, w.cols, out);
    return;
  }
  if (isa.avx2 && w.format == WeightFormat::Fp8Block && w.block_cols % 16 == 0) {
    avx2::dequant_fp8_row(static_cast<const uint8_t*>(w.data) + r * w.cols,
                          w.scale + (r / w.block_rows) * w.scale_cols(), w.cols, w.block_cols, out);
    return;
  }
  if (isa.avx2 && w.format == WeightFormat::BF16) {
    avx2::dequant_bf16_row(static_cast<const uint16_t*>(w.data) + r * w.cols, w.cols, out);
    return;
  }
  w.dequant_row(r, out);
}

bool left_multiply_rows(const LinearWeight& w, int64_t row_begin, int64_t n_rows, const float* x, int64_t ldx,
                        int64_t n_tokens, float* y, int64_t ldy) {
  const CpuFeatures& isa = cpu_features();
  if (isa.avx512_vbmi && w.format == WeightFormat::Fp8Block && w.cols % 64 == 0 && w.block_cols % 64 == 0) {
    avx512::fp8_lut_left_multiply(static_cast<const uint8_t*>(w.data), w.cols, w.scale, w.scale_cols(), w.block_rows,
                                  w.block_cols, row_begin, n_rows, x, ldx, n_tokens, y, ldy);
    return true;
  }
  if (isa.avx512 && w.format == WeightFormat::BF16 && w.cols % 32 == 0) {
    avx512::bf16_left_multiply(static_cast<const uint16_t*>(w.data), w.cols, row_begin, n_rows, x, ldx, n_tokens, y,
                               ldy);
    return true;
  }
  return false;
}

void linear(const LinearWeight& w, const float* x, int64_t n_tokens, float* y) {
  linear_rows(w, 0, w.rows, x, n_tokens, y, w.rows);
}

void linear_f32_accuracy(const LinearWeight& w, const float* x, int64_t n_tokens, float* y) {
  if (const auto k = prepare_bf16x3_kernel(w, 0, w.rows, x, n_tokens, y, w.rows)) {
    run_row_kernel(*k);
    return;
  }
  if (w.format == WeightFormat::BF16 && cpu_features().avx512) {
    linear_bf16_f32_panels(w, x, n_tokens, y);
    return;
  }
  LinearWeight exact = w;
  exact.bf16_inputs = false;
  linear(exact, x, n_tokens, y);
}

DSINFER_MULTIVERSION void rms_norm(const float* x, const float* weight, int64_t n_tokens, int64_t dim, double eps, float* out) {
  for (int64_t t = 0; t < n_tokens; ++t) {
    const float* xi = x + t * dim;
    float ss = dot(xi, xi, dim);
    const float inv = 1.0f / std::sqrt(ss / static_cast<float>(dim) + static_cast<float>(eps));
    float* o = out + t * dim;
    for (int64_t i = 0; i < dim; ++i) o[i] = weight[i] * (xi[i] * inv);
  }
}

DSINFER_MULTIVERSION void silu_mul(const float* gate, const float* up, int64_t n, float* out) {
  for (int64_t i = 0; i < n; ++i) {
    const float g = gate[i];
    out[i] = g / (1.0f + std::exp(-g)) * up[i];
  }
}

DSINFER_MULTIVERSION void softmax_inplace(float* x, int64_t n) {
  float m = -INFINITY;
  for (int64_t i = 0; i < n; ++i) m = std::max(m, x[i]);
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) x[i] -= m;
  exp_inplace(x, n);  // vectorized where the CPU allows (prefill attention is exp-heavy)
  float sum = 0.f;
#pragma omp simd reduction(+ : sum)
  for (int64_t i = 0; i < n; ++i) sum += x[i];
  const float inv = 1.0f / sum;
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) x[i] *= inv;
}

}  // namespace dsinfer::cpu
