#include "kernels/cpu/row_kernel.h"

#include <omp.h>

#include <algorithm>
#include <cmath>

#include "kernels/cpu/amx_linear.h"
#include "kernels/cpu/bf16_linear.h"
#include "kernels/cpu/cpu_features.h"
#include "kernels/cpu/cpu_ops.h"
#include "kernels/cpu/int8_linear.h"
#include "kernels/cpu/linear_avx2.h"
#include "kernels/cpu/linear_avx512.h"
#include "kernels/cpu/load_panels.h"
#include "kernels/cpu/row_blocks.h"

namespace dsinfer::cpu {
namespace {

bool fp8_scales_foldable(const LinearWeight& w) {
  const int64_t n = (w.rows + w.block_rows - 1) / w.block_rows * w.scale_cols();
  for (int64_t i = 0; i < n; ++i)
    if (!(std::fabs(w.scale[i]) < 0x1p7f)) return false;  // scale * 2^120 must stay finite
  return true;
}

// x permuted into k.xf (rows `stride` apart) for the few-token tiles.
const float* permute_into(RowKernel& k, const float* x, int64_t stride,
                          void (*permute)(const float*, int64_t, int64_t, float*)) {
  k.xf.resize(static_cast<size_t>(k.n_tokens * stride));
  permute(x, k.n_tokens, k.cols, k.xf.data());
  return k.xf.data();
}

std::unique_ptr<RowKernel> new_kernel(const LinearWeight& w, int64_t n_rows, int64_t n_tokens) {
  auto k = std::make_unique<RowKernel>();
  k->n_rows = n_rows;
  k->n_tokens = n_tokens;
  k->cols = w.cols;
  return k;
}

// Preparing a batch's activations (quantize, pack) over the team pays from
// ~8 tokens and 64K values: a division per element is ~20 % of a 32-token
// AMX linear on one thread.
bool prepare_on_team(int64_t n_tokens, int64_t cols) { return n_tokens >= 8 && n_tokens * cols >= (1 << 16); }

// AMX token blocks: decode batches in one block (each weight byte read
// once); prefill in blocks of a multiple of 32 (two token tiles per pass)
// whose activation tiles stay in L2 (~1 MB: 128 tokens at K = 7168 int8).
int64_t amx_tokens_per_block(int64_t n_tokens, int64_t row_bytes) {
  if (n_tokens <= 2 * kInt8PanelMinTokens) return n_tokens;
  return std::max<int64_t>(32, 1024 * 1024 / std::max<int64_t>(1, row_bytes) / 32 * 32);
}

// k.x_tiles = the activations x (rows row_bytes long) as AMX tiles, one
// 16-token tile per task when `team`; with parts > 1, x is that many
// tensors n_tokens rows apart and their tiles lie x_tiles_bytes apart.
void pack_tiles(RowKernel& k, const void* x, int64_t row_bytes, bool team, int64_t parts = 1) {
  const int64_t part_bytes = amx::x_tiles_bytes(k.n_tokens, row_bytes);
  k.x_tiles.resize(static_cast<size_t>(parts * part_bytes));
  const auto* xb = static_cast<const uint8_t*>(x);
  const int64_t n_tiles = (k.n_tokens + amx::kTileTokens - 1) / amx::kTileTokens;
#pragma omp parallel for schedule(static) if (team && parts * n_tiles > 1)
  for (int64_t i = 0; i < parts * n_tiles; ++i) {
    const int64_t p = i / n_tiles, t = i % n_tiles * amx::kTileTokens;
    amx::pack_x_tiles(xb + (p * k.n_tokens + t) * row_bytes, std::min(amx::kTileTokens, k.n_tokens - t), row_bytes,
                      k.x_tiles.data() + p * part_bytes + t * row_bytes);
  }
}

// The activations (rows row_bytes long) as narrow token tiles; one token's
// row already is one. With parts > 1, x is that many tensors n_tokens rows
// apart and their tiles lie n_tokens * row_bytes apart (as the rows do).
const uint8_t* narrow_tiles(RowKernel& k, const void* x, int64_t row_bytes, int64_t parts = 1) {
  if (k.n_tokens == 1) return static_cast<const uint8_t*>(x);
  const int64_t part_bytes = k.n_tokens * row_bytes;
  k.x_tiles.resize(static_cast<size_t>(parts * part_bytes));
  for (int64_t p = 0; p < parts; ++p)
    amx::pack_x_narrow(static_cast<const uint8_t*>(x) + p * part_bytes, k.n_tokens, row_bytes,
                       k.x_tiles.data() + p * part_bytes);
  return k.x_tiles.data();
}

}  // namespace

std::unique_ptr<RowKernel> prepare_bf16_rounded_kernel(const LinearWeight& w, int64_t row_begin, int64_t n_rows,
                                                       const float* x, int64_t n_tokens, float* y, int64_t y_stride) {
  auto k = new_kernel(w, n_rows, n_tokens);
  RowKernel& K = *k;
  K.xb.resize(static_cast<size_t>(n_tokens * w.cols));
  avx512::to_bf16(x, n_tokens * w.cols, K.xb.data());
  const auto* wd = static_cast<const uint16_t*>(w.data);
  if (!bf16_tiles_apply(w)) {
    K.tokens_per_block = token_block(384 * 1024, w.cols * 2, 12);
    K.run = [&K, wd, row_begin, y, y_stride](int64_t r0, int64_t r1, int64_t t0, int64_t t1) {
      avx512::bf16_rows(wd, K.cols, row_begin + r0, row_begin + r1, K.xb.data(), t0, t1, y, y_stride, row_begin);
    };
    return k;
  }
  if (n_tokens < amx::kTileTokens) {  // narrow token tiles (one token: the row itself, nothing to pack)
    const uint8_t* xd = narrow_tiles(K, K.xb.data(), w.cols * 2);
    K.tokens_per_block = n_tokens;
    K.run = [&K, wd, xd, row_begin, y, y_stride](int64_t r0, int64_t r1, int64_t, int64_t) {
      const int64_t mid = amx::whole_tiles_end(r0, r1);
      if (mid > r0)
        amx::bf16_rows_narrow(wd, K.cols, row_begin + r0, row_begin + mid, xd, K.n_tokens, y, y_stride, row_begin);
      if (mid < r1)
        avx512::bf16_rows(wd, K.cols, row_begin + mid, row_begin + r1, K.xb.data(), 0, K.n_tokens, y, y_stride,
                          row_begin);
    };
    return k;
  }
  pack_tiles(K, K.xb.data(), w.cols * 2, prepare_on_team(n_tokens, w.cols));
  K.tokens_per_block = amx_tokens_per_block(n_tokens, w.cols * 2);
  K.run = [&K, wd, row_begin, y, y_stride](int64_t r0, int64_t r1, int64_t t0, int64_t t1) {
    // Whole 16-row tiles on AMX, a ragged tail (rows % 16) on the dot form.
    const int64_t mid = amx::whole_tiles_end(r0, r1);
    if (mid > r0)
      amx::bf16_rows(wd, K.cols, row_begin + r0, row_begin + mid, K.x_tiles.data(), t0, t1, y, y_stride, row_begin);
    if (mid < r1)
      avx512::bf16_rows(wd, K.cols, row_begin + mid, row_begin + r1, K.xb.data(), t0, t1, y, y_stride, row_begin);
  };
  return k;
}

std::unique_ptr<RowKernel> prepare_bf16x3_kernel(const LinearWeight& w, int64_t row_begin, int64_t n_rows,
                                                 const float* x, int64_t n_tokens, float* y, int64_t y_stride) {
  if (w.format != WeightFormat::BF16 || !bf16_tiles_apply(w)) return nullptr;
  auto k = new_kernel(w, n_rows, n_tokens);
  RowKernel& K = *k;
  const int64_t n = n_tokens * w.cols, row_bytes = w.cols * 2;
  K.xb.resize(static_cast<size_t>(3 * n));
  amx::split_bf16x3(x, n, K.xb.data(), K.xb.data() + n, K.xb.data() + 2 * n);
  // Rows past the last whole tile (n_rows % 16 of them, whatever the token
  // count) on the float32 dot form.
  const float* xs =
      n_rows % amx::kTileRows ? permute_into(K, x, avx512::bf16f32_x_stride(w.cols), avx512::bf16f32_permute_x) : nullptr;
  const auto* wd = static_cast<const uint16_t*>(w.data);
  if (n_tokens < amx::kTileTokens) {  // narrow token tiles per part (one token: the parts themselves)
    const int64_t part_bytes = n_tokens * row_bytes;
    const uint8_t* xd = narrow_tiles(K, K.xb.data(), row_bytes, 3);
    K.tokens_per_block = n_tokens;
    K.run = [&K, wd, xd, xs, part_bytes, row_begin, y, y_stride](int64_t r0, int64_t r1, int64_t, int64_t) {
      const int64_t mid = amx::whole_tiles_end(r0, r1);
      if (mid > r0)
        amx::bf16x3_rows_narrow(wd, K.cols, row_begin + r0, row_begin + mid, xd, part_bytes, K.n_tokens, y, y_stride,
                                row_begin);
      if (mid < r1)
        avx512::bf16f32_rows(wd, K.cols, row_begin + mid, row_begin + r1, xs, 0, K.n_tokens, y, y_stride, row_begin);
    };
    return k;
  }
  pack_tiles(K, K.xb.data(), row_bytes, prepare_on_team(n_tokens, w.cols), 3);
  const int64_t part_bytes = amx::x_tiles_bytes(n_tokens, row_bytes);
  K.tokens_per_block = amx_tokens_per_block(n_tokens, 3 * row_bytes);
  K.run = [&K, wd, xs, part_bytes, row_begin, y, y_stride](int64_t r0, int64_t r1, int64_t t0, int64_t t1) {
    const int64_t mid = amx::whole_tiles_end(r0, r1);
    if (mid > r0)
      amx::bf16x3_rows(wd, K.cols, row_begin + r0, row_begin + mid, K.x_tiles.data(), part_bytes, t0, t1, y,
                       y_stride, row_begin);
    if (mid < r1)
      avx512::bf16f32_rows(wd, K.cols, row_begin + mid, row_begin + r1, xs, t0, t1, y, y_stride, row_begin);
  };
  return k;
}

std::unique_ptr<RowKernel> prepare_row_kernel(const LinearWeight& w, int64_t row_begin, int64_t n_rows,
                                              const float* x, int64_t n_tokens, float* y, int64_t y_stride) {
  const CpuFeatures& isa = cpu_features();
  const int64_t cols = w.cols;
  auto k = new_kernel(w, n_rows, n_tokens);
  RowKernel& K = *k;
  if (w.format == WeightFormat::Int8Channel && !isa.avx512_vnni && isa.avx2) {
    // AVX2 (no VNNI): the dot-form tiles for every token count (there is no
    // AVX2 panel kernel; prefill runs them in L2-sized token blocks).
    K.xq.resize(static_cast<size_t>(n_tokens * cols));
    K.scales.resize(static_cast<size_t>(n_tokens));
#pragma omp parallel for schedule(static) if (prepare_on_team(n_tokens, cols))
    for (int64_t t = 0; t < n_tokens; ++t) avx2::quantize_int8(x + t * cols, 1, cols, K.xq.data() + t * cols, K.scales.data() + t);
    K.tokens_per_block = int8_token_block(cols);
    const auto* wd = static_cast<const int8_t*>(w.data);
    K.run = [&K, wd, &w, row_begin, y, y_stride](int64_t r0, int64_t r1, int64_t t0, int64_t t1) {
      avx2::int8_rows(wd, K.cols, row_begin + r0, row_begin + r1, K.xq.data(), t0, t1, K.scales.data(), w.scale, y,
                      nullptr, y_stride, row_begin);
    };
    return k;
  }
  if (w.format == WeightFormat::Int8Channel) {
    const bool tiles = isa.amx && n_tokens >= kInt8AmxMinTokens && cols % amx::kTileBytes == 0;
    if (!isa.avx512_vnni || (n_tokens >= kInt8PanelMinTokens && !tiles)) return nullptr;
    // Quantize once; int32 dot products with the scale epilogue fused.
    K.xq.resize(static_cast<size_t>(n_tokens * cols));
    K.scales.resize(static_cast<size_t>(n_tokens));
    K.sums.resize(static_cast<size_t>(n_tokens));
    const bool team = prepare_on_team(n_tokens, cols);
#pragma omp parallel for schedule(static) if (team)
    for (int64_t t = 0; t < n_tokens; ++t)
      avx512::quantize_int8(x + t * cols, 1, cols, K.xq.data() + t * cols, K.scales.data() + t, K.sums.data() + t);
    const auto* wd = static_cast<const int8_t*>(w.data);
    if (tiles && n_tokens < amx::kTileTokens) {  // narrow token tiles
      const uint8_t* xd = narrow_tiles(K, K.xq.data(), cols);
      K.tokens_per_block = n_tokens;
      K.run = [&K, wd, xd, &w, row_begin, y, y_stride](int64_t r0, int64_t r1, int64_t, int64_t) {
        const int64_t mid = amx::whole_tiles_end(r0, r1);
        if (mid > r0)
          amx::int8_rows_narrow(wd, K.cols, row_begin + r0, row_begin + mid, xd, K.n_tokens, K.scales.data(), w.scale,
                                y, y_stride, row_begin);
        if (mid < r1)
          avx512::int8_rows(wd, K.cols, row_begin + mid, row_begin + r1, K.xq.data(), K.sums.data(), 0, K.n_tokens,
                            K.scales.data(), w.scale, y, nullptr, y_stride, row_begin);
      };
      return k;
    }
    if (tiles) {
      pack_tiles(K, K.xq.data(), cols, team);
      K.tokens_per_block = amx_tokens_per_block(n_tokens, cols);
      K.run = [&K, wd, &w, row_begin, y, y_stride](int64_t r0, int64_t r1, int64_t t0, int64_t t1) {
        // Whole 16-row tiles on AMX, a ragged tail (rows % 16) on VNNI.
        const int64_t mid = amx::whole_tiles_end(r0, r1);
        if (mid > r0)
          amx::int8_rows(wd, K.cols, row_begin + r0, row_begin + mid, K.x_tiles.data(), t0, t1, K.scales.data(),
                         w.scale, y, nullptr, y_stride, row_begin);
        if (mid < r1)
          avx512::int8_rows(wd, K.cols, row_begin + mid, row_begin + r1, K.xq.data(), K.sums.data(), t0, t1,
                            K.scales.data(), w.scale, y, nullptr, y_stride, row_begin);
      };
      return k;
    }
    K.tokens_per_block = int8_token_block(cols);
    K.run = [&K, wd, &w, row_begin, y, y_stride](int64_t r0, int64_t r1, int64_t t0, int64_t t1) {
      avx512::int8_rows(wd, K.cols, row_begin + r0, row_begin + r1, K.xq.data(), K.sums.data(), t0, t1,
                        K.scales.data(), w.scale, y, nullptr, y_stride, row_begin);
    };
    return k;
  }
  if (uses_bf16_products(w, n_tokens)) {
    // The panel kernel reads x in pairs: odd widths stay on the dot form.
    if (!bf16_tiles_apply(w) && n_tokens >= kBf16PanelMinTokens && cols % 2 == 0) return nullptr;
    return prepare_bf16_rounded_kernel(w, row_begin, n_rows, x, n_tokens, y, y_stride);
  }
  if (w.format == WeightFormat::BF16 && isa.avx512) {
    // AMX: x as three bf16 parts on the tiles at every token count (one
    // order of sums whatever the count; the rows decide the kernel).
    if (isa.amx_bf16)
      if (auto tiles = prepare_bf16x3_kernel(w, row_begin, n_rows, x, n_tokens, y, y_stride)) return tiles;
    // Permuted x for every token count: one summation order, so a token's
    // result does not depend on how many share its step (an MTP verify step
    // reproduces plain decode), and the permuted tiles widen with fewer
    // instructions; the copy of x is one pass over the activations.
    const float* xs = permute_into(K, x, avx512::bf16f32_x_stride(cols), avx512::bf16f32_permute_x);
    K.tokens_per_block = token_block(384 * 1024, cols * 4, 12);
    const auto* wd = static_cast<const uint16_t*>(w.data);
    K.run = [&K, wd, xs, row_begin, y, y_stride](int64_t r0, int64_t r1, int64_t t0, int64_t t1) {
      avx512::bf16f32_rows(wd, K.cols, row_begin + r0, row_begin + r1, xs, t0, t1, y, y_stride, row_begin);
    };
    return k;
  }
  if (w.format == WeightFormat::Fp8Block && isa.avx512_vbmi && w.block_cols % 64 == 0) {
    // Byte-table widening for every token count: no float32 denormals (the
    // scaled form below turns every e4m3 subnormal into one, and a batch of
    // 32 took 23 s per synthetic R1 layer instead of ~1 s on this Xeon).
    const float* xs = permute_into(K, x, avx512::fp8_x_stride(cols), avx512::fp8_lut_permute_x);
    K.tokens_per_block = token_block(384 * 1024, avx512::fp8_x_stride(cols) * 4, 12);
    const auto* wd = static_cast<const uint8_t*>(w.data);
    K.run = [&K, wd, &w, xs, row_begin, y, y_stride](int64_t r0, int64_t r1, int64_t t0, int64_t t1) {
      avx512::fp8_lut_rows(wd, K.cols, w.scale, w.scale_cols(), w.block_rows, w.block_cols, row_begin + r0,
                           row_begin + r1, xs, t0, t1, y, y_stride, row_begin);
    };
    return k;
  }
  if (w.format == WeightFormat::Fp8Block && isa.avx512 && fp8_scales_foldable(w)) {
    const bool permuted = w.block_cols % 64 == 0;  // every token count, as for bf16 above
    const float* xs = permuted ? permute_into(K, x, avx512::fp8_x_stride(cols), avx512::fp8_permute_x) : x;
    K.tokens_per_block = token_block(384 * 1024, cols * 4, 12);
    const auto* wd = static_cast<const uint8_t*>(w.data);
    K.run = [&K, wd, &w, xs, permuted, row_begin, y, y_stride](int64_t r0, int64_t r1, int64_t t0, int64_t t1) {
      avx512::fp8_rows(wd, K.cols, w.scale, w.scale_cols(), w.block_rows, w.block_cols, row_begin + r0,
                       row_begin + r1, xs, permuted, t0, t1, y, y_stride, row_begin);
    };
    return k;
  }
  // AVX2 without AVX-512, weights the backend packed at load (BF16, FP8):
  // one FMA chain per output at every count (load_panels.h), in token
  // blocks of 192 (their activations, 5.5 MB at K = 7168, read from L3
  // while each panel block is re-read from L1/L2 per token tile).
  if (w.packed && load_panels_apply(w)) {
    K.tokens_per_block = 192;
    K.min_chunk_rows = load_panels_group_rows(w);  // whole one-token groups per chunk
    K.run = [&w, x, row_begin, y, y_stride](int64_t r0, int64_t r1, int64_t t0, int64_t t1) {
      avx2::load_panel_rows(w, row_begin + r0, row_begin + r1, x, t0, t1, y, y_stride, row_begin);
    };
    return k;
  }
  // Otherwise x read in place (no permutation: the widening keeps the
  // columns in order), one FMA chain per output at every count.
  if (w.format == WeightFormat::BF16 && isa.avx2 && !isa.avx512) {
    K.tokens_per_block = token_block(384 * 1024, cols * 4, 12);
    const auto* wd = static_cast<const uint16_t*>(w.data);
    K.run = [&K, wd, x, row_begin, y, y_stride](int64_t r0, int64_t r1, int64_t t0, int64_t t1) {
      avx2::bf16f32_rows(wd, K.cols, row_begin + r0, row_begin + r1, x, t0, t1, y, y_stride, row_begin);
    };
    return k;
  }
  if (w.format == WeightFormat::Fp8Block && isa.avx2 && !isa.avx512 && w.block_cols % 16 == 0) {
    K.tokens_per_block = token_block(384 * 1024, cols * 4, 12);
    const auto* wd = static_cast<const uint8_t*>(w.data);
    K.run = [&K, wd, &w, x, row_begin, y, y_stride](int64_t r0, int64_t r1, int64_t t0, int64_t t1) {
      avx2::fp8_rows(wd, K.cols, w.scale, w.scale_cols(), w.block_rows, w.block_cols, row_begin + r0, row_begin + r1,
                     x, t0, t1, y, y_stride, row_begin);
    };
    return k;
  }
  return nullptr;
}

void run_row_kernel(const RowKernel& k) {
  for_row_blocks(k.n_rows, k.n_tokens, k.tokens_per_block, k.n_rows * k.n_tokens * k.cols, k.run, k.min_chunk_rows);
}

void linear_many(std::span<const LinearCall> calls) {
  struct Chunk {
    const RowKernel* k;
    int64_t r0, r1;
  };
  std::vector<std::unique_ptr<RowKernel>> kernels;
  std::vector<Chunk> chunks;
  int64_t work = 0;
  for (const LinearCall& c : calls) {
    auto k = prepare_row_kernel(*c.w, 0, c.w->rows, c.x, c.n_tokens, c.y, c.w->rows);
    if (!k) {  // panels or portable loops: their own parallel regions
      linear(*c.w, c.x, c.n_tokens, c.y);
      continue;
    }
    const int64_t step = row_chunk(k->n_rows, k->min_chunk_rows);
    for (int64_t r0 = 0; r0 < k->n_rows; r0 += step) chunks.push_back({k.get(), r0, std::min(k->n_rows, r0 + step)});
    work += k->n_rows * k->n_tokens * k->cols;
    kernels.push_back(std::move(k));
  }
  const auto n = static_cast<int64_t>(chunks.size());
  // Dynamic: on a shared machine one core may be slowed by another process.
#pragma omp parallel for schedule(dynamic, 1) if (work > 32768)
  for (int64_t i = 0; i < n; ++i) {
    const Chunk& c = chunks[static_cast<size_t>(i)];
    for (int64_t t0 = 0; t0 < c.k->n_tokens; t0 += c.k->tokens_per_block)
      c.k->run(c.r0, c.r1, t0, std::min(c.k->n_tokens, t0 + c.k->tokens_per_block));
  }
}

}  // namespace dsinfer::cpu
