// AVX-512 register-tiled kernels (see linear_avx512.h). This file is compiled
// for the AVX-512 ISA through a target pragma; it includes no standard library
// templates after the pragma, so no AVX-512 code can leak into inline
// functions shared with other translation units.
#include "kernels/cpu/linear_avx512.h"

#include <immintrin.h>

#include "kernels/cpu/cpu_features.h"

#include <cstdint>

#pragma GCC push_options
// GCC 12 warns inside its own _mm512_reduce_* (extract with an undefined
// passthrough operand): a false positive.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC target("avx2,fma,avx512f,avx512bw,avx512vl,avx512dq,avx512vnni,avx512bf16")

#include "kernels/cpu/fp8_block_tile.h"
#include "kernels/cpu/left_multiply_tile.h"
#include "kernels/cpu/row_prefetch_avx512.h"
#include "kernels/cpu/transpose16_avx512.h"
#include "kernels/cpu/tail_masks_avx512.h"
#include "kernels/cpu/token_tiles_avx512.h"

namespace dsinfer::cpu::avx512 {
namespace {

constexpr int kRows = 4;  // weight rows per register tile
// bf16 and FP8 GEMVs of one token take 8 rows per tile: their per-byte
// widening work then overlaps across more independent rows (measured
// 0.93-0.99 of the read ceiling against 0.72-0.90 with 4 rows).
constexpr int kGemvRows = 8;
// int8 GEMVs of up to this many tokens take 8-row tiles with the next tile's
// rows prefetched (8 independent vpdpbusd chains: the Xeons measured read
// 27-31 GB/s against 15-18 GB/s with one dependent chain at a time), or, where
// CpuFeatures::gemv_one_stream is set (AMD), one row after another (one
// token: four independent sums, int8_row_dot): each thread then reads one sequential
// stream, which the Zen 4 / Zen 5 prefetchers follow at ~90-99 % of the read
// ceiling against ~70 % for rows read side by side (gemv_bench, same runs).
// Integer sums: bit-identical every way.
constexpr int64_t kStreamTokens = 1;
// The one-stream form up to this many tokens (gemv_bench on Zen 5, same
// runs: 2 tokens 76-89 % of the ceiling against 45-83 % for 4-row tiles; at
// 4 tokens a draw, at 8 the tiles' weight reuse wins).
constexpr int64_t kOneStreamTokens = 2;
inline bool one_row_at_a_time(int64_t n_tokens) { return n_tokens <= kOneStreamTokens && cpu_features().gemv_one_stream; }

// The k-blocked dot form (int8_rows, bf16_rows): from `x_outgrows_l1`, a
// tile strip re-read its activations (T tokens x K bytes) from L2 for every 4
// rows, and those misses crowded out the weight stream's (Zen 5: 8 tokens at
// K = 7168 consumed 18 GB/s of weights against a 44 GB/s read ceiling,
// k-blocked with the rows fetched ahead 27-35 GB/s; 32 tokens 8.5 -> 15 GB/s).
// The accumulators resume exactly between blocks: the same sums, bit for bit.
constexpr int64_t kL1ActivationBytes = 16 * 1024;  // x per k-block
constexpr int64_t kBlockedRows = 16;               // rows per group (4 tiles)
constexpr int64_t kBlockedTokens = 48;             // tokens per carry buffer
inline int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }
// From a whole 6-token tile on (at 2-5 tokens gemv_bench measured no gain,
// and bf16 expert shapes at 4 tokens lost).
constexpr int64_t kBlockedMinTokens = 6;
inline bool x_outgrows_l1(int64_t n_tokens, int64_t row_bytes) {
  return n_tokens >= kBlockedMinTokens && n_tokens * row_bytes > kL1ActivationBytes;
}
// k-block width in elements of elem_bytes (the activations' element): the
// block's activations fill the budget, whole steps of every tile kind, at
// least 1 KB of each weight row (32 tokens: shorter runs of a row read
// slower; float32 activations against bf16 weights: 2 KB of x).
inline int64_t k_block(int64_t n_tokens, int64_t cols, int64_t elem_bytes = 1) {
  const int64_t bytes = kL1ActivationBytes / n_tokens / 128 * 128, least = elem_bytes == 4 ? 2048 : 1024;
  return min64(cols, (bytes < least ? least : bytes) / elem_bytes);
}

// The k-blocked order over the whole 4-row tiles of [r, r1) x tokens
// [t0, t1): strip(rr, ts, te, k0, k1, c) for token parts of kBlockedTokens,
// groups of kBlockedRows rows, k-blocks of k_block() elements, each tile
// rr of a group keeping its accumulators at carry offset c.
template <class Strip>
inline void for_k_blocks(int64_t r, int64_t r1, int64_t t0, int64_t t1, int64_t cols, int64_t elem_bytes,
                         Strip&& strip) {
  for (int64_t ts = t0; ts < t1; ts += kBlockedTokens) {
    const int64_t te = min64(t1, ts + kBlockedTokens), kc = k_block(te - ts, cols, elem_bytes);
    for (int64_t g = r; g + kRows <= r1; g += kBlockedRows) {
      const int64_t ge = g + min64(kBlockedRows, (r1 - g) / kRows * kRows);
      for (int64_t k0 = 0; k0 < cols; k0 += kc)
        for (int64_t rr = g; rr < ge; rr += kRows) strip(rr, ts, te, k0, min64(cols, k0 + kc), (rr - g) * (te - ts));
    }
  }
}

// The k-blocked tiles' entry: accumulators resumed from carry (64-byte
// aligned) where their k-range starts past the row's beginning (resume),
// else zero.
template <int R, int T, class V>
inline void carry_in(bool resume, const V* carry, V (&acc)[R][T]) {
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 8
    for (int t = 0; t < T; ++t) acc[r][t] = resume ? carry[r * T + t] : V{};
}

// The k-blocked tiles' exit where their k-range stops short of the row's
// end (mid_row): the accumulators go back to carry (64-byte aligned) for the
// next block to resume; true then.
template <int R, int T, class V>
inline bool carry_out(bool mid_row, V* carry, const V (&acc)[R][T]) {
  if (!mid_row) return false;
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 8
    for (int t = 0; t < T; ++t) carry[r * T + t] = acc[r][t];
  return true;
}

// Runs tile.template operator()<T>(t) over tokens [t0, t1): tiles of 12
// tokens, then one tile of the remaining 1-11 (the panel kernels' widths).
template <class Tile>
inline void tiles_of_12(int64_t t0, int64_t t1, Tile&& tile) {
  int64_t t = t0;
  for (; t + 12 <= t1; t += 12) tile.template operator()<12>(t);
  switch (t1 - t) {
    case 11: tile.template operator()<11>(t); break;
    case 10: tile.template operator()<10>(t); break;
    case 9: tile.template operator()<9>(t); break;
    case 8: tile.template operator()<8>(t); break;
    case 7: tile.template operator()<7>(t); break;
    case 6: tile.template operator()<6>(t); break;
    case 5: tile.template operator()<5>(t); break;
    case 4: tile.template operator()<4>(t); break;
    case 3: tile.template operator()<3>(t); break;
    case 2: tile.template operator()<2>(t); break;
    case 1: tile.template operator()<1>(t); break;
    default: break;
  }
}

// Rows [r0, r1) of the float-activation kernels (bf16 x f32, FP8):
// strip.template operator()<R, Permuted>(r) over tiles of kGemvRows rows for
// one token with permuted x, else kRows, then single rows.
template <class Strip>
inline void float_row_tiles(int64_t r0, int64_t r1, bool permuted, int64_t n_tokens, Strip&& strip) {
  auto run = [&]<bool P>() {
    int64_t r = r0;
    if (P && n_tokens == 1)
      for (; r + kGemvRows <= r1; r += kGemvRows) strip.template operator()<kGemvRows, P>(r);
    for (; r + kRows <= r1; r += kRows) strip.template operator()<kRows, P>(r);
    for (; r < r1; ++r) strip.template operator()<1, P>(r);
  };
  if (permuted) run.template operator()<true>();
  else run.template operator()<false>();
}

// ---- int8 (VNNI) ----------------------------------------------------------
// vpdpbusd multiplies unsigned by signed bytes: the weight is made unsigned by
// flipping its sign bit (w + 128) and the excess 128 * sum(x) is removed after.
// Sums over k in [k0, k1). Blocked (the k-blocked form, int8_rows): the
// accumulators resume from `carry` when k0 > 0 and go back there unless k1
// is the row's end (where they are reduced into out), and each row is
// fetched kRowAheadBytes ahead (the k-blocked order breaks the rows into runs
// the hardware prefetchers follow poorly).
// row_step > 1 (one token, int8_strided_rows): rows r * row_step apart.
template <int R, int T, bool Blocked>
inline void int8_tile(const int8_t* w, int64_t cols, int64_t k0, int64_t k1, const int8_t* x, int64_t ldx,
                      __m512i* carry, int32_t out[R][T], int64_t row_step = 1) {
  const int64_t stride = row_step * cols;
  __m512i acc[R][T];
  carry_in<R, T>(Blocked && k0 > 0, carry, acc);
  const __m512i flip = _mm512_set1_epi8(static_cast<char>(0x80));
  // A plain loop with a per-step choice of load, not for_steps: at 4 x 6
  // tiles the lambda form read ~15 % slower (accumulators spilled).
  for (int64_t k = k0; k < k1; k += 64) {
    const bool whole = k + 64 <= cols;
    const __mmask64 m = tail_mask64(cols - k);
    auto load = [&](const int8_t* p) { return whole ? _mm512_loadu_si512(p) : _mm512_maskz_loadu_epi8(m, p); };
    __m512i wv[R];
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) wv[r] = _mm512_xor_si512(load(w + r * stride + k), flip);
    if constexpr (Blocked) prefetch_rows_ahead<R>(w, cols, k);
    else if constexpr (R > 1) {
      if (row_step == 1) prefetch_stream_ahead<R>(w, cols, k);
      else prefetch_strided_ahead<R>(w, stride, k);
    }
#pragma GCC unroll 8
    for (int t = 0; t < T; ++t) {
      const __m512i xv = load(x + t * ldx + k);
#pragma GCC unroll 8
      for (int r = 0; r < R; ++r) acc[r][t] = _mm512_dpbusd_epi32(acc[r][t], wv[r], xv);
    }
  }
  if (carry_out<R, T>(Blocked && k1 < cols, carry, acc)) return;
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 8
    for (int t = 0; t < T; ++t) out[r][t] = _mm512_reduce_add_epi32(acc[r][t]);
}

