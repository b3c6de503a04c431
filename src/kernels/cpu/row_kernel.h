#pragma once
// A linear prepared for the dot-form register tiles (the decode kernels):
// its activations quantized / permuted / rounded once, then run over any
// range of its rows by any thread. Splitting the preparation from the row
// loop lets several linears share one parallel region (linear_many): a
// decode step's experts are ~14 MB each, and a fork/join per matrix costs
// both cores a barrier wait each time.
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <vector>

#include "backend/linear_weight.h"
#include "kernels/cpu/aligned_buffer.h"

namespace dsinfer::cpu {

struct RowKernel {
  int64_t n_rows = 0, n_tokens = 0, cols = 0;
  int64_t tokens_per_block = 1;  // token blocks whose activations stay in L2
  int64_t min_chunk_rows = 16;    // rows per work chunk at least (row_chunk)
  // Rows [r0, r1) (relative to the prepared row_begin), tokens [t0, t1).
  std::function<void(int64_t r0, int64_t r1, int64_t t0, int64_t t1)> run;
  // The activations as the tiles read them (run points into these).
  AlignedVector<int8_t> xq;
  AlignedVector<uint8_t> x_tiles;  // AMX activation tiles
  std::vector<int32_t> sums;
  std::vector<float> scales;
  AlignedVector<float> xf;
  AlignedVector<uint16_t> xb;
};

// y[t, r] = x[t] . W[row_begin + r] through the dot-form tiles, or null when
// this linear takes another path (packed panels for many tokens, portable
// loops without AVX-512, FP8 scales too large to fold).
std::unique_ptr<RowKernel> prepare_row_kernel(const LinearWeight& w, int64_t row_begin, int64_t n_rows,
                                              const float* x, int64_t n_tokens, float* y, int64_t y_stride);
// BF16 weights x bf16-rounded activations for any token count (needs
// AVX512_BF16): on AMX tiles where bf16_tiles_apply, else on the dot-form
// tiles (linear_bf16_rows' few-token path).
std::unique_ptr<RowKernel> prepare_bf16_rounded_kernel(const LinearWeight& w, int64_t row_begin, int64_t n_rows,
                                                       const float* x, int64_t n_tokens, float* y, int64_t y_stride);
// BF16 weights x float32 activations at float32 accuracy on AMX tiles
// (amx::bf16x3_rows; rows past the last whole 16-row tile on the float32 dot
// form), or null without AMX-BF16 or where W's width is not a multiple of 32.
// Which kernel computes a row depends on the rows only, never on the tokens.
// prepare_row_kernel's choice for such linears wherever it applies (every
// token count: a token's result must not depend on its step's size, for MTP
// verify steps): below 16 tokens the parts go as narrow token tiles, and
// R1's lm_head (129280 x 7168, 2 threads from memory) ran as fast as the
// float32 dot form at one token (1.02x the time) and 0.63x / 0.34x / 0.26x
// at 8 / 16 / 32 tokens.
std::unique_ptr<RowKernel> prepare_bf16x3_kernel(const LinearWeight& w, int64_t row_begin, int64_t n_rows,
                                                 const float* x, int64_t n_tokens, float* y, int64_t y_stride);
// All rows and tokens of k, over the OpenMP team (for_row_blocks).
void run_row_kernel(const RowKernel& k);

// One y = x W^T (all rows, y [n_tokens, W.rows]).
struct LinearCall {
  const LinearWeight* w = nullptr;
  const float* x = nullptr;
  int64_t n_tokens = 0;
  float* y = nullptr;
};
// Every call, as cpu::linear would compute it; the dot-form ones share one
// parallel region whose row chunks (of all calls) are handed out
// dynamically, so both cores stream until the last chunk.
void linear_many(std::span<const LinearCall> calls);

}  // namespace dsinfer::cpu
