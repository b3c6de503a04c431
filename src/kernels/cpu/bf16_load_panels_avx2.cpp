// The AVX2 body of the bf16 panels (bf16_load_panels.h), compiled for AVX2 and
// FMA through a target pragma placed after every standard header.
#include <immintrin.h>

#include <algorithm>
#include <cstdint>
#include <vector>

#include "kernels/cpu/bf16_load_panels.h"

#pragma GCC push_options
#pragma GCC target("avx2,fma")

namespace dsinfer::cpu::avx2 {
namespace {

constexpr int64_t kStride = kPanel16Rows;  // uint16 per k in a panel

// Columns per k-block: a block of a panel (32 KB) and of 32 tokens'
// activations (128 KB) stay in L2 while every token tile passes, with room
// for the next block coming in.
constexpr int64_t kBlockCols = 1024;

// P consecutive panels x T tokens over columns [k0, k1): 2 P T accumulators
// (the FMA latency is covered from 8 of them, P T >= 4, up), started from
// zero at column 0 and otherwise from carry ([P][T][16], the chain so far),
// left in carry. While it runs, one cache line of pf_bytes at pf is fetched
// per equal share of the columns (the block the next tiles read).
template <int P, int T>
inline void panel_tile(const uint16_t* panels, int64_t cols, int64_t p0, int64_t k0, int64_t k1, const float* xt,
                       float* carry, const char* pf, int64_t pf_bytes) {
  __m256 acc[P][T][2];
#pragma GCC unroll 8
  for (int p = 0; p < P; ++p)
#pragma GCC unroll 8
    for (int i = 0; i < T; ++i)
#pragma GCC unroll 2
      for (int h = 0; h < 2; ++h)
        acc[p][i][h] = k0 == 0 ? _mm256_setzero_ps() : _mm256_loadu_ps(carry + (p * T + i) * kStride + 8 * h);
  const __m256i high_halves = _mm256_set1_epi32(static_cast<int>(0xFFFF0000u));
  const uint16_t* base = panels + p0 * cols * kStride;
  const int64_t pf_lines = pf ? pf_bytes / 64 : 0, n = k1 - k0;
  int64_t line = 0;
  for (int64_t k = k0; k < k1; ++k) {
    __m256 lo[P], hi[P];
#pragma GCC unroll 8
    for (int p = 0; p < P; ++p) {
      const __m256i v = _mm256_load_si256(reinterpret_cast<const __m256i*>(base + (p * cols + k) * kStride));
      lo[p] = _mm256_castsi256_ps(_mm256_slli_epi32(v, 16));          // rows 0-7
      hi[p] = _mm256_castsi256_ps(_mm256_and_si256(v, high_halves));  // rows 8-15
    }
#pragma GCC unroll 8
    for (int i = 0; i < T; ++i) {
      const __m256 b = _mm256_broadcast_ss(xt + i * cols + k);
#pragma GCC unroll 8
      for (int p = 0; p < P; ++p) {
        acc[p][i][0] = _mm256_fmadd_ps(lo[p], b, acc[p][i][0]);
        acc[p][i][1] = _mm256_fmadd_ps(hi[p], b, acc[p][i][1]);
      }
    }
    if (line * n < (k - k0 + 1) * pf_lines) _mm_prefetch(pf + 64 * line++, _MM_HINT_T0);
  }
#pragma GCC unroll 8
  for (int p = 0; p < P; ++p)
#pragma GCC unroll 8
    for (int i = 0; i < T; ++i)
#pragma GCC unroll 2
      for (int h = 0; h < 2; ++h) _mm256_storeu_ps(carry + (p * T + i) * kStride + 8 * h, acc[p][i][h]);
}

template <int P>
inline void tokens_of(int64_t width, const uint16_t* panels, int64_t cols, int64_t p, int64_t k0, int64_t k1,
                      const float* xt, float* carry, const char* pf, int64_t pf_bytes) {
  switch (width) {
    case 1: return panel_tile<P, 1>(panels, cols, p, k0, k1, xt, carry, pf, pf_bytes);
    case 2: return panel_tile<P, 2>(panels, cols, p, k0, k1, xt, carry, pf, pf_bytes);
    case 3: return panel_tile<P, 3>(panels, cols, p, k0, k1, xt, carry, pf, pf_bytes);
    case 4: return panel_tile<P, 4>(panels, cols, p, k0, k1, xt, carry, pf, pf_bytes);
    case 5: return panel_tile<P, 5>(panels, cols, p, k0, k1, xt, carry, pf, pf_bytes);
    default: return panel_tile<P, 6>(panels, cols, p, k0, k1, xt, carry, pf, pf_bytes);
  }
}

// Rows of panels [p, p + P) from carry ([P][n][16]) into y, those in [r0, r1).
void store_rows(int P, int64_t p, int64_t n, const float* carry, int64_t t0, float* y, int64_t ldy, int64_t r0,
                int64_t r1, int64_t out_row0) {
  for (int q = 0; q < P; ++q) {
    const int64_t first = (p + q) * kPanel16Rows, j0 = std::max<int64_t>(0, r0 - first),
                  j1 = std::min<int64_t>(kPanel16Rows, r1 - first);
    for (int64_t i = 0; i < n; ++i) {
      const float* c = carry + (q * n + i) * kStride;
      float* yt = y + (t0 + i) * ldy + first - out_row0;
      for (int64_t j = j0; j < j1; ++j) yt[j] = c[j];
    }
  }
}

}  // namespace

void bf16_panel_rows(const uint16_t* panels, int64_t cols, int64_t r0, int64_t r1, const float* x, int64_t t0,
                     int64_t t1, float* y, int64_t ldy, int64_t out_row0) {
  const int64_t n = t1 - t0;
  if (n <= 0 || r1 <= r0) return;
  const int64_t p_begin = r0 / kPanel16Rows, p_end = (r1 + kPanel16Rows - 1) / kPanel16Rows;
  // One token: four panels at a time (8 chains); two tokens: two panels;
  // these stream from memory once, in one tile. More: one panel at a time,
  // the tokens in near-equal tiles of at most 6 (8 -> 4 + 4, not 6 + 2),
  // the block re-read from L2 per tile while the next one is fetched.
  const int group = n == 1 ? 4 : n == 2 ? 2 : 1;
  const int64_t n_tiles = (n + 5) / 6;
  thread_local std::vector<float> carry_store;
  carry_store.resize(static_cast<size_t>(group * n * kStride));
  float* carry = carry_store.data();
  const float* xt = x + t0 * cols;
  for (int64_t p = p_begin; p < p_end;) {
    const int P = p + group <= p_end ? group : 1;
    for (int64_t k0 = 0; k0 < cols; k0 += kBlockCols) {
      const int64_t k1 = std::min(cols, k0 + kBlockCols);
      if (P == 4) {
        panel_tile<4, 1>(panels, cols, p, k0, k1, xt, carry, nullptr, 0);
      } else if (P == 2) {
        panel_tile<2, 2>(panels, cols, p, k0, k1, xt, carry, nullptr, 0);
      } else {
        // The next block: this panel's, or the next panel's first.
        const bool more = k1 < cols;
        const int64_t np = more ? p : p + 1, nk = more ? k1 : 0;
        const char* next = np < p_end ? reinterpret_cast<const char*>(panels + (np * cols + nk) * kStride) : nullptr;
        const int64_t next_bytes = next ? std::min(kBlockCols, cols - nk) * kStride * 2 : 0;
        for (int64_t i = 0, t = 0; i < n_tiles; ++i) {
          const int64_t width = n / n_tiles + (i < n % n_tiles ? 1 : 0);
          const int64_t share = next_bytes / n_tiles / 64 * 64;
          tokens_of<1>(width, panels, cols, p, k0, k1, xt + t * cols, carry + t * kStride,
                       next ? next + i * share : nullptr, i + 1 == n_tiles ? next_bytes - i * share : share);
          t += width;
        }
      }
    }
    store_rows(P, p, n, carry, t0, y, ldy, r0, r1, out_row0);
    p += P;
  }
}

}  // namespace dsinfer::cpu::avx2

#pragma GCC pop_options