// One row, one token, four independent sums over k (integers: the order
// does not change them): the one-stream form's row dot product.
inline int32_t int8_row_dot(const int8_t* w, int64_t cols, const int8_t* x) {
  const __m512i flip = _mm512_set1_epi8(static_cast<char>(0x80));
  __m512i acc[4] = {_mm512_setzero_si512(), _mm512_setzero_si512(), _mm512_setzero_si512(), _mm512_setzero_si512()};
  int64_t k = 0;
  for (; k + 256 <= cols; k += 256)
#pragma GCC unroll 4
    for (int j = 0; j < 4; ++j)
      acc[j] = _mm512_dpbusd_epi32(acc[j], _mm512_xor_si512(_mm512_loadu_si512(w + k + 64 * j), flip),
                                   _mm512_loadu_si512(x + k + 64 * j));
  for (; k < cols; k += 64) {
    const __mmask64 m = tail_mask64(cols - k);
    acc[0] = _mm512_dpbusd_epi32(acc[0], _mm512_xor_si512(_mm512_maskz_loadu_epi8(m, w + k), flip),
                                 _mm512_maskz_loadu_epi8(m, x + k));
  }
  return _mm512_reduce_add_epi32(
      _mm512_add_epi32(_mm512_add_epi32(acc[0], acc[1]), _mm512_add_epi32(acc[2], acc[3])));
}

// Output (row r, token t) from the tile's sum: the excess 128 * sum(x) off,
// then the scales (or the int32 sum itself without y).
inline void int8_epilogue(int32_t sum, int64_t r, int64_t t, const int32_t* xsum, const float* xs, const float* ws,
                          float* y, int32_t* acc32, int64_t ldy, int64_t out_row0) {
  const int32_t a = sum - 128 * xsum[t];
  const int64_t o = t * ldy + (r - out_row0);
  if (y) y[o] = static_cast<float>(a) * xs[t] * ws[r];
  else acc32[o] = a;
}

