// FP8 e4m3 kernels that widen through byte tables (see linear_avx512.h,
// fp8_lut_rows). Own file: the AVX512_VBMI target (vpermt2b) must not reach
// kernels that run on CPUs without it. No standard library templates after
// the pragma (see linear_avx512.cpp).
#include <immintrin.h>

#include <cstdint>

#include "kernels/cpu/linear_avx512.h"

#pragma GCC push_options
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC target("avx2,fma,avx512f,avx512bw,avx512vl,avx512dq,avx512vbmi")

#include "kernels/cpu/fp8_block_tile.h"
#include "kernels/cpu/left_multiply_tile.h"
#include "kernels/cpu/row_prefetch_avx512.h"
#include "kernels/cpu/tail_masks_avx512.h"
#include "kernels/cpu/token_tiles_avx512.h"

namespace dsinfer::cpu::avx512 {
namespace {

// bf16 image of the e4m3 code c (sign bit clear): exact for every value;
// e = exponent field, m = 3 mantissa bits. 0x7f is NaN.
uint16_t e4m3_bf16_bits(int c) {
  const int e = c >> 3, m = c & 7;
  if (c == 0x7f) return 0x7fc0;
  if (e > 0) return static_cast<uint16_t>(((e + 120) << 7) | (m << 4));
  if (m == 0) return 0;
  // Subnormal m * 2^-9: normalize m = 2^p * (1 + f).
  const int p = m >= 4 ? 2 : m >= 2 ? 1 : 0;
  return static_cast<uint16_t>(((118 + p) << 7) | ((m - (1 << p)) << (7 - p)));
}

// Tables of the low and high bytes, 128 entries = two zmm each.
struct Tables {
  __m512i lo0, lo1, hi0, hi1;
};
const Tables& tables() {
  static const Tables t = [] {
    alignas(64) uint8_t lo[128], hi[128];
    for (int c = 0; c < 128; ++c) {
      const uint16_t b = e4m3_bf16_bits(c);
      lo[c] = static_cast<uint8_t>(b & 0xff);
      hi[c] = static_cast<uint8_t>(b >> 8);
    }
    return Tables{_mm512_load_si512(lo), _mm512_load_si512(lo + 64), _mm512_load_si512(hi),
                  _mm512_load_si512(hi + 64)};
  }();
  return t;
}


// 64 codes -> two vectors of 32 bf16 words: wl = columns 16L + 0..7 and
// wh = 16L + 8..15 of each 128-bit lane L (the order fp8_lut_permute_x gives x).
struct Words {
  __m512i wl, wh;
};
inline Words widen_words(__m512i v, const Tables& tb) {
  const __m512i lo = _mm512_permutex2var_epi8(tb.lo0, v, tb.lo1);
  // hi | (v & 0x80): the sign joins the high byte.
  const __m512i hi =
      _mm512_ternarylogic_epi32(_mm512_permutex2var_epi8(tb.hi0, v, tb.hi1), v, _mm512_set1_epi8(char(0x80)), 0xF8);
  return {_mm512_unpacklo_epi8(lo, hi), _mm512_unpackhi_epi8(lo, hi)};
}
// Group g of the four float32 vectors of 64 codes (columns as in the header).
template <int G>
inline __m512 group_f32(const Words& w) {
  const __m512i src = G < 2 ? w.wl : w.wh;
  if constexpr (G % 2 == 0) return _mm512_castsi512_ps(_mm512_slli_epi32(src, 16));
  else return _mm512_castsi512_ps(_mm512_and_si512(src, _mm512_set1_epi32(static_cast<int>(0xFFFF0000u))));
}

// R rows x T tokens, dot form (the skeleton's per-block sums times scale).
// Rows r + i * row_step (row_step > 1: the strided tiles of
// lut_strided_rows, each row's stream fetched on into the row after it).
template <int R, int T>
inline void lut_tile(const Fp8Weight& w, int64_t r, const float* x, int64_t ldx, float out[R][T],
                     int64_t row_step = 1) {
  const Tables& tb = tables();
  fp8_block_scaled_tile<R, T>(w, r, 1.0f, out, [&](const uint8_t* const (&rows)[R], int64_t c0, int64_t c1,
                                                   __m512 (&blk)[R][T]) {
    for_steps<64>(c1 - c0, [&]<bool Tail>(int64_t kk) {
      const int64_t k = c0 + kk;
      const __mmask64 m = tail_mask64(c1 - k);
      if (row_step == 1) prefetch_stream_ahead<R>(rows[0], w.cols, k);
      else prefetch_strided_ahead<R>(rows[0], row_step * w.cols, k);
      // Rows in groups of 4: 8 word registers live, not 2R (no spills at R = 8).
#pragma GCC unroll 2
      for (int i0 = 0; i0 < R; i0 += 4) {
        constexpr int kG = R < 4 ? R : 4;
        Words wd[kG];
#pragma GCC unroll 4
        for (int i = 0; i < kG; ++i) {
          const uint8_t* p = rows[i0 + i] + k;
          wd[i] = widen_words(load_epi8<Tail>(m, p), tb);
        }
        auto fma_group = [&]<int G>() {
#pragma GCC unroll 8
          for (int t = 0; t < T; ++t) {
            const __m512 xv = _mm512_loadu_ps(x + t * ldx + k + 16 * G);
#pragma GCC unroll 4
            for (int i = 0; i < kG; ++i) blk[i0 + i][t] = _mm512_fmadd_ps(group_f32<G>(wd[i]), xv, blk[i0 + i][t]);
          }
        };
        fma_group.template operator()<0>();
        fma_group.template operator()<1>();
        fma_group.template operator()<2>();
        fma_group.template operator()<3>();
      }
    });
  }, row_step);
}

// R rows x T tokens with each weight vector widened once for all T tokens:
// R x T block sums in registers, the running totals in memory (touched once
// per block), x read where it is used. The same sums in the same order as
// lut_tile (bit-identical): the generic tile keeps its totals in registers
// too, which caps it at 2 tokens (4 re-widenings of each weight at 8).
template <int R, int T>
inline void lut_tile_wide(const Fp8Weight& w, int64_t r, const float* x, int64_t ldx, float out[R][T]) {
  const Tables tb = tables();
  const int64_t ld = w.cols;
  const uint8_t* row0 = w.data + r * ld;
  const float* srow[R];
  for (int i = 0; i < R; ++i) srow[i] = w.scale + ((r + i) / w.block_rows) * w.scale_cols;
  alignas(64) float tot[R][T][16];
  for (int i = 0; i < R; ++i)
    for (int t = 0; t < T; ++t) _mm512_store_ps(tot[i][t], _mm512_setzero_ps());
  for (int64_t c0 = 0, b = 0; c0 < ld; c0 += w.block_cols, ++b) {
    const int64_t c1 = c0 + w.block_cols < ld ? c0 + w.block_cols : ld;
    __m512 acc[R][T];
#pragma GCC unroll 4
    for (int i = 0; i < R; ++i)
#pragma GCC unroll 4
      for (int t = 0; t < T; ++t) acc[i][t] = _mm512_setzero_ps();
    for (int64_t k = c0; k < c1; k += 64) {
      const __mmask64 m = tail_mask64(c1 - k);
      prefetch_stream_ahead<R>(row0, ld, k);
#pragma GCC unroll 4
      for (int i = 0; i < R; ++i) {
        const uint8_t* p = row0 + i * ld + k;
        const Words wd = widen_words(m == ~__mmask64{0} ? _mm512_loadu_si512(p) : _mm512_maskz_loadu_epi8(m, p), tb);
        const __m512 g0 = group_f32<0>(wd);
#pragma GCC unroll 4
        for (int t = 0; t < T; ++t) acc[i][t] = _mm512_fmadd_ps(g0, _mm512_loadu_ps(x + t * ldx + k), acc[i][t]);
        const __m512 g1 = group_f32<1>(wd);
#pragma GCC unroll 4
        for (int t = 0; t < T; ++t) acc[i][t] = _mm512_fmadd_ps(g1, _mm512_loadu_ps(x + t * ldx + k + 16), acc[i][t]);
        const __m512 g2 = group_f32<2>(wd);
#pragma GCC unroll 4
        for (int t = 0; t < T; ++t) acc[i][t] = _mm512_fmadd_ps(g2, _mm512_loadu_ps(x + t * ldx + k + 32), acc[i][t]);
        const __m512 g3 = group_f32<3>(wd);
#pragma GCC unroll 4
        for (int t = 0; t < T; ++t) acc[i][t] = _mm512_fmadd_ps(g3, _mm512_loadu_ps(x + t * ldx + k + 48), acc[i][t]);
      }
    }
#pragma GCC unroll 4
    for (int i = 0; i < R; ++i) {
      const __m512 sc = _mm512_set1_ps(srow[i][b]);
#pragma GCC unroll 4
      for (int t = 0; t < T; ++t)
        _mm512_store_ps(tot[i][t], _mm512_fmadd_ps(acc[i][t], sc, _mm512_load_ps(tot[i][t])));
    }
  }
  for (int i = 0; i < R; ++i)
    for (int t = 0; t < T; ++t) out[i][t] = _mm512_reduce_add_ps(_mm512_load_ps(tot[i][t]));
}

// One token (R = 8) or two (R = 4), rows [r0, r1): tile j takes rows
// r0 + j + i S (S = (r1 - r0) / R), so each of its R streams runs along S
// consecutive rows instead of one row per tile: tiles of short rows lose
// the hardware prefetchers (two threads from memory, R1 shapes, one token:
// q_b_proj's 1.5 KB rows 18.7-19.3 -> 27.3-27.5 GB/s, the experts' 2 KB
// down rows 22.4-22.8 -> 26.7-27.3, 7-16 KB rows 26.7-27.7 either way; two
// tokens: q_b 16.9 -> 22.4, down 18.7 -> 22.5, gate 21.9 -> 23.4). Each
// row's sums are those of lut_tile: the same bits. Returns the first row it
// left (r0 + R S).
template <int R, int T = 1>
inline int64_t lut_strided_rows(const Fp8Weight& w, int64_t r0, int64_t r1, const float* x, int64_t ldx, float* y,
                                int64_t ldy, int64_t out_row0) {
  const int64_t S = (r1 - r0) / R;
  if (S * w.cols < kStridedMinStreamBytes) return r0;
  for (int64_t j = 0; j < S; ++j) {
    float out[R][T];
    lut_tile<R, T>(w, r0 + j, x, ldx, out, S);
    for (int i = 0; i < R; ++i)
      for (int t = 0; t < T; ++t) y[t * ldy + (r0 + j + i * S - out_row0)] = out[i][t];
  }
  return r0 + R * S;
}

template <int R, int T>
inline void lut_block(const Fp8Weight& w, int64_t r, const float* x, int64_t ldx, int64_t t, float* y, int64_t ldy,
                      int64_t out_row0) {
  float out[R][T];
  if constexpr (T >= 3) lut_tile_wide<R, T>(w, r, x + t * ldx, ldx, out);
  else lut_tile<R, T>(w, r, x + t * ldx, ldx, out);
  for (int i = 0; i < R; ++i)
    for (int tt = 0; tt < T; ++tt) y[(t + tt) * ldy + (r + i - out_row0)] = out[i][tt];
}

// Tokens [t0, t1) for rows r..r+R-1 in tiles of up to 4 tokens.
template <int R>
inline void lut_strip(const Fp8Weight& w, int64_t r, const float* x, int64_t ldx, int64_t t0, int64_t t1, float* y,
                      int64_t ldy, int64_t out_row0) {
  int64_t t = t0;
  if (t1 - t0 == 1) return lut_block<R, 1>(w, r, x, ldx, t, y, ldy, out_row0);
  for (; t + 4 <= t1; t += 4) lut_block<R, 4>(w, r, x, ldx, t, y, ldy, out_row0);
  if (t + 3 == t1) return lut_block<R, 3>(w, r, x, ldx, t, y, ldy, out_row0);
  for (; t + 2 <= t1; t += 2) lut_block<R, 2>(w, r, x, ldx, t, y, ldy, out_row0);
  if (t < t1) lut_block<R, 1>(w, r, x, ldx, t, y, ldy, out_row0);
}

// From this many tokens, groups of up to 16 rows pass block by block: each
// 4 rows' codes of the block are widened once into an L1 scratch (float32,
// exact) and every token tile multiplies from there, so the block's
// activations (read from L2) serve 16 rows. 4-token tiles widened each
// weight vector once per tile (twice at 8 tokens, 8 times at 32), ~10
// vector ops per 64 codes on the FMAs' two ports, and re-read all
// activations from L2 per 4 rows. Per output the same sums in the same
// order as lut_tile (per block, steps in k order, groups 0-3 per step, times
// the block scale into the total): bit-identical. From 9 tokens: at 5-8
// the 4-token tiles widen each vector only twice, and gemv_bench (from
// memory) measured a draw at 8 tokens, 1.15-1.3x at 32.
constexpr int64_t kScratchMinTokens = 9;
constexpr int64_t kScratchTokens = 24;  // tokens per pass (the totals stay in L1)
constexpr int64_t kScratchSteps = 8;    // 64-code steps per block it holds (block_cols <= 512)
constexpr int kScratchRows = 4, kScratchGroupRows = 16;

struct Scratch {
  alignas(64) float g[kScratchRows][kScratchSteps][4][16];  // row, step, group
  alignas(64) float tot[kScratchGroupRows][kScratchTokens][16];
};

// Token tile [t, t + T) of rows i0..i0+3 of the group, one block (steps
// 64-code steps from column k0).
template <int T>
inline void scratch_tile(Scratch& sc, int64_t steps, const float* x, int64_t ldx, int64_t k0, int64_t t, int i0,
                         const float* scale) {
  __m512 acc[kScratchRows][T];
#pragma GCC unroll 4
  for (int i = 0; i < kScratchRows; ++i)
#pragma GCC unroll 8
    for (int j = 0; j < T; ++j) acc[i][j] = _mm512_setzero_ps();
  for (int64_t st = 0; st < steps; ++st) {
    const float* xs = x + t * ldx + k0 + 64 * st;
#pragma GCC unroll 4
    for (int G = 0; G < 4; ++G) {
      __m512 g[kScratchRows];
#pragma GCC unroll 4
      for (int i = 0; i < kScratchRows; ++i) g[i] = _mm512_load_ps(sc.g[i][st][G]);
#pragma GCC unroll 8
      for (int j = 0; j < T; ++j) {
        const __m512 xv = _mm512_loadu_ps(xs + j * ldx + 16 * G);
#pragma GCC unroll 4
        for (int i = 0; i < kScratchRows; ++i) acc[i][j] = _mm512_fmadd_ps(g[i], xv, acc[i][j]);
      }
    }
  }
#pragma GCC unroll 4
  for (int i = 0; i < kScratchRows; ++i) {
    const __m512 s = _mm512_set1_ps(scale[i]);
    float(*tot)[16] = sc.tot[i0 + i];
#pragma GCC unroll 8
    for (int j = 0; j < T; ++j) _mm512_store_ps(tot[t + j], _mm512_fmadd_ps(acc[i][j], s, _mm512_load_ps(tot[t + j])));
  }
}

// Rows [r, r + nr) (nr a multiple of 4, <= 16) x tokens [t0, t1), t1 - t0 <= kScratchTokens.
inline void scratch_group(const Fp8Weight& w, int64_t r, int nr, const float* x, int64_t ldx, int64_t t0, int64_t t1,
                          float* y, int64_t ldy, int64_t out_row0, Scratch& sc) {
  const Tables& tb = tables();
  const int64_t n = t1 - t0;
  for (int i = 0; i < nr; ++i)
    for (int64_t j = 0; j < n; ++j) _mm512_store_ps(sc.tot[i][j], _mm512_setzero_ps());
  const float* x0 = x + t0 * ldx;
  for (int64_t c0 = 0, b = 0; c0 < w.cols; c0 += w.block_cols, ++b) {
    const int64_t c1 = c0 + w.block_cols < w.cols ? c0 + w.block_cols : w.cols, steps = (c1 - c0 + 63) / 64;
    for (int i0 = 0; i0 < nr; i0 += kScratchRows) {
      float scale[kScratchRows];
      for (int i = 0; i < kScratchRows; ++i) {
        scale[i] = w.scale[((r + i0 + i) / w.block_rows) * w.scale_cols + b];
        const uint8_t* row = w.data + (r + i0 + i) * w.cols;
        for (int64_t st = 0; st < steps; ++st) {
          const int64_t k = c0 + 64 * st;
          const __mmask64 m = tail_mask64(c1 - k);
          // Block by block breaks each row into 128-byte runs the hardware
          // prefetchers follow poorly: fetch the row 2 KB ahead.
          prefetch_rows_ahead<1>(row, w.cols, k);
          const Words wd =
              widen_words(m == ~__mmask64{0} ? _mm512_loadu_si512(row + k) : _mm512_maskz_loadu_epi8(m, row + k), tb);
          _mm512_store_ps(sc.g[i][st][0], group_f32<0>(wd));
          _mm512_store_ps(sc.g[i][st][1], group_f32<1>(wd));
          _mm512_store_ps(sc.g[i][st][2], group_f32<2>(wd));
          _mm512_store_ps(sc.g[i][st][3], group_f32<3>(wd));
        }
      }
      tiles_of_6(0, n, [&]<int T>(int64_t t) { scratch_tile<T>(sc, steps, x0, ldx, c0, t, i0, scale); });
    }
  }
  for (int i = 0; i < nr; ++i)
    for (int64_t j = 0; j < n; ++j) y[(t0 + j) * ldy + (r + i - out_row0)] = _mm512_reduce_add_ps(_mm512_load_ps(sc.tot[i][j]));
}

// ---- y = x W over a range of W's rows (the MLA query absorption) ----------
// Column of lane p (= 16G + 4L + d) of the four group vectors of 64 codes.
inline int lut_column(int p) {
  const int g = p / 16, lane = (p % 16) / 4, d = p % 4;
  return 16 * lane + 2 * d + (g % 2) + 8 * (g / 2);
}

// The weight's rows from r0, dequantized 64 codes at a time.
struct Fp8LutSource {
  static constexpr int kCols = 64, kVectors = 4;
  static int column(int p) { return lut_column(p); }
  struct Row {
    const uint8_t* codes;
    const float* scales;  // the row's block scales
    int64_t block_cols;
    const Tables& tb;
    // m: the codes present (a row's tail); absent ones read as 0.
    FloatVectors<4> load(int64_t c, __mmask64 m = ~__mmask64{0}) const {
      const __m512 s = _mm512_set1_ps(scales[c / block_cols]);
      const Words wd =
          widen_words(m == ~__mmask64{0} ? _mm512_loadu_si512(codes + c) : _mm512_maskz_loadu_epi8(m, codes + c), tb);
      // Rounded as dequant_row rounds: the exact value times the block scale.
      return {{_mm512_mul_ps(group_f32<0>(wd), s), _mm512_mul_ps(group_f32<1>(wd), s),
               _mm512_mul_ps(group_f32<2>(wd), s), _mm512_mul_ps(group_f32<3>(wd), s)}};
    }
  };
  const Fp8Weight& w;
  int64_t r0;
  const Tables& tb;
  Row row(int64_t d) const {
    const int64_t r = r0 + d;
    return {w.data + r * w.cols, w.scale + (r / w.block_rows) * w.scale_cols, w.block_cols, tb};
  }
  // Absorption from memory, R1 layer: 0.76 -> 0.57 ms per step with it.
  void prefetch_row(int64_t d) const { prefetch_row_bytes(w.data + (r0 + d) * w.cols, w.cols); }
};

}  // namespace

void fp8_lut_rows(const uint8_t* w, int64_t cols, const float* scale, int64_t scale_cols, int64_t block_rows,
                  int64_t block_cols, int64_t r0, int64_t r1, const float* x, int64_t t0, int64_t t1, float* y,
                  int64_t ldy, int64_t out_row0) {
  const Fp8Weight fw{w, cols, scale, scale_cols, block_rows, block_cols};
  const int64_t ldx = fp8_x_stride(cols);
  int64_t r = r0;
  if (t1 - t0 == 1) {
    r = lut_strided_rows<8>(fw, r, r1, x + t0 * ldx, ldx, y + t0 * ldy, ldy, out_row0);
    for (; r + 8 <= r1; r += 8) lut_strip<8>(fw, r, x, ldx, t0, t1, y, ldy, out_row0);
  }
  if (t1 - t0 >= kScratchMinTokens && block_cols <= 64 * kScratchSteps) {
    Scratch sc;
    while (r + kScratchRows <= r1) {
      const int nr = static_cast<int>(r1 - r >= kScratchGroupRows ? kScratchGroupRows : (r1 - r) / kScratchRows * kScratchRows);
      for (int64_t t = t0; t < t1; t += kScratchTokens)
        scratch_group(fw, r, nr, x, ldx, t, t1 - t < kScratchTokens ? t1 : t + kScratchTokens, y, ldy, out_row0, sc);
      r += nr;
    }
  }
  if (t1 - t0 == 2) r = lut_strided_rows<4, 2>(fw, r, r1, x + t0 * ldx, ldx, y + t0 * ldy, ldy, out_row0);
  for (; r + 4 <= r1; r += 4) lut_strip<4>(fw, r, x, ldx, t0, t1, y, ldy, out_row0);
  for (; r < r1; ++r) lut_strip<1>(fw, r, x, ldx, t0, t1, y, ldy, out_row0);
}

void fp8_lut_left_multiply(const uint8_t* w, int64_t cols, const float* scale, int64_t scale_cols,
                           int64_t block_rows, int64_t block_cols, int64_t r0, int64_t n_rows, const float* x,
                           int64_t ldx, int64_t n_tokens, float* y, int64_t ldy) {
  const Fp8Weight fw{w, cols, scale, scale_cols, block_rows, block_cols};
  left_multiply(Fp8LutSource{fw, r0, tables()}, cols, n_rows, x, ldx, n_tokens, y, ldy);
}

void fp8_lut_dequant_row(const uint8_t* src, const float* scale_row, int64_t cols, int64_t block_cols, float* out) {
  const Fp8LutSource::Row row{src, scale_row, block_cols, tables()};
  alignas(64) float lanes[64];
  for (int64_t c = 0; c < cols; c += 64) {
    const FloatVectors<4> v = row.load(c, tail_mask64(cols - c));
    for (int g = 0; g < 4; ++g) _mm512_store_ps(lanes + 16 * g, v.v[g]);
    for (int p = 0; p < 64; ++p)
      if (c + lut_column(p) < cols) out[c + lut_column(p)] = lanes[p];
  }
}

void fp8_lut_permute_x(const float* x, int64_t n_tokens, int64_t cols, float* out) {
  // Position 16g + 4L + d (group g, 128-bit lane L) holds column 16L + 2d + {0, 1, 8, 9}[g].
  permute_x_per_64(x, n_tokens, cols, fp8_x_stride(cols), out, lut_column);
}

}  // namespace dsinfer::cpu::avx512

#pragma GCC diagnostic pop
#pragma GCC pop_options
