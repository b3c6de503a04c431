#pragma once
// W8A8: int8 weights with one float32 scale per output channel, activations
// quantized per token at run time (symmetric, scale = max|x| / 127, round half
// to even). Products accumulate in int32; scales are applied after.
#include <cstdint>

#include "backend/linear_weight.h"

namespace dsinfer::cpu {

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