// Masked-off weight lanes become 0x80 (=128 unsigned) but meet x = 0, so the
// tail contributes nothing and the 128 * xsum correction stays exact.
// Blocked: the sums over [k0, k1) only (see int8_tile); the epilogue runs
// with the block that ends the row.
template <int R, int T, bool Blocked>
inline void int8_block(const int8_t* w, int64_t cols, int64_t r, const int8_t* xq, const int32_t* xsum, int64_t t,
                       const float* xs, const float* ws, float* y, int32_t* acc32, int64_t ldy, int64_t out_row0,
                       int64_t k0, int64_t k1, __m512i* carry) {
  int32_t out[R][T];
  if constexpr (R == 1 && T == 1 && !Blocked) out[0][0] = int8_row_dot(w + r * cols, cols, xq + t * cols);
  else int8_tile<R, T, Blocked>(w + r * cols, cols, k0, k1, xq + t * cols, cols, carry, out);
  if (k1 < cols) return;
  for (int rr = 0; rr < R; ++rr)
    for (int tt = 0; tt < T; ++tt) int8_epilogue(out[rr][tt], r + rr, t + tt, xsum, xs, ws, y, acc32, ldy, out_row0);
}

// One token t, rows [r0, r1) in strided tiles (as the FP8 byte-table
// GEMV's lut_strided_rows: tile j takes rows r0 + j + i S, so each stream
// runs along S consecutive rows; two threads from memory, R1's q_b_proj
// (1.5 KB rows) and the experts' down rows (2 KB) read 24-25 GB/s in 8-row
// tiles against 27.6 for 7 KB rows). Integer sums: the same outputs.
// Returns the first row it left.
template <int R>
inline int64_t int8_strided_rows(const int8_t* w, int64_t cols, int64_t r0, int64_t r1, const int8_t* xq,
                                 const int32_t* xsum, int64_t t, const float* xs, const float* ws, float* y,
                                 int32_t* acc32, int64_t ldy, int64_t out_row0) {
  const int64_t S = (r1 - r0) / R;
  if (S * cols < kStridedMinStreamBytes) return r0;
  for (int64_t j = 0; j < S; ++j) {
    int32_t out[R][1];
    int8_tile<R, 1, false>(w + (r0 + j) * cols, cols, 0, cols, xq + t * cols, cols, nullptr, out, S);
    for (int i = 0; i < R; ++i) int8_epilogue(out[i][0], r0 + j + i * S, t, xsum, xs, ws, y, acc32, ldy, out_row0);
  }
  return r0 + R * S;
}

// Rows [r, r + R) x tokens [t0, t1) in token tiles of 6; Blocked: over
// [k0, k1), the tile at token t keeping its accumulators at carry + (t - t0) * R.
template <int R, bool Blocked = false>
inline void int8_strip(const int8_t* w, int64_t cols, int64_t r, const int8_t* xq, const int32_t* xsum, int64_t t0,
                       int64_t t1, const float* xs, const float* ws, float* y, int32_t* acc32, int64_t ldy,
                       int64_t out_row0, int64_t k0 = 0, int64_t k1 = -1, __m512i* carry = nullptr) {
  if (k1 < 0) k1 = cols;
  auto block = [&]<int T>(int64_t t) {
    int8_block<R, T, Blocked>(w, cols, r, xq, xsum, t, xs, ws, y, acc32, ldy, out_row0, k0, k1,
                              Blocked ? carry + (t - t0) * R : nullptr);
  };
  tiles_of_6(t0, t1, block);
}

// ---- int8 (VNNI), packed panels ---------------------------------------------
inline int32_t load_i32(const int8_t* p) {
  int32_t v;
  __builtin_memcpy(&v, p, 4);
  return v;
}

// One tile: T tokens x the panel's 32 rows (h: rows 16h..16h+15), all of K in
// registers, then the same epilogue as int8_block. Reads whole 4-byte groups
// of x (ldx >= cols rounded up to 4; the packed weights of k >= cols are 0).
// No separate tail code: with one, GCC 12 spills the accumulators every step.
template <int T>
inline void int8_panel_block(const uint8_t* pack, int64_t cols, int64_t r0, int64_t nr, const int8_t* xq,
                             int64_t ldx, const int32_t* xsum, int64_t t, const float* xs, const float* ws, float* y,
                             int32_t* acc32, int64_t ldy, int64_t out_row0) {
  __m512i acc0[T], acc1[T];
#pragma GCC unroll 16
  for (int i = 0; i < T; ++i) {
    acc0[i] = _mm512_setzero_si512();
    acc1[i] = _mm512_setzero_si512();
  }
  const int8_t* x = xq + t * ldx;
  const int64_t full = (cols + 3) / 4;
  const uint8_t* p = pack;
  for (int64_t g = 0; g < full; ++g, p += 128) {
    const __m512i w0 = _mm512_load_si512(p), w1 = _mm512_load_si512(p + 64);
#pragma GCC unroll 16
    for (int i = 0; i < T; ++i) {
      const __m512i b = _mm512_set1_epi32(load_i32(x + i * ldx + 4 * g));
      acc0[i] = _mm512_dpbusd_epi32(acc0[i], w0, b);
      acc1[i] = _mm512_dpbusd_epi32(acc1[i], w1, b);
    }
  }
  for (int h = 0; h < 2 && 16 * h < nr; ++h) {
    const __mmask16 m = tail_mask16(nr - 16 * h);
    const int64_t r = r0 + 16 * h;
    const __m512 wsv = y ? _mm512_maskz_loadu_ps(m, ws + r) : _mm512_setzero_ps();
#pragma GCC unroll 16
    for (int i = 0; i < T; ++i) {
      const __m512i a = _mm512_sub_epi32(h ? acc1[i] : acc0[i], _mm512_set1_epi32(128 * xsum[t + i]));
      const int64_t o = (t + i) * ldy + (r - out_row0);
      // Same expression and order as int8_block: float(a) * xs[t] * ws[r].
      if (y)
        _mm512_mask_storeu_ps(y + o, m,
                              _mm512_mul_ps(_mm512_mul_ps(_mm512_cvtepi32_ps(a), _mm512_set1_ps(xs[t + i])), wsv));
      else
        _mm512_mask_storeu_epi32(acc32 + o, m, a);
    }
  }
}

// ---- bf16 (AVX512_BF16), packed panels -----------------------------------------
// Same broadcast form as the int8 panels: one dword of a panel vector holds
// the k-pair (2g, 2g+1) of one of 16 rows, so vdpbf16ps against a broadcast
// dword of x adds two products per row and lane.
inline uint32_t load_u32(const uint16_t* p) {
  uint32_t v;
  __builtin_memcpy(&v, p, 4);
  return v;
}

