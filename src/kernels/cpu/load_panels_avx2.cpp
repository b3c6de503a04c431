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
// FP8, 7+ tokens: columns per k-block (a row block's 8 widened panels, 128
// KB, and 192 tokens' scaled activations, 192 KB, stay in L2), and the
// tokens one pass takes (more run in groups).
constexpr int64_t kWidenedBlockCols = 256, kScaledTokens = 192;

// A format widens one k-column of a panel (16 rows) into rows 0-7 and 8-15.
// kScaled: the products need the activations scaled by the row block's
// scales (scaled_activations), so a tile's panels lie in one row block.
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
// e4m3 s.eeee.mmm -> the float32 bits s.0000eeee.mmm0..0, exactly value *
// 2^-120 (a float32 subnormal for a subnormal code): a byte shuffle puts
// code j in the top byte of lane j, an arithmetic shift by 4 and a mask
// drop the sign copies. Three integer ops per 8 rows and no multiply (the
// fp16 route with the scale on the weights took twice the instructions):
// the block scale and 2^120 ride on the activations. For cores whose FMAs
// take subnormal operands at full rate (CpuFeatures::fast_subnormal_fma).
// Packed weights hold no NaN code (pack_load_panels checks).
struct Fp8ShiftPanels {
  using Elem = uint8_t;
  static constexpr bool kScaled = true;
  static constexpr int kOneTokenPanels = kFp8OneTokenPanels;
  static constexpr float kActivationScale = kFp8ActivationScale;
  static void widen(const Elem* p, __m256& lo, __m256& hi) {
    const __m256i v = _mm256_broadcastsi128_si256(_mm_load_si128(reinterpret_cast<const __m128i*>(p)));
    const __m256i rows_0_7 = _mm256_setr_epi8(-1, -1, -1, 0, -1, -1, -1, 1, -1, -1, -1, 2, -1, -1, -1, 3,  //
                                              -1, -1, -1, 4, -1, -1, -1, 5, -1, -1, -1, 6, -1, -1, -1, 7);
    const __m256i rows_8_15 = _mm256_setr_epi8(-1, -1, -1, 8, -1, -1, -1, 9, -1, -1, -1, 10, -1, -1, -1, 11,  //
                                               -1, -1, -1, 12, -1, -1, -1, 13, -1, -1, -1, 14, -1, -1, -1, 15);
    const __m256i keep = _mm256_set1_epi32(static_cast<int>(0x87FFFFFFu));
    lo = _mm256_castsi256_ps(_mm256_and_si256(_mm256_srai_epi32(_mm256_shuffle_epi8(v, rows_0_7), 4), keep));
    hi = _mm256_castsi256_ps(_mm256_and_si256(_mm256_srai_epi32(_mm256_shuffle_epi8(v, rows_8_15), 4), keep));
  }
};
// The same products where a subnormal operand costs a microcode assist
// (Intel: ~8 ns per FMA, 40x its rate): the fp16 image s.0eeee.mmm0000000 =
// value * 2^-8 (sign-extend, shift left 7, clear bit 14; an fp16 subnormal
// for a subnormal code), widened by vcvtph2ps to a normal float32, against
// activations times scale * 2^-48. Each product is the shift form's
// (value * 2^-120) * (x * scale * 2^64) times 2^112 * 2^-112, so the chain
// is bit for bit the same while |x * scale| >= 2^-78 (the activations stay
// normal floats).
struct Fp8HalfPanels {
  using Elem = uint8_t;
  static constexpr bool kScaled = true;
  static constexpr int kOneTokenPanels = kFp8OneTokenPanels;
  static constexpr float kActivationScale = kFp8ActivationScale * 0x1p-112f;
  static void widen(const Elem* p, __m256& lo, __m256& hi) {
    const __m256i h =
        _mm256_and_si256(_mm256_slli_epi16(_mm256_cvtepi8_epi16(_mm_load_si128(reinterpret_cast<const __m128i*>(p))), 7),
                         _mm256_set1_epi16(static_cast<short>(0xBFFF)));
    lo = _mm256_cvtph_ps(_mm256_castsi256_si128(h));
    hi = _mm256_cvtph_ps(_mm256_extracti128_si256(h, 1));
  }
};

// A block of FP8 panels widened once into an L1/L2 scratch for every token
// tile (the same float32 images, so the same products).
struct F32Panels {
  using Elem = float;
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
  // Panels [p, end) in one row block (every panel for bf16): the run one
  // copy of scaled activations serves.
  int64_t run_end(int64_t p, int64_t p_end) const {
    if (!F::kScaled) return p_end;
    const int64_t per_block = block_rows / kPanel16Rows;
    return std::min(p_end, (p / per_block + 1) * per_block);
  }
};

