#pragma once
// BF16 weights times bf16-rounded activations (vdpbf16ps, float32
// accumulation): twice the rate of exact float32 products. Used where the
// model runs at bf16 compute precision (LinearWeight::bf16_inputs).
#include <cstdint>

#include "kernels/linear_weight.h"

namespace dsinfer::cpu {

// Below this many tokens a linear is memory-bound: bf16 products would buy
// nothing, so linear_rows keeps exact float32 products there (decode) even
// for weights marked bf16_inputs. From here on packing 32-row panels pays
// for itself too (as for the int8 panels).
inline constexpr int64_t kBf16MinTokens = 48;

// Same contract as linear_rows; needs AVX512_BF16 (callers check).
void linear_bf16_rows(const LinearWeight& w, int64_t row_begin, int64_t n_rows, const float* x, int64_t n_tokens,
                      float* y, int64_t y_stride);

}  // namespace dsinfer::cpu
