#pragma once
// Weights repacked once at load into 16-row k-major panels, on CPUs whose
// float32 path is AVX2 (no AVX-512): BF16 weights (every linear of a bf16
// checkpoint; the lm_head, MTP shared_head and eh_proj of the FP8 and W8A8
// ones) and FP8 block-scaled ones (the release checkpoint). The row-major
// dot-form tiles there load one activation vector per FMA and reach ~55 %
// of the FMA peak from L2 on Zen 3; the panels' broadcast FMAs reach ~100 %
// (bf16): per k one load holds a column of 16 rows, widened once for every
// token of the tile, and each token's x[k] is broadcast into two FMAs
// (one-thread harness, 48 rows x K 2048 x 12 tokens in L2: 4 x 3 dot tiles
// 53-59 GFLOP/s, bf16 panels of 16 rows x 4-6 tokens 95-97, FMA loop 94).
//
// Layout, panel p covering rows [16p, 16p + 16), column k at
// [(p * cols + k) * 16 + j] (rows past the matrix are zero):
// - BF16 (uint16): an even j holds row 16p + j/2, an odd j row 16p + 8 + j/2,
//   so one shift gives rows 0-7 and one mask rows 8-15 as float32.
// - FP8 (the e4m3 code, one byte): j holds row 16p + j. The block scales stay
//   the checkpoint's (16 | block_rows: a panel lies in one row block).
// Memory: the rows rounded up to 16 x cols x (2 or 1) bytes, in place of
// the mapped tensor's pages, which the backend hands back to the OS (the
// weight scales stay mapped); within a budget (pack_budget.h).
//
// Every output is one FMA chain over k from 0 in order, whatever the token
// count or tile (a token's result does not depend on how many tokens share
// its step: MTP verify steps give the greedy tokens of plain decode):
// BF16 acc = fma(w[k], x[k], acc); FP8 acc = fma(value(code[k]) * scale, x[k],
// acc) with the float32 product value * scale of the block's scale.
#include <cstdint>
#include <memory>

#include "backend/linear_weight.h"

namespace dsinfer::cpu {

inline constexpr int64_t kPanel16Rows = 16;
// Panels per one-token tile: bf16 4 (8 accumulators); FP8 3 (with 4, the
// panels' scales in registers too left 6 of the 8 accumulators on the
// stack: a store and a reload per FMA).
inline constexpr int kBf16OneTokenPanels = 4, kFp8OneTokenPanels = 3;

// Whether the CPU backend packs w at load (and linear_rows then runs it on
// the panels): BF16, or FP8 with 16 | block_rows, on AVX2 without AVX-512.
bool load_panels_apply(const LinearWeight& w);

// Rows one thread's one-token tile covers (4 bf16 / 3 FP8 panels): work
// chunks of a multiple of these keep every tile whole.
int64_t load_panels_group_rows(const LinearWeight& w);

// Bytes of w's panels.
uint64_t load_panels_bytes(const LinearWeight& w);

// w's values in the panel layout (64-byte aligned); null for an FP8 weight
// holding a NaN code (its panels widen without the NaN fix-up; the dot-form
// tiles, which keep NaN, run it instead).
std::shared_ptr<const void> pack_load_panels(const LinearWeight& w);

namespace avx2 {
// y[t * ldy + r - out_row0] = sum_k W[r, k] x[t * w.cols + k] for rows
// [r0, r1) and tokens [t0, t1), from w.packed (pack_load_panels).
void load_panel_rows(const LinearWeight& w, int64_t r0, int64_t r1, const float* x, int64_t t0, int64_t t1,
                     float* y, int64_t ldy, int64_t out_row0);
}  // namespace avx2

}  // namespace dsinfer::cpu
