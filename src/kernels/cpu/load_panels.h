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
// BF16 acc = fma(w[k], x[k], acc); FP8 acc = fma(value(code[k]) * 2^-120,
// x[k] * (scale * 2^64), acc), y = acc * 2^56: the code's float32 image
// (exact, a subnormal for a subnormal code) times the activation scaled
// once per row block (the scale off the weights saves a multiply per 8
// weights). Where subnormal operands slow the FMAs the same products come
// from value * 2^-8 times x * (scale * 2^-48) (Fp8Widening). The 2^64 keeps
// the chain in normal floats for every output above ~1e-21 in magnitude;
// activations overflow from |x * scale| >= 2^64 (the dot tiles from
// |x * value * scale| >= 2^128), and scales outside [2^-78, 2^16] but 0
// leave a weight unpacked.
#include <cstdint>
#include <memory>

#include "backend/linear_weight.h"

namespace dsinfer::cpu {

inline constexpr int64_t kPanel16Rows = 16;
// Panels per one-token tile: 4 (8 accumulators). FP8 with 2 or 3 (4-6
// chains: FMA-latency-bound) read 42-50 % / 48-85 % of the read ceiling on
// a Xeon (AVX2 dispatch, gemv_bench, one token) where 4 read 77-104 %; on
// Zen 3, 2 and 3 measured the same.
inline constexpr int kBf16OneTokenPanels = 4, kFp8OneTokenPanels = 4;
// FP8 chains: activations times scale * kFp8ActivationScale, outputs times
// kFp8ChainUnit (2^64 * 2^56 undoes the images' 2^-120; both exact).
inline constexpr float kFp8ActivationScale = 0x1p64f, kFp8ChainUnit = 0x1p56f;
// Block scales the FP8 panels take: 0 or magnitudes in [min, max] (others:
// the dot tiles), so that scale * 2^64 and scale * 2^-48 are exact.
inline constexpr float kFp8PanelMinScale = 0x1p-78f, kFp8PanelMaxScale = 0x1p16f;

// How FP8 panels widen the e4m3 codes to float32 (same products, load_panels_avx2.cpp):
// kShift: integer shifts to value * 2^-120 (a subnormal for a subnormal code);
// kHalf: the fp16 image through vcvtph2ps, value * 2^-8 (always normal).
enum class Fp8Widening { kShift, kHalf };
// kShift where FMAs take subnormal operands at full rate
// (CpuFeatures::fast_subnormal_fma), else kHalf.
Fp8Widening fp8_panel_widening();

// Whether the CPU backend packs w at load (and linear_rows then runs it on
// the panels): BF16, or FP8 with 16 | block_rows, on AVX2 without AVX-512.
bool load_panels_apply(const LinearWeight& w);

// Rows one thread's one-token tile covers (4 panels): work
// chunks of a multiple of these keep every tile whole.
int64_t load_panels_group_rows(const LinearWeight& w);

// Bytes of w's panels.
uint64_t load_panels_bytes(const LinearWeight& w);

// w's values in the panel layout (64-byte aligned); null for an FP8 weight
// holding a NaN code (its panels widen without the NaN fix-up; the dot-form
// tiles, which keep NaN, run it instead) or a block scale that is not
// finite or outside kFp8PanelMinScale / kFp8PanelMaxScale.
std::shared_ptr<const void> pack_load_panels(const LinearWeight& w);

namespace avx2 {
// y[t * ldy + r - out_row0] = sum_k W[r, k] x[t * w.cols + k] for rows
// [r0, r1) and tokens [t0, t1), from w.packed (pack_load_panels).
void load_panel_rows(const LinearWeight& w, int64_t r0, int64_t r1, const float* x, int64_t t0, int64_t t1,
                     float* y, int64_t ldy, int64_t out_row0);
// The same with FP8's widening chosen (tests: both give the same bits).
void load_panel_rows(const LinearWeight& w, int64_t r0, int64_t r1, const float* x, int64_t t0, int64_t t1,
                     float* y, int64_t ldy, int64_t out_row0, Fp8Widening widening);
}  // namespace avx2

}  // namespace dsinfer::cpu