template <int T>
inline void bf16_panel_block(const uint16_t* pack, int64_t pairs, int64_t nr, const uint16_t* x, int64_t ldx,
                             float* y, int64_t ldy, bool accumulate, const char*& pf, const char* pf_end) {
  __m512 acc0[T], acc1[T];
  const __mmask16 m0 = tail_mask16(nr), m1 = nr > 16 ? tail_mask16(nr - 16) : __mmask16(0);
#pragma GCC unroll 16
  for (int i = 0; i < T; ++i) {
    acc0[i] = accumulate ? _mm512_maskz_loadu_ps(m0, y + i * ldy) : _mm512_setzero_ps();
    acc1[i] = accumulate ? _mm512_maskz_loadu_ps(m1, y + i * ldy + 16) : _mm512_setzero_ps();
  }
  const uint16_t* p = pack;
  for (int64_t g = 0; g < pairs; ++g, p += 64) {
    if (pf < pf_end) {
      _mm_prefetch(pf, _MM_HINT_T1);
      pf += 64;
    }
    const __m512bh w0 = (__m512bh)_mm512_load_si512(p), w1 = (__m512bh)_mm512_load_si512(p + 32);
#pragma GCC unroll 16
    for (int i = 0; i < T; ++i) {
      const __m512bh b = (__m512bh)_mm512_set1_epi32(static_cast<int>(load_u32(x + i * ldx + 2 * g)));
      acc0[i] = _mm512_dpbf16_ps(acc0[i], w0, b);
      acc1[i] = _mm512_dpbf16_ps(acc1[i], w1, b);
    }
  }
#pragma GCC unroll 16
  for (int i = 0; i < T; ++i) {
    _mm512_mask_storeu_ps(y + i * ldy, m0, acc0[i]);
    if (nr > 16) _mm512_mask_storeu_ps(y + i * ldy + 16, m1, acc1[i]);
  }
}

// ---- bf16 -------------------------------------------------------------------
// Blocked as int8_tile: float accumulators resume from carry exactly as they
// were left, so the sums (and their order) are those of the whole-row form.
template <int R, int T, bool Blocked>
inline void bf16_tile(const uint16_t* w, int64_t cols, int64_t k0, int64_t k1, const uint16_t* x, int64_t ldx,
                      __m512* carry, float out[R][T]) {
  __m512 acc[R][T];
  carry_in<R, T>(Blocked && k0 > 0, carry, acc);
  for_steps<32>(k0, k1, [&]<bool Tail>(int64_t k) {
    const __mmask32 m = tail_mask32(cols - k);
    __m512i wv[R];
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) wv[r] = load_epi16<Tail>(m, w + r * cols + k);
    if constexpr (Blocked) prefetch_rows_ahead<R>(w, 2 * cols, 2 * k);
    else if constexpr (R > 1) prefetch_stream_ahead<R>(w, 2 * cols, 2 * k);
#pragma GCC unroll 8
    for (int t = 0; t < T; ++t) {
      const __m512i xv = load_epi16<Tail>(m, x + t * ldx + k);
#pragma GCC unroll 8
      for (int r = 0; r < R; ++r) acc[r][t] = _mm512_dpbf16_ps(acc[r][t], (__m512bh)wv[r], (__m512bh)xv);
    }
  });
  if (carry_out<R, T>(Blocked && k1 < cols, carry, acc)) return;
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 8
    for (int t = 0; t < T; ++t) out[r][t] = _mm512_reduce_add_ps(acc[r][t]);
}

// ---- bf16 weights x float32 activations (exact products) --------------------
// bf16 -> f32 is a 16-bit shift; products and sums in float32 as the
// reference does, so bf16 checkpoints (and FP8 checkpoints' bf16 lm_head) keep
// their accuracy. Half the peak rate of vdpbf16ps. x is permuted
// (bf16f32_permute_x): a 64-byte load of 32 bf16 gives the even elements as
// float32 by a 16-bit left shift and the odd ones by masking the low halves,
// no cross-lane shuffle.
template <int R, int T, bool Blocked>
inline void bf16f32_tile(const uint16_t* w, int64_t cols, int64_t k0, int64_t k1, const float* x, int64_t ldx,
                         __m512* carry, float out[R][T]) {
  __m512 acc[R][T];
  carry_in<R, T>(Blocked && k0 > 0, carry, acc);
  const __m512i hi_mask = _mm512_set1_epi32(static_cast<int>(0xFFFF0000u));
  // Both halves of each row at once where they fit the 32 registers with
  // the accumulators; else even elements into every accumulator, then odd
  // ones, the rows re-read from L1 for the odd half (4 x 6 tiles: 34
  // registers the first way, spilled). Each sum's order is even, odd per
  // step either way.
  constexpr bool kBothHalves = R * T + 2 * R + 2 <= 32;
  for_steps<32>(k0, k1, [&]<bool Tail>(int64_t k) {
    auto row = [&](int r) { return load_epi16<Tail>(tail_mask32(cols - k), w + r * cols + k); };
    auto even = [&](__m512i v) { return _mm512_castsi512_ps(_mm512_slli_epi32(v, 16)); };
    auto odd = [&](__m512i v) { return _mm512_castsi512_ps(_mm512_and_si512(v, hi_mask)); };
    __m512 w0[R], w1[R];
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
      const __m512i v = row(r);
      w0[r] = even(v);
      if constexpr (kBothHalves) w1[r] = odd(v);
    }
    if constexpr (Blocked) prefetch_rows_ahead<R>(w, 2 * cols, 2 * k);
    else if constexpr (R > 1) prefetch_stream_ahead<R>(w, 2 * cols, 2 * k);
    if constexpr (kBothHalves) {
#pragma GCC unroll 8
      for (int t = 0; t < T; ++t) {
        const __m512 xe = _mm512_loadu_ps(x + t * ldx + k), xo = _mm512_loadu_ps(x + t * ldx + k + 16);
#pragma GCC unroll 8
        for (int r = 0; r < R; ++r) acc[r][t] = _mm512_fmadd_ps(w1[r], xo, _mm512_fmadd_ps(w0[r], xe, acc[r][t]));
      }
    } else {
#pragma GCC unroll 8
      for (int t = 0; t < T; ++t) {
        const __m512 xe = _mm512_loadu_ps(x + t * ldx + k);
#pragma GCC unroll 8
        for (int r = 0; r < R; ++r) acc[r][t] = _mm512_fmadd_ps(w0[r], xe, acc[r][t]);
      }
#pragma GCC unroll 8
      for (int r = 0; r < R; ++r) w0[r] = odd(row(r));
#pragma GCC unroll 8
      for (int t = 0; t < T; ++t) {
        const __m512 xo = _mm512_loadu_ps(x + t * ldx + k + 16);
#pragma GCC unroll 8
        for (int r = 0; r < R; ++r) acc[r][t] = _mm512_fmadd_ps(w0[r], xo, acc[r][t]);
      }
    }
  });
  if (carry_out<R, T>(Blocked && k1 < cols, carry, acc)) return;
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 8
    for (int t = 0; t < T; ++t) out[r][t] = _mm512_reduce_add_ps(acc[r][t]);
}

