#include "kernels/cpu/int8_linear.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "kernels/cpu/aligned_buffer.h"
#include "kernels/cpu/cpu_features.h"
#include "kernels/cpu/linear_avx2.h"
#include "kernels/cpu/linear_avx512.h"
#include "kernels/cpu/row_blocks.h"
#include "kernels/cpu/row_kernel.h"

namespace dsinfer::cpu {

namespace {


std::vector<int32_t> token_sums(const int8_t* xq, int64_t n_tokens, int64_t cols) {
  std::vector<int32_t> s(static_cast<size_t>(n_tokens), 0);
  for (int64_t t = 0; t < n_tokens; ++t)
    for (int64_t c = 0; c < cols; ++c) s[t] += xq[t * cols + c];
  return s;
}


// Tokens per block for the panel kernel: the block's activations (re-read for
// every panel) stay in L3; each panel is packed once per block.
int64_t panel_token_block(int64_t cols) { return token_block(8 << 20, cols, 48); }

// Panel-form GEMM over rows [row_begin, row_begin + n_rows): panels spread over
// the team (dynamic, like for_row_blocks), one pack buffer per thread
// (32 x cols bytes, <= 512 KB at K = 16384; freed on return).
void int8_panels(const int8_t* w, int64_t cols, int64_t row_begin, int64_t n_rows, const int8_t* xq,
                 const int32_t* sums, int64_t n_tokens, const float* xs, const float* ws, float* y, int32_t* acc32,
                 int64_t ldy) {
  // The kernel reads x in 4-byte groups: rows whose length is not a multiple
  // of 4 get a zero-padded copy (model shapes never need it).
  int64_t ldx = cols;
  std::vector<int8_t> padded;
  if (cols % 4) {
    ldx = (cols + 3) / 4 * 4;
    padded.assign(static_cast<size_t>(n_tokens * ldx), 0);
    for (int64_t t = 0; t < n_tokens; ++t) std::copy(xq + t * cols, xq + (t + 1) * cols, padded.data() + t * ldx);
    xq = padded.data();
  }
  for_packed_panels<uint8_t>(n_rows, avx512::kInt8PanelRows, n_tokens, panel_token_block(cols),
                             static_cast<size_t>(avx512::int8_panel_bytes(cols)),
                             [&](uint8_t* pack, int64_t p0, int64_t nr, int64_t t0, int64_t t1) {
                               const int64_t r0 = row_begin + p0;
                               avx512::int8_pack_panel(w, cols, r0, nr, pack);
                               avx512::int8_panel_rows(pack, cols, r0, nr, xq, ldx, sums, t0, t1, xs, ws, y, acc32,
                                                       ldy, row_begin);
                             });
}

}  // namespace

void quantize_per_token_int8(const float* x, int64_t n_tokens, int64_t cols, int8_t* q, float* scales) {
  if (cpu_features().avx512) {
    std::vector<int32_t> sums(static_cast<size_t>(n_tokens));
    avx512::quantize_int8(x, n_tokens, cols, q, scales, sums.data());
    return;
  }
  if (cpu_features().avx2) {
    avx2::quantize_int8(x, n_tokens, cols, q, scales);
    return;
  }
  for (int64_t t = 0; t < n_tokens; ++t) {
    const float* xi = x + t * cols;
    float amax = 0.f;
    for (int64_t c = 0; c < cols; ++c) amax = std::max(amax, std::fabs(xi[c]));
    const float scale = amax / 127.0f;
    scales[t] = scale;
    int8_t* qi = q + t * cols;
    if (scale == 0.f) {
      std::fill(qi, qi + cols, int8_t{0});
      continue;
    }
    for (int64_t c = 0; c < cols; ++c) {
      // nearbyint rounds half to even in the default rounding mode.
      float v = std::nearbyint(xi[c] / scale);
      v = std::min(127.f, std::max(-127.f, v));
      qi[c] = static_cast<int8_t>(v);
    }
  }
}

void gemm_int8_int32(const int8_t* xq, int64_t n_tokens, const int8_t* w, int64_t row_begin, int64_t n_rows,
                     int64_t cols, int32_t* acc, int64_t acc_stride) {
  if (cpu_features().avx512_vnni) {
    const std::vector<int32_t> sums = token_sums(xq, n_tokens, cols);
    if (n_tokens >= kInt8PanelMinTokens) {
      int8_panels(w, cols, row_begin, n_rows, xq, sums.data(), n_tokens, nullptr, nullptr, nullptr, acc, acc_stride);
      return;
    }
    for_row_blocks(n_rows, n_tokens, int8_token_block(cols), n_rows * n_tokens * cols, [&](int64_t r0, int64_t r1, int64_t t0, int64_t t1) {
      avx512::int8_rows(w, cols, row_begin + r0, row_begin + r1, xq, sums.data(), t0, t1, nullptr, nullptr, nullptr,
                        acc, acc_stride, row_begin);
    });
    return;
  }
  // The AVX2 tiles need x in [-127, 127] (what quantization produces; see
  // avx2::int8_rows); other int8 inputs take the portable loop.
  if (cpu_features().avx2 && std::find(xq, xq + n_tokens * cols, int8_t{-128}) == xq + n_tokens * cols) {
    for_row_blocks(n_rows, n_tokens, int8_token_block(cols), n_rows * n_tokens * cols,
                   [&](int64_t r0, int64_t r1, int64_t t0, int64_t t1) {
                     avx2::int8_rows(w, cols, row_begin + r0, row_begin + r1, xq, t0, t1, nullptr, nullptr, nullptr,
                                     acc, acc_stride, row_begin);
                   });
    return;
  }
#pragma omp parallel for schedule(static) if (n_rows * n_tokens * cols > 65536)
  for (int64_t r = 0; r < n_rows; ++r) {
    const int8_t* wr = w + (row_begin + r) * cols;
    for (int64_t t = 0; t < n_tokens; ++t) {
      const int8_t* xt = xq + t * cols;
      int32_t s = 0;
#pragma omp simd reduction(+ : s)
      for (int64_t c = 0; c < cols; ++c) s += static_cast<int32_t>(xt[c]) * static_cast<int32_t>(wr[c]);
      acc[t * acc_stride + r] = s;
    }
  }
}

void linear_int8_rows(const LinearWeight& w, int64_t row_begin, int64_t n_rows, const float* x, int64_t n_tokens,
                      float* y, int64_t y_stride) {
  // Few tokens: the dot-form tiles (quantize once, int32 dot products with
  // the scale epilogue fused: the same expression as below, bit-identical).
  if (const auto k = prepare_row_kernel(w, row_begin, n_rows, x, n_tokens, y, y_stride)) {
    run_row_kernel(*k);
    return;
  }
  const int64_t cols = w.cols;
  std::vector<int8_t> xq(static_cast<size_t>(n_tokens * cols));
  std::vector<float> xs(static_cast<size_t>(n_tokens));
  if (cpu_features().avx512_vnni) {  // many tokens: packed panels
    std::vector<int32_t> sums(static_cast<size_t>(n_tokens));
    avx512::quantize_int8(x, n_tokens, cols, xq.data(), xs.data(), sums.data());
    int8_panels(static_cast<const int8_t*>(w.data), cols, row_begin, n_rows, xq.data(), sums.data(), n_tokens,
                xs.data(), w.scale, y, nullptr, y_stride);
    return;
  }
  quantize_per_token_int8(x, n_tokens, cols, xq.data(), xs.data());
  std::vector<int32_t> acc(static_cast<size_t>(n_tokens * n_rows));
  gemm_int8_int32(xq.data(), n_tokens, static_cast<const int8_t*>(w.data), row_begin, n_rows, cols, acc.data(),
                  n_rows);
  for (int64_t t = 0; t < n_tokens; ++t)
    for (int64_t r = 0; r < n_rows; ++r)
      y[t * y_stride + r] = static_cast<float>(acc[t * n_rows + r]) * xs[t] * w.scale[row_begin + r];
}

}  // namespace dsinfer::cpu
