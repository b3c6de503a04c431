#pragma once
// W8A8: int8 weights with one float32 scale per output channel, activations
// quantized per token at run time (symmetric, scale = max|x| / 127, round half
// to even). Products accumulate in int32; scales are applied after.
#include <algorithm>
#include <cstdint>

#include "backend/linear_weight.h"

namespace dsinfer::cpu {

// From this many tokens on, packing 32-row panels per call (avx512::int8_panel_rows)
// pays for itself (measured crossover ~72-96 tokens at K = 7168 with cached
// weights, lower at K = 2048); below it (decode, small expert batches) the
// dot-form tiles read the weights in place.
inline constexpr int64_t kInt8PanelMinTokens = 72;
// From this many tokens on, W8A8 linears run on AMX tiles where the CPU has
// them (below 16 on tiles only as wide as the step's tokens). gemv_bench,
// interleaved, from memory: at 2-3 tokens the tiles stream 63-105 % of the
// ceiling where the VNNI tiles got 43-80 %; at one token VNNI is as fast or
// faster (q_b_proj 81-96 % vs 63-70 %). The sums are exact either way.
inline constexpr int64_t kInt8AmxMinTokens = 2;
// Int8 activations: ~256 KB per token block, but at least 36 tokens so that
// long-K projections (o_proj, K = 16384) do not re-stream their weights for
// every dozen tokens.
inline int64_t int8_token_block(int64_t cols) {
  return std::max<int64_t>(36, 256 * 1024 / std::max<int64_t>(1, cols) / 12 * 12);
}

// q[t, c] = clamp(rint(x[t, c] / scale[t]), -127, 127), scale[t] = max|x[t]| / 127
// (scale 0 for an all-zero row, whose q is then all zero).
void quantize_per_token_int8(const float* x, int64_t n_tokens, int64_t cols, int8_t* q, float* scales);

// acc[t, r] = sum_c xq[t, c] * w[r, c] in int32, for rows [row_begin, row_begin + n_rows).
void gemm_int8_int32(const int8_t* xq, int64_t n_tokens, const int8_t* w, int64_t row_begin, int64_t n_rows,
                     int64_t cols, int32_t* acc, int64_t acc_stride);

// y[t, r] = acc * x_scale[t] * w_scale[row]: the full W8A8 linear on float input.
void linear_int8_rows(const LinearWeight& w, int64_t row_begin, int64_t n_rows, const float* x, int64_t n_tokens,
                      float* y, int64_t y_stride);

}  // namespace dsinfer::cpu