// Rows [r, r + R) x tokens [t0, t1) of bf16 weights against activations X
// (rows ldx apart): bf16 (bf16_tile) or float32 (bf16f32_tile, permuted x)
// in token tiles of up to 6; Blocked as int8_strip.
template <int R, bool Blocked = false, class X>
inline void bf16_weight_strip(const uint16_t* w, int64_t cols, int64_t r, const X* x, int64_t ldx, int64_t t0,
                              int64_t t1, float* y, int64_t ldy, int64_t out_row0, int64_t k0 = 0, int64_t k1 = -1,
                              __m512* carry = nullptr) {
  if (k1 < 0) k1 = cols;
  tiles_of_6(t0, t1, [&]<int T>(int64_t t) {
    float out[R][T];
    __m512* c = Blocked ? carry + (t - t0) * R : nullptr;
    if constexpr (sizeof(X) == 2) bf16_tile<R, T, Blocked>(w + r * cols, cols, k0, k1, x + t * ldx, ldx, c, out);
    else bf16f32_tile<R, T, Blocked>(w + r * cols, cols, k0, k1, x + t * ldx, ldx, c, out);
    if (k1 < cols) return;
    for (int rr = 0; rr < R; ++rr)
      for (int tt = 0; tt < T; ++tt) y[(t + tt) * ldy + (r + rr - out_row0)] = out[rr][tt];
  });
}

// ---- fp8 e4m3 ---------------------------------------------------------------
// Sign-extend the byte, move exponent+mantissa to the float32 exponent LSBs and
// keep the sign: the float is exactly value * 2^-120 (subnormals included).
inline __m512 fp8_to_scaled_f32(__m128i bytes) {
  const __m512i v = _mm512_slli_epi32(_mm512_cvtepi8_epi32(bytes), 20);
  return _mm512_castsi512_ps(_mm512_and_si512(v, _mm512_set1_epi32(static_cast<int>(0x87F00000u))));
}
constexpr float kFp8Fold = 0x1p120f;

// The j-th byte of each dword moved to the top (shift left 24 - 8j), then an
// arithmetic shift right by 4 puts e4m3's exponent+mantissa at the float32
// exponent LSBs with the sign in bit 31, as fp8_to_scaled_f32 does: no
// cross-lane widening. Lane i of group j holds column 4i + j of the 64.
template <int J>
inline __m512 fp8_group_to_scaled_f32(__m512i v) {
  const __m512i top = J == 3 ? v : _mm512_slli_epi32(v, 24 - 8 * J);
  return _mm512_castsi512_ps(
      _mm512_and_si512(_mm512_srai_epi32(top, 4), _mm512_set1_epi32(static_cast<int>(0x87F00000u))));
}

// Plain x: 16 columns at a time, widened by fp8_to_scaled_f32. Permuted x
// (fp8_permute_x; block_cols % 64 == 0): 64 columns at a time in four byte
// groups, no cross-lane widening (for few tokens, where widening is the
// bottleneck).
template <int R, int T, bool Permuted>
inline void fp8_tile(const Fp8Weight& w, int64_t r, const float* x, int64_t ldx, float out[R][T]) {
  fp8_block_scaled_tile<R, T>(w, r, kFp8Fold, out, [&](const uint8_t* const (&rows)[R], int64_t c0, int64_t c1,
                                                       __m512 (&blk)[R][T]) {
    // blk += the weights' float32 vector wf (16 columns) times x at column offset xo.
    auto fma_all = [&](const __m512 (&wf)[R], int64_t xo, __mmask16 xm) {
#pragma GCC unroll 8
      for (int t = 0; t < T; ++t) {
        const __m512 xv = _mm512_maskz_loadu_ps(xm, x + t * ldx + xo);
#pragma GCC unroll 8
        for (int i = 0; i < R; ++i) blk[i][t] = _mm512_fmadd_ps(wf[i], xv, blk[i][t]);
      }
    };
    if constexpr (Permuted) {
      for_steps<64>(c1 - c0, [&]<bool Tail>(int64_t kk) {
        const int64_t k = c0 + kk;
        const __mmask64 m = tail_mask64(c1 - k);
        __m512i v[R];
        __m512 wf[R];
#pragma GCC unroll 8
        for (int i = 0; i < R; ++i) v[i] = load_epi8<Tail>(m, rows[i] + k);
#pragma GCC unroll 8
        for (int i = 0; i < R; ++i) wf[i] = fp8_group_to_scaled_f32<0>(v[i]);
        fma_all(wf, k, 0xffff);
#pragma GCC unroll 8
        for (int i = 0; i < R; ++i) wf[i] = fp8_group_to_scaled_f32<1>(v[i]);
        fma_all(wf, k + 16, 0xffff);
#pragma GCC unroll 8
        for (int i = 0; i < R; ++i) wf[i] = fp8_group_to_scaled_f32<2>(v[i]);
        fma_all(wf, k + 32, 0xffff);
#pragma GCC unroll 8
        for (int i = 0; i < R; ++i) wf[i] = fp8_group_to_scaled_f32<3>(v[i]);
        fma_all(wf, k + 48, 0xffff);
      });
    } else {
      for (int64_t k = c0; k < c1; k += 16) {
        const __mmask16 m = tail_mask16(c1 - k);
        __m512 wf[R];
#pragma GCC unroll 8
        for (int i = 0; i < R; ++i) wf[i] = fp8_to_scaled_f32(_mm_maskz_loadu_epi8(m, rows[i] + k));
        fma_all(wf, k, m);
      }
    }
  });
}

template <int R, int T, bool Permuted>
inline void fp8_block(const Fp8Weight& w, int64_t r, const float* x, int64_t t, float* y, int64_t ldy,
                      int64_t out_row0) {
  float out[R][T];
  const int64_t ldx = Permuted ? fp8_x_stride(w.cols) : w.cols;
  fp8_tile<R, T, Permuted>(w, r, x + t * ldx, ldx, out);
  for (int i = 0; i < R; ++i)
    for (int tt = 0; tt < T; ++tt) y[(t + tt) * ldy + (r + i - out_row0)] = out[i][tt];
}

