// AMX tiles (see amx_linear.h). Compiled for AMX + AVX-512 through a
// target pragma; as in linear_avx512.cpp no standard library template is
// included after it, so no AMX code can leak into shared inline functions.
#include "kernels/cpu/amx_linear.h"

#include <immintrin.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdint>

namespace dsinfer::cpu::amx {

bool request_tile_permission() {
#if defined(__x86_64__) && defined(SYS_arch_prctl)
  constexpr long kReqXcompPerm = 0x1023;  // ARCH_REQ_XCOMP_PERM
  constexpr long kXtileData = 18;         // XFEATURE_XTILEDATA
  return syscall(SYS_arch_prctl, kReqXcompPerm, kXtileData) == 0;
#else
  return false;
#endif
}

}  // namespace dsinfer::cpu::amx

#pragma GCC push_options
// GCC 12 warns inside its own AVX-512 intrinsics (undefined passthrough
// operands): a false positive, as in linear_avx512.cpp.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC target("avx2,fma,avx512f,avx512bw,avx512vl,avx512dq,amx-tile,amx-int8,amx-bf16")

#include "kernels/cpu/row_prefetch_avx512.h"
#include "kernels/cpu/transpose16_avx512.h"
#include "kernels/cpu/tail_masks_avx512.h"

namespace dsinfer::cpu::amx {
namespace {

// Palette 1. Every tile 16 rows; the weight tiles (tmm4-5) 64 bytes wide,
// the sums (tmm0-3: weight tile i x token tile j in tmm i + 2j) and token
// tiles (tmm6-7) 4 bytes per token: 16 tokens (64 bytes) for the general
// kernels, fewer for the narrow ones (few-token decode), whose token tile
// is then dense (pack_x_narrow; one token: the activation row itself, as
// k-group g's 4 bytes are bytes 4g..4g+3 of x).
struct alignas(64) TileConfig {
  uint8_t palette = 1, start_row = 0;
  uint8_t reserved[14] = {};
  uint16_t colsb[16] = {};
  uint8_t rows[16] = {};
};

// The configurations for 1..16 tokens, built once (in memory, for ldtilecfg).
struct TileConfigs {
  TileConfig by_tokens[kTileTokens + 1];
  TileConfigs() {
    for (int n = 1; n <= kTileTokens; ++n)
      for (int i = 0; i < 8; ++i) {
        by_tokens[n].colsb[i] = static_cast<uint16_t>(i == 4 || i == 5 ? kTileBytes : 4 * n);
        by_tokens[n].rows[i] = 16;
      }
  }
};

// Loads the thread's tile configuration when the token width changes
// (OpenMP threads live for the process; only these kernels use tiles; a
// switch is one ldtilecfg, a few per decode layer).
void configure_this_thread(int tokens = kTileTokens) {
  static const TileConfigs configs;
  static thread_local int current = 0;
  if (current == tokens) return;
  _tile_loadconfig(&configs.by_tokens[tokens]);
  current = tokens;
}

// Bytes ahead in each weight row's stream. Engine, R1 layer, interleaved
// builds: 512 took the bf16 one-token o_proj (32 KB rows) from ~78 % to
// ~90 % of the read ceiling; with 256 and the next tile's rows, 8 tokens
// lost 6-10 %.
constexpr int64_t kPrefetchAhead = 512;

// One 16-row weight tile (rows `row_bytes` apart, tmm4) x NB (1 or 2)
// 16-token tiles (b, the next 16 * row_bytes on; tmm6/7) over the whole row;
// sums (tmm0/1: int32 from int8, float32 from bf16 pairs) to out as
// [token tile][16 rows][16 tokens]. 16 rows at a time are 16 sequential
// streams, prefetched ahead; 32 rows (two weight tiles sharing a token tile)
// measured 55-75% of the read ceiling against 70-97% for 16, and without the
// prefetch 16 rows reach ~50%.
//
// Parts > 1 (bf16 only): the activations are Parts bf16 tensors whose sum is
// the float32 x (split_bf16x3), part p at b + p * part_bytes; each weight
// tile is loaded once for all parts, the parts' products summed in order.
//
// n < 16 (NB = 1; the tiles configured n tokens wide): one dense token tile
// of n tokens (pack_x_narrow), sums to out as [16 rows][n tokens].
template <bool Bf16, int NB, int Parts = 1>
inline void tile_block(const void* weights, int64_t row_bytes, const uint8_t* b, int64_t part_bytes, void* out,
                       int64_t n = kTileTokens) {
  const auto* w = static_cast<const uint8_t*>(weights);
  auto* o = static_cast<uint8_t*>(out);
  _tile_zero(0);
  if constexpr (NB > 1) _tile_zero(1);
  const uint8_t* b1 = b + kTileTokens * row_bytes;
  for (int64_t k = 0; k < row_bytes; k += kTileBytes) {
    const int64_t kb = k * n;  // this step's token tile: 16 k-groups x n tokens x 4 bytes
    avx512::prefetch_stream_ahead<kTileRows>(w, row_bytes, k, kPrefetchAhead);
    _tile_loadd(4, w + k, row_bytes);
#pragma GCC unroll 3
    for (int p = 0; p < Parts; ++p) {
      _tile_loadd(6, b + p * part_bytes + kb, 4 * n);
      if constexpr (Bf16) _tile_dpbf16ps(0, 4, 6);
      else _tile_dpbssd(0, 4, 6);
      if constexpr (NB > 1) {
        _tile_loadd(7, b1 + p * part_bytes + kb, 64);
        if constexpr (Bf16) _tile_dpbf16ps(1, 4, 7);
        else _tile_dpbssd(1, 4, 7);
      }
    }
  }
  _tile_stored(0, o, 4 * n);
  if constexpr (NB > 1) _tile_stored(1, o + 1024, 64);
}

// tmm0-3 += tmm4/5 x tmm6/7 (sum i + 2j = weight tile 4+i x token tile 6+j).
template <bool Bf16>
inline void products_2x2() {
  if constexpr (Bf16) {
    _tile_dpbf16ps(0, 4, 6);
    _tile_dpbf16ps(1, 5, 6);
    _tile_dpbf16ps(2, 4, 7);
    _tile_dpbf16ps(3, 5, 7);
  } else {
    _tile_dpbssd(0, 4, 6);
    _tile_dpbssd(1, 5, 6);
    _tile_dpbssd(2, 4, 7);
    _tile_dpbssd(3, 5, 7);
  }
}

// Two 16-row weight tiles (tmm4/5) x two 16-token tiles (tmm6/7), sums in
// tmm0-3 as [i + 2j][16 rows][16 tokens]: four products per four loads, for
// many tokens (prefill), where the weights come from L2 and one weight tile
// per two products would make L2 the limit. Parts as for tile_block.
template <bool Bf16, int Parts = 1>
inline void tile_block_2x2(const uint8_t* w, int64_t row_bytes, const uint8_t* b, int64_t part_bytes, void* out) {
  auto* o = static_cast<uint8_t*>(out);
  _tile_zero(0);
  _tile_zero(1);
  _tile_zero(2);
  _tile_zero(3);
  const uint8_t* w1 = w + kTileRows * row_bytes;
  const uint8_t* b1 = b + kTileTokens * row_bytes;
  for (int64_t k = 0; k < row_bytes; k += kTileBytes) {
    const int64_t kb = k / kTileBytes * 1024;
    _tile_loadd(4, w + k, row_bytes);
    _tile_loadd(5, w1 + k, row_bytes);
#pragma GCC unroll 3
    for (int p = 0; p < Parts; ++p) {
      _tile_loadd(6, b + p * part_bytes + kb, 64);
      _tile_loadd(7, b1 + p * part_bytes + kb, 64);
      products_2x2<Bf16>();
    }
  }
  _tile_stored(0, o, 64);
  _tile_stored(1, o + 1024, 64);
  _tile_stored(2, o + 2048, 64);
  _tile_stored(3, o + 3072, 64);
}

// Rows [r0, r1) x tokens [t0, t1) through tile_block; write(sums, r, t)
// takes one 16 x 16 tile of sums. Per 16-row weight tile two token tiles at
// a time: the weights are read once from memory for up to 32 tokens (decode
// batches), from L2 beyond. Parts and part_bytes as for tile_block.
template <bool Bf16, class Sum, int Parts = 1, class Write>
inline void tile_rows(const void* weights, int64_t row_bytes, int64_t r0, int64_t r1, const uint8_t* x_tiles,
                      int64_t t0, int64_t t1, Write&& write, int64_t part_bytes = 0) {
  configure_this_thread();
  alignas(64) Sum sums[1024];
  const auto* w = static_cast<const uint8_t*>(weights);
  int64_t r = r0;
  if (t1 - t0 > 2 * kTileTokens)  // prefill: 32 x 32 blocks, then the 16-row path for a row tail
    for (; r + 2 * kTileRows <= r1; r += 2 * kTileRows) {
      int64_t t = t0;
      for (; t + kTileTokens < t1; t += 2 * kTileTokens) {
        tile_block_2x2<Bf16, Parts>(w + r * row_bytes, row_bytes, x_tiles + t * row_bytes, part_bytes, sums);
        write(sums, r, t);
        write(sums + 256, r + kTileRows, t);
        write(sums + 512, r, t + kTileTokens);
        write(sums + 768, r + kTileRows, t + kTileTokens);
      }
      if (t < t1)
        for (int i = 0; i < 2; ++i) {
          tile_block<Bf16, 1, Parts>(w + (r + i * kTileRows) * row_bytes, row_bytes, x_tiles + t * row_bytes, part_bytes,
                                    sums);
          write(sums, r + i * kTileRows, t);
        }
    }
  for (; r < r1; r += kTileRows) {
    int64_t t = t0;
    for (; t + kTileTokens < t1; t += 2 * kTileTokens) {
      tile_block<Bf16, 2, Parts>(w + r * row_bytes, row_bytes, x_tiles + t * row_bytes, part_bytes, sums);
      write(sums, r, t);
      write(sums + 256, r, t + kTileTokens);
    }
    if (t < t1) {
      tile_block<Bf16, 1, Parts>(w + r * row_bytes, row_bytes, x_tiles + t * row_bytes, part_bytes, sums);
      write(sums, r, t);
    }
  }
}

// A tile of sums ([16 rows][16 tokens], 32-bit) as 16 vectors by token
// (out[n] = the 16 rows' sums of token n): contiguous output rows.
inline void transpose_sums(const void* sums, __m512i out[16]) {
  const auto* s = static_cast<const uint8_t*>(sums);
  __m512i in[16];
#pragma GCC unroll 16
  for (int m = 0; m < 16; ++m) in[m] = _mm512_load_si512(s + 64 * m);
  avx512::transpose16_epi32(in, out);
}

// Rows [r0, r1) (whole 16-row tiles) x n < 16 tokens from dense token
// tiles (pack_x_narrow) through tile_block, so the same products and order
// of sums per output as with 16; write(sums, r) takes sums [16 rows][n].
template <bool Bf16, class Sum, int Parts = 1, class Write>
inline void narrow_rows(const void* weights, int64_t row_bytes, int64_t r0, int64_t r1, const uint8_t* x, int n,
                        Write&& write, int64_t part_bytes = 0) {
  configure_this_thread(n);
  alignas(64) Sum sums[kTileRows * kTileTokens];
  const auto* w = static_cast<const uint8_t*>(weights);
  for (int64_t r = r0; r < r1; r += kTileRows) {
    tile_block<Bf16, 1, Parts>(w + r * row_bytes, row_bytes, x, part_bytes, sums, n);
    write(sums, r);
  }
}

}  // namespace

void pack_x_tiles(const void* x, int64_t n_tokens, int64_t row_bytes, uint8_t* out) {
  const auto* xb = static_cast<const uint8_t*>(x);
  for (int64_t t0 = 0; t0 < n_tokens; t0 += kTileTokens)
    for (int64_t k = 0; k < row_bytes; k += kTileBytes) {
      __m512i in[16], tr[16];
      for (int64_t n = 0; n < kTileTokens; ++n)
        in[n] = t0 + n < n_tokens ? _mm512_loadu_si512(xb + (t0 + n) * row_bytes + k) : _mm512_setzero_si512();
      avx512::transpose16_epi32(in, tr);
      uint8_t* dst = out + t0 * row_bytes + k / kTileBytes * 1024;
#pragma GCC unroll 16
      for (int g = 0; g < 16; ++g) _mm512_storeu_si512(dst + 64 * g, tr[g]);
    }
}

void pack_x_narrow(const void* x, int64_t n_tokens, int64_t row_bytes, uint8_t* out) {
  // Dword g of step j (64 bytes) of token t at out dword (16 j + g) n + t.
  const auto* in = static_cast<const uint32_t*>(x);
  auto* o = reinterpret_cast<uint32_t*>(out);
  const int64_t dwords = row_bytes / 4;
  for (int64_t d = 0; d < dwords; ++d)
    for (int64_t t = 0; t < n_tokens; ++t) o[d * n_tokens + t] = in[t * dwords + d];
}

void int8_rows_narrow(const int8_t* w, int64_t cols, int64_t r0, int64_t r1, const uint8_t* x, int64_t n_tokens,
                      const float* xs, const float* ws, float* y, int64_t ldy, int64_t out_row0) {
  const int n = static_cast<int>(n_tokens);
  narrow_rows<false, int32_t>(w, cols, r0, r1, x, n, [&](const int32_t* s, int64_t r) {
    for (int t = 0; t < n; ++t)  // avx512::int8_block's expression
      for (int64_t m = 0; m < kTileRows; ++m)
        y[t * ldy + (r + m - out_row0)] = static_cast<float>(s[m * n + t]) * xs[t] * ws[r + m];
  });
}

namespace {
template <int Parts>
void bf16_parts_rows_narrow(const uint16_t* w, int64_t cols, int64_t r0, int64_t r1, const uint8_t* x,
                            int64_t part_bytes, int64_t n_tokens, float* y, int64_t ldy, int64_t out_row0) {
  const int n = static_cast<int>(n_tokens);
  auto write = [&](const float* s, int64_t r) {
    for (int t = 0; t < n; ++t)
      for (int64_t m = 0; m < kTileRows; ++m) y[t * ldy + (r + m - out_row0)] = s[m * n + t];
  };
  narrow_rows<true, float, Parts>(w, cols * 2, r0, r1, x, n, write, part_bytes);
}
}  // namespace

void bf16_rows_narrow(const uint16_t* w, int64_t cols, int64_t r0, int64_t r1, const uint8_t* x, int64_t n_tokens,
                      float* y, int64_t ldy, int64_t out_row0) {
  bf16_parts_rows_narrow<1>(w, cols, r0, r1, x, 0, n_tokens, y, ldy, out_row0);
}

void bf16x3_rows_narrow(const uint16_t* w, int64_t cols, int64_t r0, int64_t r1, const uint8_t* x,
                        int64_t part_bytes, int64_t n_tokens, float* y, int64_t ldy, int64_t out_row0) {
  bf16_parts_rows_narrow<3>(w, cols, r0, r1, x, part_bytes, n_tokens, y, ldy, out_row0);
}

void int8_rows(const int8_t* w, int64_t cols, int64_t r0, int64_t r1, const uint8_t* x_tiles, int64_t t0, int64_t t1,
               const float* xs, const float* ws, float* y, int32_t* acc32, int64_t ldy, int64_t out_row0) {
  tile_rows<false, int32_t>(w, cols, r0, r1, x_tiles, t0, t1, [&](const int32_t* s, int64_t r, int64_t t) {
    // The same expression as avx512::int8_block; tokens at or past t1 are padding.
    __m512i by_token[16];
    transpose_sums(s, by_token);
    const int64_t nt = t1 - t < kTileTokens ? t1 - t : kTileTokens;
    const __m512 wsv = _mm512_loadu_ps(ws + r);
    for (int64_t n = 0; n < nt; ++n) {
      const int64_t o = (t + n) * ldy + (r - out_row0);
      if (y) {
        const __m512 a = _mm512_cvtepi32_ps(by_token[n]);
        _mm512_storeu_ps(y + o, _mm512_mul_ps(_mm512_mul_ps(a, _mm512_set1_ps(xs[t + n])), wsv));
      } else {
        _mm512_storeu_si512(acc32 + o, by_token[n]);
      }
    }
  });
}

namespace {
// The float32 sums of a bf16 tile_rows pass, to y by token.
template <int Parts>
void bf16_parts_rows(const uint16_t* w, int64_t cols, int64_t r0, int64_t r1, const uint8_t* x_tiles,
                     int64_t part_bytes, int64_t t0, int64_t t1, float* y, int64_t ldy, int64_t out_row0) {
  auto write = [&](const float* s, int64_t r, int64_t t) {
    __m512i by_token[16];
    transpose_sums(s, by_token);
    const int64_t nt = t1 - t < kTileTokens ? t1 - t : kTileTokens;
    for (int64_t n = 0; n < nt; ++n) _mm512_storeu_si512(y + (t + n) * ldy + (r - out_row0), by_token[n]);
  };
  tile_rows<true, float, Parts>(w, cols * 2, r0, r1, x_tiles, t0, t1, write, part_bytes);
}
}  // namespace

void bf16_rows(const uint16_t* w, int64_t cols, int64_t r0, int64_t r1, const uint8_t* x_tiles, int64_t t0,
               int64_t t1, float* y, int64_t ldy, int64_t out_row0) {
  bf16_parts_rows<1>(w, cols, r0, r1, x_tiles, 0, t0, t1, y, ldy, out_row0);
}

void bf16x3_rows(const uint16_t* w, int64_t cols, int64_t r0, int64_t r1, const uint8_t* x_tiles,
                 int64_t part_bytes, int64_t t0, int64_t t1, float* y, int64_t ldy, int64_t out_row0) {
  bf16_parts_rows<3>(w, cols, r0, r1, x_tiles, part_bytes, t0, t1, y, ldy, out_row0);
}

namespace {
// Round to nearest even on the bit pattern (finite inputs); bf16 in the low 16 bits.
inline __m512i round_to_bf16(__m512 v) {
  const __m512i u = _mm512_castps_si512(v);
  const __m512i odd = _mm512_and_si512(_mm512_srli_epi32(u, 16), _mm512_set1_epi32(1));
  return _mm512_srli_epi32(_mm512_add_epi32(u, _mm512_add_epi32(odd, _mm512_set1_epi32(0x7fff))), 16);
}
inline __m512 widen_bf16(__m512i b) { return _mm512_castsi512_ps(_mm512_slli_epi32(b, 16)); }
}  // namespace

void split_bf16x3(const float* x, int64_t n, uint16_t* hi, uint16_t* mid, uint16_t* lo) {
  for (int64_t i = 0; i < n; i += 16) {
    const __mmask16 k = avx512::tail_mask16(n - i);
    const __m512 v = _mm512_maskz_loadu_ps(k, x + i);
    const __m512i h = round_to_bf16(v);
    const __m512 r1 = _mm512_sub_ps(v, widen_bf16(h));
    const __m512i m = round_to_bf16(r1);
    const __m512i l = round_to_bf16(_mm512_sub_ps(r1, widen_bf16(m)));
    _mm512_mask_cvtepi32_storeu_epi16(hi + i, k, h);
    _mm512_mask_cvtepi32_storeu_epi16(mid + i, k, m);
    _mm512_mask_cvtepi32_storeu_epi16(lo + i, k, l);
  }
}

void pack_pairs(const uint16_t* v, int64_t ldv, int64_t k, int64_t n, uint16_t* out) {
  // Word i of the first output: row 2g's column i/2 (even i) or row 2g+1's.
  alignas(64) uint16_t lo[32], hi[32];
  for (int i = 0; i < 32; ++i) {
    lo[i] = static_cast<uint16_t>((i % 2 ? 32 : 0) + i / 2);
    hi[i] = static_cast<uint16_t>(lo[i] + 16);
  }
  const __m512i ilo = _mm512_load_si512(lo), ihi = _mm512_load_si512(hi);
  for (int64_t g = 0; g < k / 2; ++g) {
    const uint16_t* r0 = v + 2 * g * ldv;
    uint16_t* dst = out + g * 2 * n;
    for (int64_t c = 0; c < n; c += 32) {
      const __m512i a = _mm512_loadu_si512(r0 + c), b = _mm512_loadu_si512(r0 + ldv + c);
      _mm512_storeu_si512(dst + 2 * c, _mm512_permutex2var_epi16(a, ilo, b));
      _mm512_storeu_si512(dst + 2 * c + 32, _mm512_permutex2var_epi16(a, ihi, b));
    }
  }
}

void bf16_gemm_pairs(const uint16_t* a, int64_t lda, const uint16_t* b, int64_t ldb, float* c, int64_t ldc, int64_t m,
                     int64_t n, int64_t k, bool accumulate) {
  configure_this_thread();
  // k = 64 (the attention's position blocks): per pair of column tiles,
  // their four B tiles stay in tmm6/7 and tmm2/3 while every row tile's two
  // A tiles (tmm4/5, from L1: A is the small [heads][64] operand) pass by,
  // two independent chains in tmm0/1; B is read once per call, not once per
  // row tile. Each sum: A's first 32 k, then the second, as before.
  if (k == 64 && n % 32 == 0) {
    for (int64_t j = 0; j < n; j += 32) {
      _tile_loadd(6, b + 2 * j, ldb * 2);
      _tile_loadd(7, b + 16 * ldb + 2 * j, ldb * 2);
      _tile_loadd(2, b + 2 * (j + 16), ldb * 2);
      _tile_loadd(3, b + 16 * ldb + 2 * (j + 16), ldb * 2);
      for (int64_t i = 0; i < m; i += kTileRows) {
        float* c0 = c + i * ldc + j;
        _tile_loadd(4, a + i * lda, lda * 2);
        _tile_loadd(5, a + i * lda + 32, lda * 2);
        if (accumulate) {
          _tile_loadd(0, c0, ldc * 4);
          _tile_loadd(1, c0 + 16, ldc * 4);
        } else {
          _tile_zero(0);
          _tile_zero(1);
        }
        _tile_dpbf16ps(0, 4, 6);
        _tile_dpbf16ps(1, 4, 2);
        _tile_dpbf16ps(0, 5, 7);
        _tile_dpbf16ps(1, 5, 3);
        _tile_stored(0, c0, ldc * 4);
        _tile_stored(1, c0 + 16, ldc * 4);
      }
    }
    return;
  }
  // 2 x 2 tiles of c (rows and columns in pairs of 16) where they fit: each
  // A and B tile feeds two products instead of one; the order of every sum
  // (k from 0, 32 at a time) is the one-tile loop's below, so the same bits.
  int64_t i0 = 0;
  if (n % 32 == 0)
    for (; i0 + 2 * kTileRows <= m; i0 += 2 * kTileRows)
      for (int64_t j = 0; j < n; j += 32) {
        float* c0 = c + i0 * ldc + j;
        float* c1 = c0 + kTileRows * ldc;
        if (accumulate) {
          _tile_loadd(0, c0, ldc * 4);
          _tile_loadd(1, c1, ldc * 4);
          _tile_loadd(2, c0 + 16, ldc * 4);
          _tile_loadd(3, c1 + 16, ldc * 4);
        } else {
          _tile_zero(0);
          _tile_zero(1);
          _tile_zero(2);
          _tile_zero(3);
        }
        for (int64_t kk = 0; kk < k; kk += 32) {
          _tile_loadd(4, a + i0 * lda + kk, lda * 2);
          _tile_loadd(5, a + (i0 + kTileRows) * lda + kk, lda * 2);
          _tile_loadd(6, b + kk / 2 * ldb + 2 * j, ldb * 2);
          _tile_loadd(7, b + kk / 2 * ldb + 2 * (j + 16), ldb * 2);
          products_2x2<true>();
        }
        _tile_stored(0, c0, ldc * 4);
        _tile_stored(1, c1, ldc * 4);
        _tile_stored(2, c0 + 16, ldc * 4);
        _tile_stored(3, c1 + 16, ldc * 4);
      }
  for (int64_t i = i0; i < m; i += kTileRows)
    for (int64_t j = 0; j < n; j += 16) {
      float* cij = c + i * ldc + j;
      if (accumulate) _tile_loadd(0, cij, ldc * 4);
      else _tile_zero(0);
      for (int64_t kk = 0; kk < k; kk += 32) {
        _tile_loadd(4, a + i * lda + kk, lda * 2);
        _tile_loadd(6, b + kk / 2 * ldb + 2 * j, ldb * 2);
        _tile_dpbf16ps(0, 4, 6);
      }
      _tile_stored(0, cij, ldc * 4);
    }
}

namespace {
// iters x 4 independent tile products (tmm0-3 += tmm4/5 x tmm6/7) on
// operands loaded once; returns one lane of each sum.
template <bool Bf16>
float peak_tiles(int64_t iters) {
  configure_this_thread();
  alignas(64) uint8_t operand[1024];
  for (int i = 0; i < 1024; ++i) operand[i] = static_cast<uint8_t>(Bf16 ? (i % 2 ? 0x3f : 0x80) : i % 7);
  _tile_loadd(4, operand, 64);
  _tile_loadd(5, operand, 64);
  _tile_loadd(6, operand, 64);
  _tile_loadd(7, operand, 64);
  _tile_zero(0);
  _tile_zero(1);
  _tile_zero(2);
  _tile_zero(3);
  for (int64_t i = 0; i < iters; ++i) {
    products_2x2<Bf16>();
  }
  alignas(64) float out[4][256];
  _tile_stored(0, out[0], 64);
  _tile_stored(1, out[1], 64);
  _tile_stored(2, out[2], 64);
  _tile_stored(3, out[3], 64);
  return out[0][0] + out[1][17] + out[2][34] + out[3][255];
}
}  // namespace

float int8_peak_loop(int64_t iters) { return peak_tiles<false>(iters); }
float bf16_peak_loop(int64_t iters) { return peak_tiles<true>(iters); }

}  // namespace dsinfer::cpu::amx

#pragma GCC diagnostic pop
#pragma GCC pop_options
