#pragma once
// A bf16 weight read at every step (the lm_head, the MTP shared_head) as
// 16-row k-major panels, packed once at load on CPUs whose float32 path is
// AVX2 (no AVX-512). The row-major dot-form tiles there load one activation
// vector per FMA and reach ~55 % of the FMA peak from L2 on Zen 3; the
// panels' broadcast FMAs reach ~100 %: per k one 32-byte load holds a
// column of 16 rows, widened by one shift and one and, and each token's
// x[k] is broadcast into two FMAs (one-thread harness, 48 rows x K 2048 x
// 12 tokens in L2: 4 x 3 dot tiles 53-59 GFLOP/s, panels of 16 rows x 4-6
// tokens 95-97, FMA loop 94).
//
// Layout: element (k, j) of panel p is at [(p * cols + k) * 16 + j]; an even
// j holds row 16p + j/2, an odd j row 16p + 8 + j/2 (so the shift gives rows
// 0-7 and the mask rows 8-15 as float32); rows past the matrix are zero.
// Memory: the rows rounded up to 16 x cols x 2 bytes, beside the mapped
// checkpoint tensor, whose pages are not read again (the page cache may
// drop them).
//
// Every output is one FMA chain over k from 0 in order (acc = fma(w[k],
// x[k], acc)), whatever the token count or tile: a token's result does not
// depend on how many tokens share its step (MTP verify steps give the
// greedy tokens of plain decode).
#include <cstdint>
#include <memory>

#include "backend/linear_weight.h"

namespace dsinfer::cpu {

inline constexpr int64_t kPanel16Rows = 16;

// Whether this CPU's linear_rows would run w on the panels: BF16 weights at
// float32 accuracy on AVX2 without AVX-512.
bool bf16_panels_apply(const LinearWeight& w);

// w's values in the panel layout (64-byte aligned).
std::shared_ptr<const void> pack_bf16_panels(const LinearWeight& w);

namespace avx2 {
// y[t * ldy + r - out_row0] = sum_k W[r, k] x[t * cols + k] for rows
// [r0, r1) and tokens [t0, t1), from the panels of a matrix of cols columns.
void bf16_panel_rows(const uint16_t* panels, int64_t cols, int64_t r0, int64_t r1, const float* x, int64_t t0,
                     int64_t t1, float* y, int64_t ldy, int64_t out_row0);
}  // namespace avx2

}  // namespace dsinfer::cpu