template <int R, bool P>
inline void fp8_strip(const Fp8Weight& w, int64_t r, const float* x, int64_t t0, int64_t t1, float* y, int64_t ldy,
                      int64_t out_row0) {
  int64_t t = t0;
  for (; t + 4 <= t1; t += 4) fp8_block<R, 4, P>(w, r, x, t, y, ldy, out_row0);
  switch (t1 - t) {
    case 3: fp8_block<R, 3, P>(w, r, x, t, y, ldy, out_row0); break;
    case 2: fp8_block<R, 2, P>(w, r, x, t, y, ldy, out_row0); break;
    case 1: fp8_block<R, 1, P>(w, r, x, t, y, ldy, out_row0); break;
    default: break;
  }
}

// bf16 weight rows from r0, 32 columns at a time: the even columns, then the odd.
struct Bf16Source {
  static constexpr int kCols = 32, kVectors = 2;
  static int column(int p) { return p < 16 ? 2 * p : 2 * (p - 16) + 1; }
  struct Row {
    const uint16_t* w;
    FloatVectors<2> load(int64_t c) const {
      const __m512i v = _mm512_loadu_si512(w + c);
      return {{_mm512_castsi512_ps(_mm512_slli_epi32(v, 16)),
               _mm512_castsi512_ps(_mm512_and_si512(v, _mm512_set1_epi32(static_cast<int>(0xFFFF0000u))))}};
    }
  };
  const uint16_t* w;
  int64_t cols, r0;
  Row row(int64_t d) const { return {w + (r0 + d) * cols}; }
  void prefetch_row(int64_t d) const { prefetch_row_bytes(w + (r0 + d) * cols, 2 * cols); }
};

}  // namespace

void int8_rows(const int8_t* w, int64_t cols, int64_t r0, int64_t r1, const int8_t* xq, const int32_t* xsum,
               int64_t t0, int64_t t1, const float* xs, const float* ws, float* y, int32_t* acc32, int64_t ldy,
               int64_t out_row0) {
  int64_t r = r0;
  if (!one_row_at_a_time(t1 - t0)) {
    if (t1 - t0 == 1) r = int8_strided_rows<kGemvRows>(w, cols, r, r1, xq, xsum, t0, xs, ws, y, acc32, ldy, out_row0);
    if (t1 - t0 <= kStreamTokens)
      for (; r + kGemvRows <= r1; r += kGemvRows)
        int8_strip<kGemvRows>(w, cols, r, xq, xsum, t0, t1, xs, ws, y, acc32, ldy, out_row0);
    if (x_outgrows_l1(t1 - t0, cols)) {
      alignas(64) __m512i carry[kBlockedRows * kBlockedTokens];
      for_k_blocks(r, r1, t0, t1, cols, 1, [&](int64_t rr, int64_t ts, int64_t te, int64_t k0, int64_t k1, int64_t c) {
        int8_strip<kRows, true>(w, cols, rr, xq, xsum, ts, te, xs, ws, y, acc32, ldy, out_row0, k0, k1, carry + c);
      });
      r += (r1 - r) / kRows * kRows;
    }
    for (; r + kRows <= r1; r += kRows)
      int8_strip<kRows>(w, cols, r, xq, xsum, t0, t1, xs, ws, y, acc32, ldy, out_row0);
  }
  for (; r < r1; ++r) int8_strip<1>(w, cols, r, xq, xsum, t0, t1, xs, ws, y, acc32, ldy, out_row0);
}

void int8_pack_panel(const int8_t* w, int64_t cols, int64_t r0, int64_t nr, uint8_t* pack) {
  const __m512i flip = _mm512_set1_epi8(static_cast<char>(0x80));
  for (int64_t c = 0; c < cols; c += 64) {
    const __mmask64 m = tail_mask64(cols - c);
    for (int h = 0; h < 2; ++h) {
      __m512i in[16], out[16];
      for (int i = 0; i < 16; ++i) {
        const int64_t r = 16 * h + i;
        // Flip to unsigned only the bytes in range: padding stays 0.
        in[i] = r < nr ? _mm512_maskz_mov_epi8(m, _mm512_xor_si512(_mm512_maskz_loadu_epi8(m, w + (r0 + r) * cols + c), flip))
                       : _mm512_setzero_si512();
      }
      transpose16_epi32(in, out);
      uint8_t* dst = pack + (c / 4) * 128 + 64 * h;
#pragma GCC unroll 16
      for (int g = 0; g < 16; ++g) _mm512_storeu_si512(dst + g * 128, out[g]);
    }
  }
}

void int8_panel_rows(const uint8_t* pack, int64_t cols, int64_t r0, int64_t nr, const int8_t* xq, int64_t ldx,
                     const int32_t* xsum, int64_t t0, int64_t t1, const float* xs, const float* ws, float* y,
                     int32_t* acc32, int64_t ldy, int64_t out_row0) {
  tiles_of_12(t0, t1, [&]<int T>(int64_t t) {
    int8_panel_block<T>(pack, cols, r0, nr, xq, ldx, xsum, t, xs, ws, y, acc32, ldy, out_row0);
  });
}

void bf16_rows(const uint16_t* w, int64_t cols, int64_t r0, int64_t r1, const uint16_t* xb, int64_t t0, int64_t t1,
               float* y, int64_t ldy, int64_t out_row0) {
  int64_t r = r0;
  if (x_outgrows_l1(t1 - t0, 2 * cols)) {
    alignas(64) __m512 carry[kBlockedRows * kBlockedTokens];
    for_k_blocks(r, r1, t0, t1, cols, 2, [&](int64_t rr, int64_t ts, int64_t te, int64_t k0, int64_t k1, int64_t c) {
      bf16_weight_strip<kRows, true>(w, cols, rr, xb, cols, ts, te, y, ldy, out_row0, k0, k1, carry + c);
    });
    r += (r1 - r) / kRows * kRows;
  }
  for (; r + kRows <= r1; r += kRows) bf16_weight_strip<kRows>(w, cols, r, xb, cols, t0, t1, y, ldy, out_row0);
  for (; r < r1; ++r) bf16_weight_strip<1>(w, cols, r, xb, cols, t0, t1, y, ldy, out_row0);
}

