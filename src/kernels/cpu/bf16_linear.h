#pragma once
// BF16 weights times bf16-rounded activations (vdpbf16ps, float32
// accumulation): twice the rate of exact float32 products. Used where the
// model runs at bf16 compute precision (LinearWeight::bf16_inputs).
#include <cstdint>

#include "backend/linear_weight.h"

namespace dsinfer::cpu {

// Below this many tokens a bf16 linear is memory-bound (one token is 1 FLOP
// per weight byte; these machines do ~7 float32 FLOP per byte of read
// bandwidth): bf16 products would buy nothing, so linear_rows keeps exact
// float32 products there (decode of small batches) even for weights marked
// bf16_inputs.
inline constexpr int64_t kBf16MinTokens = 8;
// From this many tokens on, packing 32-row panels pays for itself (as for
// the int8 panels); below it the dot-form tiles read the weights in place.
inline constexpr int64_t kBf16PanelMinTokens = 16;

// Whether a linear runs on bf16 products (vdpbf16ps) rather than exact
// float32 ones: bf16 weights allowed bf16-rounded inputs, on a CPU with
// AVX512_BF16, for at least kBf16MinTokens tokens. Where vdpbf16ps is the
// slower unit, decode-sized batches keep the float32 tiles; prefill-sized
// ones still need the packed bf16 panels (the float32 dot-form tiles would
// re-stream the weights per 12 tokens).
bool uses_bf16_products(const LinearWeight& w, int64_t n_tokens);

// Whether bf16 products of w run on AMX tiles (AMX-BF16, cols % 32 == 0):
// then for every token count (one kernel, so results are batch-invariant),
// whatever the vector units' speed.
bool bf16_tiles_apply(const LinearWeight& w);

// Same contract as linear_rows; needs AVX512_BF16 (callers check).
void linear_bf16_rows(const LinearWeight& w, int64_t row_begin, int64_t n_rows, const float* x, int64_t n_tokens,
                      float* y, int64_t y_stride);

// y = x W^T for bf16 W and float32 x with exact float32 products, for many
// tokens (32-row float32 panels; needs AVX-512, callers check): a token's
// result does not depend on the token count.
void linear_bf16_f32_panels(const LinearWeight& w, const float* x, int64_t n_tokens, float* y);

}  // namespace dsinfer::cpu