// Tokens' activations as a tile reads them: token i's column k at
// x[i * ld + k - k_base].
struct Activations {
  const float* x;
  int64_t ld, k_base;
  Activations token(int64_t t) const { return {x + t * ld, ld, k_base}; }
};

// FP8: tokens [0, n) of xt (stride cols), columns [k0, k1), times the block
// scales of panel p's row block times F's factor, into store ([n][k1 - k0]). With
// the images' scale the chains run in units of 2^-56 (load_panels.h).
template <class F>
Activations scaled_activations(const Panels<F>& w, int64_t p, const float* xt, int64_t n, int64_t k0, int64_t k1,
                               AlignedVector<float>& store) {
  const int64_t ld = k1 - k0;
  store.resize(static_cast<size_t>(n * ld));
  const float* srow = w.scale + (p * kPanel16Rows / w.block_rows) * w.scale_cols;
  for (int64_t kc = k0; kc < k1;) {
    const int64_t ke = std::min(k1, (kc / w.block_cols + 1) * w.block_cols);
    const float f = srow[kc / w.block_cols] * F::kActivationScale;
    for (int64_t i = 0; i < n; ++i) {
      const float* xi = xt + i * w.cols;
      float* out = store.data() + i * ld - k0;
      for (int64_t k = kc; k < ke; ++k) out[k] = xi[k] * f;
    }
    kc = ke;
  }
  return {store.data(), ld, k0};
}