void bf16f32_rows(const uint16_t* w, int64_t cols, int64_t r0, int64_t r1, const float* x, int64_t t0, int64_t t1,
                  float* y, int64_t ldy, int64_t out_row0) {
  int64_t r = r0;
  if (x_outgrows_l1(t1 - t0, 4 * cols)) {
    alignas(64) __m512 carry[kBlockedRows * kBlockedTokens];
    for_k_blocks(r, r1, t0, t1, cols, 4, [&](int64_t rr, int64_t ts, int64_t te, int64_t k0, int64_t k1, int64_t c) {
      bf16_weight_strip<kRows, true>(w, cols, rr, x, bf16f32_x_stride(cols), ts, te, y, ldy, out_row0, k0, k1,
                                      carry + c);
    });
    r += (r1 - r) / kRows * kRows;
  }
  float_row_tiles(r, r1, true, t1 - t0, [&]<int R, bool>(int64_t rr) {
    bf16_weight_strip<R>(w, cols, rr, x, bf16f32_x_stride(cols), t0, t1, y, ldy, out_row0);
  });
}

void fp8_rows(const uint8_t* w, int64_t cols, const float* scale, int64_t scale_cols, int64_t block_rows,
              int64_t block_cols, int64_t r0, int64_t r1, const float* x, bool permuted_x, int64_t t0, int64_t t1,
              float* y, int64_t ldy, int64_t out_row0) {
  const Fp8Weight fw{w, cols, scale, scale_cols, block_rows, block_cols};
  float_row_tiles(r0, r1, permuted_x, t1 - t0, [&]<int R, bool P>(int64_t r) {
    fp8_strip<R, P>(fw, r, x, t0, t1, y, ldy, out_row0);
  });
}

