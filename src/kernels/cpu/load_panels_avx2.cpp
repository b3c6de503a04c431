// The AVX2 body of the panels packed at load (load_panels.h), compiled for
// AVX2, FMA and F16C through a target pragma placed after every standard
// header.
#include <immintrin.h>

#include <algorithm>
#include <cstdint>
#include <vector>

#include "kernels/cpu/aligned_buffer.h"
#include "kernels/cpu/load_panels.h"

#pragma GCC push_options
#pragma GCC target("avx2,fma,f16c")

namespace dsinfer::cpu::avx2 {
namespace {

constexpr int64_t kStride = kPanel16Rows;  // elements per k in a panel

// Columns per k-block: a block of a panel (16-32 KB) and of 32 tokens'
// activations (128 KB) stay in L2 while every token tile passes, with room
// for the next block coming in.
constexpr int64_t kBlockCols = 1024;

// A format widens one k-column of a panel (16 rows) into rows 0-7 and 8-15.
struct Bf16Panels {
  using Elem = uint16_t;
  static constexpr bool kScaled = false;
  static constexpr int kOneTokenPanels = kBf16OneTokenPanels;
  static void widen(const Elem* p, __m256& lo, __m256& hi) {
    const __m256i v = _mm256_load_si256(reinterpret_cast<const __m256i*>(p));
    lo = _mm256_castsi256_ps(_mm256_slli_epi32(v, 16));
    hi = _mm256_castsi256_ps(_mm256_and_si256(v, _mm256_set1_epi32(static_cast<int>(0xFFFF0000u))));
  }
};
// e4m3 s.eeee.mmm -> its fp16 image s.0eeee.mmm0000000 = value * 2^-8,
// subnormals included (sign-extend, shift left 7, clear bit 14), widened by
// vcvtph2ps; the scale times 2^8 undoes the 2^-8, so w = value * scale
// rounded once, as the scalar dequantization. Packed weights hold no NaN
// code (pack_load_panels checks), so no fix-up for them.
struct Fp8Panels {
  using Elem = uint8_t;
  static constexpr bool kScaled = true;
  static constexpr int kOneTokenPanels = kFp8OneTokenPanels;
  static void widen(const Elem* p, __m256& lo, __m256& hi) {
    const __m256i h =
        _mm256_and_si256(_mm256_slli_epi16(_mm256_cvtepi8_epi16(_mm_load_si128(reinterpret_cast<const __m128i*>(p))), 7),
                         _mm256_set1_epi16(static_cast<short>(0xBFFF)));
    lo = _mm256_cvtph_ps(_mm256_castsi256_si128(h));
    hi = _mm256_cvtph_ps(_mm256_extracti128_si256(h, 1));
  }
};

// A block of FP8 panels widened and scaled once into an L1/L2 scratch for
// every token tile (the e4m3 widening costs about as much as the tile's
// FMAs; bf16's one shift and one mask do not).
struct F32Panels {
  using Elem = float;
  static constexpr bool kScaled = false;
  static void widen(const Elem* p, __m256& lo, __m256& hi) {
    lo = _mm256_load_ps(p);
    hi = _mm256_load_ps(p + 8);
  }
};

template <class F>
struct Panels {
  const typename F::Elem* base;
  int64_t cols;
  const float* scale;  // FP8: [row blocks][scale_cols]
  int64_t scale_cols, block_rows, block_cols;
  int64_t k_base = 0;  // column of base's first k: a scratch block's k0 (panel 0 only)
  // The block scale times 2^8 (see Fp8Panels) for panel p at column k.
  float scale_at(int64_t p, int64_t k) const {
    return scale[(p * kPanel16Rows / block_rows) * scale_cols + k / block_cols] * 256.f;
  }
};

// P consecutive panels x T tokens over columns [k0, k1): 2 P T accumulators
// (the FMA latency is covered from 8 of them, P T >= 4, up), started from
// zero at column 0 and otherwise from carry ([P][T][16], the chain so far),
// left in carry. While it runs, one cache line of pf_bytes at pf is fetched
// per equal share of the columns (the block the next tiles read).
template <int P, int T, class F>
inline void panel_tile(const Panels<F>& w, int64_t p0, int64_t k0, int64_t k1, const float* xt, float* carry,
                       const char* pf, int64_t pf_bytes) {
  const int64_t cols = w.cols;
  __m256 acc[P][T][2];
#pragma GCC unroll 8
  for (int p = 0; p < P; ++p)
#pragma GCC unroll 8
    for (int i = 0; i < T; ++i)
#pragma GCC unroll 2
      for (int h = 0; h < 2; ++h)
        acc[p][i][h] = k0 == 0 ? _mm256_setzero_ps() : _mm256_loadu_ps(carry + (p * T + i) * kStride + 8 * h);
  // Column k of panel p0 + p at base[(p * cols + k - k0) * kStride].
  const typename F::Elem* base = w.base + (p0 * cols + k0 - w.k_base) * kStride;
  const int64_t pf_lines = pf ? pf_bytes / 64 : 0, n = k1 - k0;
  int64_t line = 0;
  // Scale blocks (one run for bf16).
  for (int64_t kc = k0; kc < k1;) {
    const int64_t ke = F::kScaled ? std::min(k1, (kc / w.block_cols + 1) * w.block_cols) : k1;
    __m256 sv[P];
    if constexpr (F::kScaled)
#pragma GCC unroll 8
      for (int p = 0; p < P; ++p) sv[p] = _mm256_set1_ps(w.scale_at(p0 + p, kc));
    for (int64_t k = kc; k < ke; ++k) {
      __m256 lo[P], hi[P];
#pragma GCC unroll 8
      for (int p = 0; p < P; ++p) {
        F::widen(base + (p * cols + k - k0) * kStride, lo[p], hi[p]);
        if constexpr (F::kScaled) {
          lo[p] = _mm256_mul_ps(lo[p], sv[p]);
          hi[p] = _mm256_mul_ps(hi[p], sv[p]);
        }
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
    kc = ke;
  }
#pragma GCC unroll 8
  for (int p = 0; p < P; ++p)
#pragma GCC unroll 8
    for (int i = 0; i < T; ++i)
#pragma GCC unroll 2
      for (int h = 0; h < 2; ++h) _mm256_storeu_ps(carry + (p * T + i) * kStride + 8 * h, acc[p][i][h]);
}

template <class F>
inline void tokens_of(int64_t width, const Panels<F>& w, int64_t p, int64_t k0, int64_t k1, const float* xt,
                      float* carry, const char* pf, int64_t pf_bytes) {
  switch (width) {
    case 1: return panel_tile<1, 1>(w, p, k0, k1, xt, carry, pf, pf_bytes);
    case 2: return panel_tile<1, 2>(w, p, k0, k1, xt, carry, pf, pf_bytes);
    case 3: return panel_tile<1, 3>(w, p, k0, k1, xt, carry, pf, pf_bytes);
    case 4: return panel_tile<1, 4>(w, p, k0, k1, xt, carry, pf, pf_bytes);
    case 5: return panel_tile<1, 5>(w, p, k0, k1, xt, carry, pf, pf_bytes);
    default: return panel_tile<1, 6>(w, p, k0, k1, xt, carry, pf, pf_bytes);
  }
}

// Panel p's columns [k0, k1) as float32 value * scale into out ([k][16]).
template <class F>
void widen_block(const Panels<F>& w, int64_t p, int64_t k0, int64_t k1, float* out) {
  const typename F::Elem* base = w.base + p * w.cols * kStride;
  for (int64_t kc = k0; kc < k1;) {
    const int64_t ke = std::min(k1, (kc / w.block_cols + 1) * w.block_cols);
    const __m256 sv = _mm256_set1_ps(w.scale_at(p, kc));
    for (int64_t k = kc; k < ke; ++k) {
      __m256 lo, hi;
      F::widen(base + k * kStride, lo, hi);
      _mm256_store_ps(out + (k - k0) * kStride, _mm256_mul_ps(lo, sv));
      _mm256_store_ps(out + (k - k0) * kStride + 8, _mm256_mul_ps(hi, sv));
    }
    kc = ke;
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

template <class F>
void panel_rows(const Panels<F>& w, int64_t r0, int64_t r1, const float* x, int64_t t0, int64_t t1, float* y,
                int64_t ldy, int64_t out_row0) {
  const int64_t n = t1 - t0, cols = w.cols;
  if (n <= 0 || r1 <= r0) return;
  const int64_t p_begin = r0 / kPanel16Rows, p_end = (r1 + kPanel16Rows - 1) / kPanel16Rows;
  thread_local std::vector<float> carry_store;
  const float* xt = x + t0 * cols;
  // One token: kOneTokenPanels panels at a time; two tokens:
  // two panels; each group streams from memory once, all of k, in one tile.
  if (n <= 2) {
    const int group = n == 1 ? F::kOneTokenPanels : 2;
    carry_store.resize(static_cast<size_t>(group * n * kStride));
    float* carry = carry_store.data();
    for (int64_t p = p_begin; p < p_end;) {
      const int P = p + group <= p_end ? group : 1;
      for (int64_t k0 = 0; k0 < cols; k0 += kBlockCols) {
        const int64_t k1 = std::min(cols, k0 + kBlockCols);
        if (P == 4) panel_tile<4, 1>(w, p, k0, k1, xt, carry, nullptr, 0);
        else if (P == 3) panel_tile<3, 1>(w, p, k0, k1, xt, carry, nullptr, 0);
        else if (P == 2) panel_tile<2, 2>(w, p, k0, k1, xt, carry, nullptr, 0);
        else tokens_of(n, w, p, k0, k1, xt, carry, nullptr, 0);
      }
      store_rows(P, p, n, carry, t0, y, ldy, r0, r1, out_row0);
      p += P;
    }
    return;
  }
  // More: k-block by k-block over all the panels, so the activations' block
  // (128 KB for 32 tokens) stays in L2 for every panel; per panel the tokens
  // in near-equal tiles of at most 6 (8 -> 4 + 4, not 6 + 2), its block
  // re-read from L1/L2 per tile while the next panel's block is fetched.
  const int64_t n_tiles = (n + 5) / 6, n_panels = p_end - p_begin;
  carry_store.resize(static_cast<size_t>(n_panels * n * kStride));
  const auto elem = static_cast<int64_t>(sizeof(typename F::Elem));
  thread_local AlignedVector<float> scratch;
  if (F::kScaled && n_tiles > 1) scratch.resize(static_cast<size_t>(kBlockCols * kStride));
  for (int64_t k0 = 0; k0 < cols; k0 += kBlockCols) {
    const int64_t k1 = std::min(cols, k0 + kBlockCols);
    for (int64_t p = p_begin; p < p_end; ++p) {
      float* carry = carry_store.data() + (p - p_begin) * n * kStride;
      // The next block read: the next panel's, or the first panel's next.
      const bool last = p + 1 == p_end;
      const int64_t np = last ? p_begin : p + 1, nk = last ? k1 : k0;
      const char* next = nk < cols ? reinterpret_cast<const char*>(w.base + (np * cols + nk) * kStride) : nullptr;
      const int64_t next_bytes = next ? (std::min(cols, nk + kBlockCols) - nk) * kStride * elem : 0;
      const int64_t share = next_bytes / n_tiles / 64 * 64;
      auto tiles = [&](const auto& src, int64_t p_src) {
        for (int64_t i = 0, t = 0; i < n_tiles; ++i) {
          const int64_t width = n / n_tiles + (i < n % n_tiles ? 1 : 0);
          tokens_of(width, src, p_src, k0, k1, xt + t * cols, carry + t * kStride, next ? next + i * share : nullptr,
                    i + 1 == n_tiles ? next_bytes - i * share : share);
          t += width;
        }
      };
      if constexpr (F::kScaled) {
        if (n_tiles > 1) {
          // The same products (value * scale rounded once), widened once.
          widen_block(w, p, k0, k1, scratch.data());
          tiles(Panels<F32Panels>{scratch.data(), cols, nullptr, 0, 1, 1, k0}, 0);
          continue;
        }
      }
      tiles(w, p);
    }
  }
  for (int64_t p = p_begin; p < p_end; ++p)
    store_rows(1, p, n, carry_store.data() + (p - p_begin) * n * kStride, t0, y, ldy, r0, r1, out_row0);
}

}  // namespace

void load_panel_rows(const LinearWeight& w, int64_t r0, int64_t r1, const float* x, int64_t t0, int64_t t1,
                     float* y, int64_t ldy, int64_t out_row0) {
  if (w.format == WeightFormat::BF16) {
    const Panels<Bf16Panels> p{static_cast<const uint16_t*>(w.packed.get()), w.cols, nullptr, 0, 1, 1};
    panel_rows(p, r0, r1, x, t0, t1, y, ldy, out_row0);
    return;
  }
  const Panels<Fp8Panels> p{static_cast<const uint8_t*>(w.packed.get()), w.cols, w.scale, w.scale_cols(),
                            w.block_rows, w.block_cols};
  panel_rows(p, r0, r1, x, t0, t1, y, ldy, out_row0);
}

}  // namespace dsinfer::cpu::avx2

#pragma GCC pop_options