// P consecutive panels x T tokens over columns [k0, k1): 2 P T accumulators
// (the FMA latency is covered from 8 of them, P T >= 4, up), started from
// zero at column 0 and otherwise from carry ([P][T][16], the chain so far),
// left in carry. While it runs, one cache line of pf_bytes at pf is fetched
// per equal share of the columns (the block the next tiles read).
template <int P, int T, class F>
inline void panel_tile(const Panels<F>& w, int64_t p0, int64_t k0, int64_t k1, const Activations& a, float* carry,
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
  const float* xk = a.x - a.k_base;
  const int64_t ld = a.ld, pf_lines = pf ? pf_bytes / 64 : 0, n = k1 - k0;
  int64_t line = 0;
  for (int64_t k = k0; k < k1; ++k) {
    __m256 lo[P], hi[P];
#pragma GCC unroll 8
    for (int p = 0; p < P; ++p) F::widen(base + (p * cols + k - k0) * kStride, lo[p], hi[p]);
#pragma GCC unroll 8
    for (int i = 0; i < T; ++i) {
      const __m256 b = _mm256_broadcast_ss(xk + i * ld + k);
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

template <class F>
inline void tokens_of(int64_t width, const Panels<F>& w, int64_t p, int64_t k0, int64_t k1, const Activations& a,
                      float* carry, const char* pf, int64_t pf_bytes) {
  switch (width) {
    case 1: return panel_tile<1, 1>(w, p, k0, k1, a, carry, pf, pf_bytes);
    case 2: return panel_tile<1, 2>(w, p, k0, k1, a, carry, pf, pf_bytes);
    case 3: return panel_tile<1, 3>(w, p, k0, k1, a, carry, pf, pf_bytes);
    case 4: return panel_tile<1, 4>(w, p, k0, k1, a, carry, pf, pf_bytes);
    case 5: return panel_tile<1, 5>(w, p, k0, k1, a, carry, pf, pf_bytes);
    default: return panel_tile<1, 6>(w, p, k0, k1, a, carry, pf, pf_bytes);
  }
}

// Panel p's columns [k0, k1) as the float32 images into out ([k][16]).
template <class F>
void widen_block(const Panels<F>& w, int64_t p, int64_t k0, int64_t k1, float* out) {
  const typename F::Elem* base = w.base + p * w.cols * kStride;
  for (int64_t k = k0; k < k1; ++k) {
    __m256 lo, hi;
    F::widen(base + k * kStride, lo, hi);
    _mm256_store_ps(out + (k - k0) * kStride, lo);
    _mm256_store_ps(out + (k - k0) * kStride + 8, hi);
  }
}

// Rows of panels [p, p + P) from carry ([P][n][16]) times unit into y, those
// in [r0, r1) (unit: 1, or 2^56 for FP8's chains, exact).
void store_rows(int P, int64_t p, int64_t n, const float* carry, float unit, int64_t t0, float* y, int64_t ldy,
                int64_t r0, int64_t r1, int64_t out_row0) {
  for (int q = 0; q < P; ++q) {
    const int64_t first = (p + q) * kPanel16Rows, j0 = std::max<int64_t>(0, r0 - first),
                  j1 = std::min<int64_t>(kPanel16Rows, r1 - first);
    for (int64_t i = 0; i < n; ++i) {
      const float* c = carry + (q * n + i) * kStride;
      float* yt = y + (t0 + i) * ldy + first - out_row0;
      for (int64_t j = j0; j < j1; ++j) yt[j] = c[j] * unit;
    }
  }
}

template <class F>
void panel_rows(const Panels<F>& w, int64_t r0, int64_t r1, const float* x, int64_t t0, int64_t t1, float* y,
                int64_t ldy, int64_t out_row0) {
  const int64_t n = t1 - t0, cols = w.cols;
  if (n <= 0 || r1 <= r0) return;
  if (F::kScaled && n > kScaledTokens) {
    // Near-equal groups (the row kernel's token blocks are no larger).
    const int64_t groups = (n + kScaledTokens - 1) / kScaledTokens;
    for (int64_t g = 0, t = t0; g < groups; ++g) {
      const int64_t width = n / groups + (g < n % groups ? 1 : 0);
      panel_rows(w, r0, r1, x, t, t + width, y, ldy, out_row0);
      t += width;
    }
    return;
  }
  const int64_t p_begin = r0 / kPanel16Rows, p_end = (r1 + kPanel16Rows - 1) / kPanel16Rows;
  const float unit = F::kScaled ? kFp8ChainUnit : 1.f;
  thread_local std::vector<float> carry_store;
  thread_local AlignedVector<float> xs_store;
  const float* xt = x + t0 * cols;
  // The activations for panels [p, run_end): as given, or FP8's scaled copy
  // for the row block of p, columns [k0, k1).
  auto activations = [&](int64_t p, int64_t k0, int64_t k1) -> Activations {
    if constexpr (F::kScaled) return scaled_activations(w, p, xt, n, k0, k1, xs_store);
    else return {xt, cols, 0};
  };
  // One token: kOneTokenPanels panels at a time; two tokens:
  // two panels; each group streams from memory once, all of k, in one tile.
  if (n <= 2) {
    const int group = n == 1 ? F::kOneTokenPanels : 2;
    carry_store.resize(static_cast<size_t>(group * n * kStride));
    float* carry = carry_store.data();
    for (int64_t p = p_begin; p < p_end;) {
      const int64_t run = w.run_end(p, p_end);
      const Activations a = activations(p, 0, cols);
      while (p < run) {
        const int P = static_cast<int>(std::min<int64_t>(group, run - p));
        for (int64_t k0 = 0; k0 < cols; k0 += kBlockCols) {
          const int64_t k1 = std::min(cols, k0 + kBlockCols);
          if (n == 2) {
            if (P == 2) panel_tile<2, 2>(w, p, k0, k1, a, carry, nullptr, 0);
            else panel_tile<1, 2>(w, p, k0, k1, a, carry, nullptr, 0);
          } else if (P == 4) panel_tile<4, 1>(w, p, k0, k1, a, carry, nullptr, 0);
          else if (P == 3) panel_tile<3, 1>(w, p, k0, k1, a, carry, nullptr, 0);
          else if (P == 2) panel_tile<2, 1>(w, p, k0, k1, a, carry, nullptr, 0);
          else panel_tile<1, 1>(w, p, k0, k1, a, carry, nullptr, 0);
        }
        store_rows(P, p, n, carry, unit, t0, y, ldy, r0, r1, out_row0);
        p += P;
      }
    }
    return;
  }
  // More: k-block by k-block over all the panels, so the activations' block
  // (128 KB for 32 tokens) stays in L2 for every panel; per panel the tokens
  // in near-equal tiles of at most 6 (8 -> 4 + 4, not 6 + 2), its block
  // re-read from L1/L2 per tile while the next panel's block is fetched.
  // FP8 with 7+ tokens: the images of a row block's panels widened once per
  // (shorter) k-block into a scratch, beside the block's scaled activations.
  const int64_t n_tiles = (n + 5) / 6, n_panels = p_end - p_begin;
  const bool widened = F::kScaled && n_tiles > 1;
  const int64_t block_cols = widened ? kWidenedBlockCols : kBlockCols;
  carry_store.resize(static_cast<size_t>(n_panels * n * kStride));
  const auto elem = static_cast<int64_t>(sizeof(typename F::Elem));
  thread_local AlignedVector<float> scratch;
  if (widened)  // a run's panels: one row block's (8 for 128 rows)
    scratch.resize(static_cast<size_t>(std::min(n_panels, w.block_rows / kPanel16Rows + 1) * block_cols * kStride));
  // The tiles of panel p's block [k0, k1) from src's panel p_src, fetching
  // next_bytes at next (the block read after it) in shares.
  auto tiles = [&](const auto& src, int64_t p_src, int64_t p, int64_t k0, int64_t k1, const Activations& a,
                   const char* next, int64_t next_bytes) {
    float* carry = carry_store.data() + (p - p_begin) * n * kStride;
    const int64_t share = next_bytes / n_tiles / 64 * 64;
    for (int64_t i = 0, t = 0; i < n_tiles; ++i) {
      const int64_t width = n / n_tiles + (i < n % n_tiles ? 1 : 0);
      tokens_of(width, src, p_src, k0, k1, a.token(t), carry + t * kStride, next ? next + i * share : nullptr,
                i + 1 == n_tiles ? next_bytes - i * share : share);
      t += width;
    }
  };
  // Panel np's block from column nk, and its bytes (none past the columns).
  auto block_at = [&](int64_t np, int64_t nk, int64_t& bytes) -> const char* {
    bytes = nk < cols ? (std::min(cols, nk + block_cols) - nk) * kStride * elem : 0;
    return bytes ? reinterpret_cast<const char*>(w.base + (np * cols + nk) * kStride) : nullptr;
  };
  for (int64_t k0 = 0; k0 < cols; k0 += block_cols) {
    const int64_t k1 = std::min(cols, k0 + block_cols);
    for (int64_t p = p_begin; p < p_end;) {
      const int64_t run = w.run_end(p, p_end);
      const Activations a = activations(p, k0, k1);
      if (widened) {
        for (int64_t q = p; q < run; ++q) widen_block(w, q, k0, k1, scratch.data() + (q - p) * block_cols * kStride);
        // While the tiles run, the next run's panels (or the first run's
        // next k-block), panel for panel.
        const int64_t nr = run < p_end ? run : p_begin, nk = run < p_end ? k0 : k1, nr_end = w.run_end(nr, p_end);
        for (int64_t q = p; q < run; ++q) {
          int64_t next_bytes = 0;
          const char* next = nr + q - p < nr_end ? block_at(nr + q - p, nk, next_bytes) : nullptr;
          tiles(Panels<F32Panels>{scratch.data() + (q - p) * block_cols * kStride, cols, nullptr, 0, 1, 1, k0}, 0, q,
                k0, k1, a, next, next_bytes);
        }
        p = run;
        continue;
      }
      for (; p < run; ++p) {
        // The next block read: the next panel's, or the first panel's next.
        const bool last = p + 1 == p_end;
        int64_t next_bytes = 0;
        const char* next = block_at(last ? p_begin : p + 1, last ? k1 : k0, next_bytes);
        tiles(w, p, p, k0, k1, a, next, next_bytes);
      }
    }
  }
  for (int64_t p = p_begin; p < p_end; ++p)
    store_rows(1, p, n, carry_store.data() + (p - p_begin) * n * kStride, unit, t0, y, ldy, r0, r1, out_row0);
}

}  // namespace

void load_panel_rows(const LinearWeight& w, int64_t r0, int64_t r1, const float* x, int64_t t0, int64_t t1,
                     float* y, int64_t ldy, int64_t out_row0, Fp8Widening widening) {
  if (w.format == WeightFormat::BF16) {
    const Panels<Bf16Panels> p{static_cast<const uint16_t*>(w.packed.get()), w.cols, nullptr, 0, 1, 1};
    panel_rows(p, r0, r1, x, t0, t1, y, ldy, out_row0);
    return;
  }
  auto run = [&]<class F>(F) {
    const Panels<F> p{static_cast<const uint8_t*>(w.packed.get()), w.cols, w.scale, w.scale_cols(), w.block_rows,
                      w.block_cols};
    panel_rows(p, r0, r1, x, t0, t1, y, ldy, out_row0);
  };
  if (widening == Fp8Widening::kShift) run(Fp8ShiftPanels{});
  else run(Fp8HalfPanels{});
}

void load_panel_rows(const LinearWeight& w, int64_t r0, int64_t r1, const float* x, int64_t t0, int64_t t1,
                     float* y, int64_t ldy, int64_t out_row0) {
  load_panel_rows(w, r0, r1, x, t0, t1, y, ldy, out_row0, fp8_panel_widening());
}

}  // namespace dsinfer::cpu::avx2

#pragma GCC pop_options