void quantize_int8(const float* x, int64_t n_tokens, int64_t cols, int8_t* q, float* scales, int32_t* sums) {
  const __m512 abs_mask = _mm512_castsi512_ps(_mm512_set1_epi32(0x7fffffff));
  for (int64_t t = 0; t < n_tokens; ++t) {
    const float* xi = x + t * cols;
    int8_t* qi = q + t * cols;
    __m512 vmax = _mm512_setzero_ps();
    for_steps<16>(cols, [&]<bool Tail>(int64_t c) {
      const __m512 v = load_ps<Tail>(tail_mask16(cols - c), xi + c);
      vmax = _mm512_max_ps(vmax, _mm512_and_ps(v, abs_mask));
    });
    const float amax = _mm512_reduce_max_ps(vmax);
    const float scale = amax / 127.0f;
    scales[t] = scale;
    __m512i vsum = _mm512_setzero_si512();
    if (scale == 0.f) {
      for (int64_t c = 0; c < cols; ++c) qi[c] = 0;
      sums[t] = 0;
      continue;
    }
    // Division (not a reciprocal multiply) and round-half-even: the same
    // values as the scalar nearbyint(x / scale).
    const __m512 vs = _mm512_set1_ps(scale), lo = _mm512_set1_ps(-127.f), hi = _mm512_set1_ps(127.f);
    for_steps<16>(cols, [&]<bool Tail>(int64_t c) {
      const __mmask16 m = tail_mask16(cols - c);
      __m512 v = _mm512_div_ps(load_ps<Tail>(m, xi + c), vs);
      v = _mm512_roundscale_ps(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
      v = _mm512_min_ps(hi, _mm512_max_ps(lo, v));
      const __m512i iv = _mm512_cvtps_epi32(v);
      if constexpr (Tail) {
        vsum = _mm512_add_epi32(vsum, _mm512_maskz_mov_epi32(m, iv));
        _mm_mask_storeu_epi8(qi + c, m, _mm512_cvtsepi32_epi8(iv));
      } else {
        vsum = _mm512_add_epi32(vsum, iv);
        _mm_storeu_si128(reinterpret_cast<__m128i*>(qi + c), _mm512_cvtsepi32_epi8(iv));
      }
    });
    sums[t] = _mm512_reduce_add_epi32(vsum);
  }
}

void bf16_pack_panel(const uint16_t* w, int64_t ldw, int64_t k, int64_t nr, uint16_t* pack) {
  for (int64_t c = 0; c < k; c += 32) {
    const __mmask32 m = tail_mask32(k - c);
    for (int h = 0; h < 2; ++h) {
      __m512i in[16], out[16];
      for (int i = 0; i < 16; ++i) {
        const int64_t r = 16 * h + i;
        in[i] = r < nr ? _mm512_maskz_loadu_epi16(m, w + r * ldw + c) : _mm512_setzero_si512();
      }
      transpose16_epi32(in, out);
      uint16_t* dst = pack + (c / 2) * 64 + 32 * h;
      const int64_t groups = (k - c + 1) / 2 < 16 ? (k - c + 1) / 2 : 16;
      for (int64_t g = 0; g < groups; ++g) _mm512_store_si512(dst + g * 64, out[g]);
    }
  }
}

void bf16_pack_panel_kmajor(const uint16_t* v, int64_t ldv, int64_t k, int64_t nr, uint16_t* pack) {
  const __mmask16 m0 = tail_mask16(nr), m1 = nr > 16 ? tail_mask16(nr - 16) : __mmask16(0);
  for (int64_t g = 0; g < (k + 1) / 2; ++g) {
    const uint16_t* lo = v + 2 * g * ldv;
    const bool has_hi = 2 * g + 1 < k;
    for (int h = 0; h < 2; ++h) {
      const __mmask16 m = h ? m1 : m0;
      const __m512i a = _mm512_cvtepu16_epi32(_mm256_maskz_loadu_epi16(m, lo + 16 * h));
      const __m512i b = has_hi ? _mm512_cvtepu16_epi32(_mm256_maskz_loadu_epi16(m, lo + ldv + 16 * h))
                               : _mm512_setzero_si512();
      _mm512_store_si512(pack + g * 64 + 32 * h, _mm512_or_si512(a, _mm512_slli_epi32(b, 16)));
    }
  }
}

void bf16_pack_f32_panel(const uint16_t* w, int64_t ldw, int64_t k, int64_t nr, float* pack) {
  for (int64_t c = 0; c < k; c += 16) {
    const __mmask16 m = tail_mask16(k - c);
    for (int h = 0; h < 2; ++h) {
      __m512i in[16], out[16];
      for (int i = 0; i < 16; ++i) {
        const int64_t r = 16 * h + i;
        in[i] = r < nr ? _mm512_slli_epi32(_mm512_cvtepu16_epi32(_mm256_maskz_loadu_epi16(m, w + r * ldw + c)), 16)
                       : _mm512_setzero_si512();
      }
      transpose16_epi32(in, out);  // out[j]: column c + j of the 16 rows
      const int64_t n = k - c < 16 ? k - c : 16;
      for (int64_t j = 0; j < n; ++j) _mm512_store_si512(pack + (c + j) * kBf16PanelRows + 16 * h, out[j]);
    }
  }
}

// T tokens x the panel's 32 rows, all of k in registers.
template <int T>
inline void f32_panel_block(const float* pack, int64_t k, int64_t nr, const float* x, int64_t ldx, float* y,
                            int64_t ldy) {
  __m512 acc0[T], acc1[T];
#pragma GCC unroll 16
  for (int i = 0; i < T; ++i) acc0[i] = acc1[i] = _mm512_setzero_ps();
  const float* p = pack;
  for (int64_t c = 0; c < k; ++c, p += kBf16PanelRows) {
    const __m512 w0 = _mm512_load_ps(p), w1 = _mm512_load_ps(p + 16);
#pragma GCC unroll 16
    for (int i = 0; i < T; ++i) {
      const __m512 b = _mm512_set1_ps(x[i * ldx + c]);
      acc0[i] = _mm512_fmadd_ps(w0, b, acc0[i]);
      acc1[i] = _mm512_fmadd_ps(w1, b, acc1[i]);
    }
  }
  const __mmask16 m0 = tail_mask16(nr), m1 = nr > 16 ? tail_mask16(nr - 16) : __mmask16(0);
#pragma GCC unroll 16
  for (int i = 0; i < T; ++i) {
    _mm512_mask_storeu_ps(y + i * ldy, m0, acc0[i]);
    if (nr > 16) _mm512_mask_storeu_ps(y + i * ldy + 16, m1, acc1[i]);
  }
}

void f32_panel_rows(const float* pack, int64_t k, int64_t nr, const float* x, int64_t ldx, int64_t n_tokens, float* y,
                    int64_t ldy) {
  tiles_of_12(0, n_tokens, [&]<int T>(int64_t t) { f32_panel_block<T>(pack, k, nr, x + t * ldx, ldx, y + t * ldy, ldy); });
}

void bf16_panel_rows(const uint16_t* pack, int64_t k, int64_t nr, const uint16_t* x, int64_t ldx, int64_t n_tokens,
                     float* y, int64_t ldy, bool accumulate, const void* prefetch, int64_t prefetch_bytes) {
  const int64_t pairs = (k + 1) / 2;
  const char* pf = static_cast<const char*>(prefetch);
  const char* pf_end = pf ? pf + prefetch_bytes : pf;
  tiles_of_12(0, n_tokens, [&]<int T>(int64_t t) {
    bf16_panel_block<T>(pack, pairs, nr, x + t * ldx, ldx, y + t * ldy, ldy, accumulate, pf, pf_end);
  });
}

void bf16f32_permute_x(const float* x, int64_t n_tokens, int64_t cols, float* out) {
  const int64_t ld = bf16f32_x_stride(cols);
  const __m512i even = _mm512_set_epi32(30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0);
  const __m512i odd = _mm512_add_epi32(even, _mm512_set1_epi32(1));
  for (int64_t t = 0; t < n_tokens; ++t)
    for (int64_t k = 0; k < cols; k += 32) {
      const int64_t left = cols - k;
      const __m512 a = _mm512_maskz_loadu_ps(tail_mask16(left), x + t * cols + k);
      const __m512 b = left > 16 ? _mm512_maskz_loadu_ps(tail_mask16(left - 16), x + t * cols + k + 16)
                                 : _mm512_setzero_ps();
      _mm512_storeu_ps(out + t * ld + k, _mm512_permutex2var_ps(a, even, b));
      _mm512_storeu_ps(out + t * ld + k + 16, _mm512_permutex2var_ps(a, odd, b));
    }
}

void fp8_permute_x(const float* x, int64_t n_tokens, int64_t cols, float* out) {
  // Position 16j + i holds column 4i + j.
  permute_x_per_64(x, n_tokens, cols, fp8_x_stride(cols), out, [](int p) { return 4 * (p % 16) + p / 16; });
}

void to_bf16(const float* x, int64_t n, uint16_t* out) {
  for_steps<32>(n, [&]<bool Tail>(int64_t i) {
    const int64_t left = n - i;
    const __m512 a = load_ps<Tail>(tail_mask16(left), x + i);
    const __m512 b = !Tail ? _mm512_loadu_ps(x + i + 16)
                   : left > 16 ? _mm512_maskz_loadu_ps(tail_mask16(left - 16), x + i + 16)
                               : _mm512_setzero_ps();
    const __m512i packed = (__m512i)_mm512_cvtne2ps_pbh(b, a);
    if constexpr (Tail) _mm512_mask_storeu_epi16(out + i, tail_mask32(left), packed);
    else _mm512_storeu_si512(out + i, packed);
  });
}

void dequant_fp8_row(const uint8_t* src, const float* scale_row, int64_t cols, int64_t block_cols, float* out) {
  for (int64_t c0 = 0, b = 0; c0 < cols; c0 += block_cols, ++b) {
    const int64_t c1 = c0 + block_cols < cols ? c0 + block_cols : cols;
    const float s = scale_row[b];
    const float folded = s * kFp8Fold;
    if (!(folded - folded == 0.f)) {  // scale too large to fold (inf): plain path
      for (int64_t c = c0; c < c1; ++c) {
        const __m512 f = fp8_to_scaled_f32(_mm_cvtsi32_si128(src[c]));
        out[c] = _mm512_cvtss_f32(f) * kFp8Fold * s;
      }
      continue;
    }
    const __m512 vs = _mm512_set1_ps(folded);
    for (int64_t c = c0; c < c1; c += 16) {
      const __mmask16 m = tail_mask16(c1 - c);
      _mm512_mask_storeu_ps(out + c, m, _mm512_mul_ps(fp8_to_scaled_f32(_mm_maskz_loadu_epi8(m, src + c)), vs));
    }
  }
}

void bf16_left_multiply(const uint16_t* w, int64_t cols, int64_t r0, int64_t n_rows, const float* x, int64_t ldx,
                        int64_t n_tokens, float* y, int64_t ldy) {
  left_multiply(Bf16Source{w, cols, r0}, cols, n_rows, x, ldx, n_tokens, y, ldy);
}

void dequant_bf16_row(const uint16_t* src, int64_t cols, float* out) {
  for (int64_t c = 0; c < cols; c += 16) {
    const __mmask16 m = tail_mask16(cols - c);
    const __m512i v = _mm512_cvtepu16_epi32(_mm256_maskz_loadu_epi16(m, src + c));
    _mm512_mask_storeu_ps(out + c, m, _mm512_castsi512_ps(_mm512_slli_epi32(v, 16)));
  }
}

}  // namespace dsinfer::cpu::avx512

#pragma GCC diagnostic pop
#pragma GCC pop_options
