// AVX2 register-tiled kernels (see linear_avx2.h). Compiled for AVX2, FMA
// and F16C through a target pragma placed after every standard header, so
// no AVX2 code can leak into inline functions other files share.
#include "kernels/cpu/linear_avx2.h"

#include <immintrin.h>

#include <cstdint>

#include "kernels/cpu/cpu_features.h"

#pragma GCC push_options
#pragma GCC target("avx2,fma,f16c")

namespace dsinfer::cpu::avx2 {
namespace {

inline int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }

// One fixed reduction order for every output (the batch invariance above).
inline float hsum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  return _mm_cvtss_f32(_mm_add_ss(s, _mm_movehdup_ps(s)));
}
inline int32_t hsum(__m256i v) {
  __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4E));
  return _mm_cvtsi128_si32(_mm_add_epi32(s, _mm_shuffle_epi32(s, 0xB1)));
}

// Runs tile.template operator()<T>(t) over tokens [t0, t1) in tiles of Tmax
// tokens, then one tile of the 1..Tmax-1 left.
template <int Tmax, class Tile>
inline void token_tiles(int64_t t0, int64_t t1, Tile&& tile) {
  int64_t t = t0;
  for (; t + Tmax <= t1; t += Tmax) tile.template operator()<Tmax>(t);
  if constexpr (Tmax > 1) {
    const int64_t left = t1 - t;
    if (left == 0) return;
    if constexpr (Tmax > 3) {
      if (left == 3) return tile.template operator()<3>(t);
    }
    if constexpr (Tmax > 2) {
      if (left == 2) return tile.template operator()<2>(t);
    }
    tile.template operator()<1>(t);
  }
}

// ---- int8 -------------------------------------------------------------------
// 32 products w * x summed in pairs, then in fours, into acc (int32 lanes).
// aw = |w| (vpabsb: -128 becomes 0x80, read as unsigned 128), x takes w's
// sign (vpsignb; x is in [-127, 127], so negating it is exact), so every
// pair sum |w| * sign(x, w) is at most 2 * 128 * 127 < 2^15.
inline __m256i int8_madd(__m256i acc, __m256i aw, __m256i wv, __m256i xv, __m256i ones16) {
  return _mm256_add_epi32(acc, _mm256_madd_epi16(_mm256_maddubs_epi16(aw, _mm256_sign_epi8(xv, wv)), ones16));
}

inline __m256i load256(const void* p) { return _mm256_loadu_si256(static_cast<const __m256i*>(p)); }

inline int32_t int8_tail(const int8_t* w, const int8_t* x, int64_t k0, int64_t cols) {
  int32_t s = 0;
  for (int64_t k = k0; k < cols; ++k) s += static_cast<int32_t>(w[k]) * static_cast<int32_t>(x[k]);
  return s;
}

// One row, one token, four independent sums over k (integers: their order
// does not change them): one sequential weight stream per thread, which AMD
// cores' prefetchers follow best (CpuFeatures::gemv_one_stream).
inline int32_t int8_row_dot(const int8_t* w, int64_t cols, const int8_t* x) {
  const __m256i ones16 = _mm256_set1_epi16(1);
  __m256i acc[4] = {_mm256_setzero_si256(), _mm256_setzero_si256(), _mm256_setzero_si256(), _mm256_setzero_si256()};
  int64_t k = 0;
  for (; k + 128 <= cols; k += 128)
#pragma GCC unroll 4
    for (int j = 0; j < 4; ++j) {
      const __m256i wv = load256(w + k + 32 * j);
      acc[j] = int8_madd(acc[j], _mm256_abs_epi8(wv), wv, load256(x + k + 32 * j), ones16);
    }
  for (; k + 32 <= cols; k += 32) {
    const __m256i wv = load256(w + k);
    acc[0] = int8_madd(acc[0], _mm256_abs_epi8(wv), wv, load256(x + k), ones16);
  }
  return hsum(_mm256_add_epi32(_mm256_add_epi32(acc[0], acc[1]), _mm256_add_epi32(acc[2], acc[3]))) +
         int8_tail(w, x, k, cols);
}

// Rows [r, r + R) x tokens [t, t + T): each weight vector is loaded once per
// tile and used for T tokens, each activation vector for R rows.
template <int R, int T>
inline void int8_tile(const int8_t* w, int64_t cols, const int8_t* x, int32_t out[R][T]) {
  const __m256i ones16 = _mm256_set1_epi16(1);
  __m256i acc[R][T];
#pragma GCC unroll 8
  for (int i = 0; i < R; ++i)
#pragma GCC unroll 8
    for (int t = 0; t < T; ++t) acc[i][t] = _mm256_setzero_si256();
  const int64_t whole = cols / 32 * 32;
  for (int64_t k = 0; k < whole; k += 32) {
    __m256i wv[R], aw[R];
#pragma GCC unroll 8
    for (int i = 0; i < R; ++i) {
      wv[i] = load256(w + i * cols + k);
      aw[i] = _mm256_abs_epi8(wv[i]);
    }
#pragma GCC unroll 8
    for (int t = 0; t < T; ++t) {
      const __m256i xv = load256(x + t * cols + k);
#pragma GCC unroll 8
      for (int i = 0; i < R; ++i) acc[i][t] = int8_madd(acc[i][t], aw[i], wv[i], xv, ones16);
    }
  }
#pragma GCC unroll 8
  for (int i = 0; i < R; ++i)
#pragma GCC unroll 8
    for (int t = 0; t < T; ++t) out[i][t] = hsum(acc[i][t]) + int8_tail(w + i * cols, x + t * cols, whole, cols);
}

struct Int8Out {
  const float *xs, *ws;
  float* y;
  int32_t* acc32;
  int64_t ldy, out_row0;
  void put(int32_t a, int64_t r, int64_t t) const {
    const int64_t o = t * ldy + (r - out_row0);
    if (y) y[o] = static_cast<float>(a) * xs[t] * ws[r];
    else acc32[o] = a;
  }
};

template <int R>
inline void int8_strip(const int8_t* w, int64_t cols, int64_t r, const int8_t* xq, int64_t t0, int64_t t1,
                       const Int8Out& o) {
  token_tiles<R == 1 ? 1 : 2>(t0, t1, [&]<int T>(int64_t t) {
    int32_t out[R][T];
    int8_tile<R, T>(w + r * cols, cols, xq + t * cols, out);
    for (int i = 0; i < R; ++i)
      for (int j = 0; j < T; ++j) o.put(out[i][j], r + i, t + j);
  });
}

// ---- float activations (FP8, bf16) --------------------------------------------
// A row format widens 16 consecutive weights into two float32 vectors and
// names its scale blocks (block columns wide; bf16: the whole row, scale 1).
struct Bf16Rows {
  const uint16_t* w;
  int64_t cols;
  static constexpr bool kScaled = false;
  int64_t block() const { return cols; }
  float block_scale(int64_t, int64_t) const { return 1.f; }
  static __m256 widen8(const uint16_t* p) {
    return _mm256_castsi256_ps(
        _mm256_slli_epi32(_mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))), 16));
  }
  void widen(int64_t r, int64_t k, __m256& lo, __m256& hi) const {
    lo = widen8(w + r * cols + k);
    hi = widen8(w + r * cols + k + 8);
  }
  float scalar(int64_t r, int64_t c) const {
    const uint32_t bits = static_cast<uint32_t>(w[r * cols + c]) << 16;
    float f;
    __builtin_memcpy(&f, &bits, 4);
    return f;
  }
};

// e4m3 s.eeee.mmm -> fp16 s.0eeee.mmm0000000 = value * 2^-8 (normals and
// subnormals alike): sign-extend to 16 bits, shift left 7 (the sign lands
// in bits 15 and 14), clear bit 14. The NaN codes (s.1111.111) would land
// on 1.875 * 2^0: they get an all-ones exponent (fp16 NaN), so a NaN in a
// checkpoint poisons its outputs as the scalar table does.
inline __m256i fp8_to_half16(__m128i bytes) {
  const __m256i h =
      _mm256_and_si256(_mm256_slli_epi16(_mm256_cvtepi8_epi16(bytes), 7), _mm256_set1_epi16(static_cast<short>(0xBFFF)));
  const __m256i nan = _mm256_cmpeq_epi16(_mm256_and_si256(h, _mm256_set1_epi16(0x7FFF)), _mm256_set1_epi16(0x3F80));
  return _mm256_or_si256(h, _mm256_and_si256(nan, _mm256_set1_epi16(0x7C00)));
}
inline float fp8_scalar_scaled(uint8_t b) {  // value * 2^-8, as the vectors
  if ((b & 0x7F) == 0x7F) return __builtin_nanf("");
  const auto h = static_cast<uint16_t>((static_cast<uint16_t>(static_cast<int16_t>(static_cast<int8_t>(b))) << 7) & 0xBFFF);
  return _cvtsh_ss(h);
}
constexpr float kFp8ScaleFactor = 256.f;  // undoes the 2^-8 of the fp16 images

struct Fp8Rows {
  const uint8_t* w;
  int64_t cols;
  const float* scale;
  int64_t scale_cols, block_rows, block_cols;
  static constexpr bool kScaled = true;
  int64_t block() const { return block_cols; }
  float block_scale(int64_t r, int64_t c0) const {
    return scale[(r / block_rows) * scale_cols + c0 / block_cols] * kFp8ScaleFactor;
  }
  void widen(int64_t r, int64_t k, __m256& lo, __m256& hi) const {
    const __m256i h = fp8_to_half16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(w + r * cols + k)));
    lo = _mm256_cvtph_ps(_mm256_castsi256_si128(h));
    hi = _mm256_cvtph_ps(_mm256_extracti128_si256(h, 1));
  }
  float scalar(int64_t r, int64_t c) const { return fp8_scalar_scaled(w[r * cols + c]) * block_scale(r, c); }
};

// out[i][t] = sum_k W[r + i, k] * x[t, k]: per 16 columns each row's two
// widened vectors meet every token's; the last cols % 16 columns one by one
// after the reduction. Scaled formats (FP8) sum each scale block into its
// own accumulators and add them times the block's scale at the block's end
// (acc = fma(block_sum, scale, acc)): two multiplies fewer per 16 weights
// than scaling every widened vector (harness, from memory: one token
// 0.84-0.98x the time, three 0.89x, eight 0.91x).
template <int R, int T, class F>
inline void float_tile(const F& f, int64_t r, const float* x, int64_t ldx, float out[R][T]) {
  __m256 acc[R][T];
#pragma GCC unroll 8
  for (int i = 0; i < R; ++i)
#pragma GCC unroll 8
    for (int t = 0; t < T; ++t) acc[i][t] = _mm256_setzero_ps();
  const int64_t whole = f.cols / 16 * 16;
  for (int64_t c0 = 0; c0 < whole; c0 += f.block()) {
    const int64_t c1 = min64(whole, c0 + f.block());
    __m256 bacc[R][T];
    if constexpr (F::kScaled) {
#pragma GCC unroll 8
      for (int i = 0; i < R; ++i)
#pragma GCC unroll 8
        for (int t = 0; t < T; ++t) bacc[i][t] = _mm256_setzero_ps();
    }
    auto& dst = F::kScaled ? bacc : acc;
    for (int64_t k = c0; k < c1; k += 16) {
#pragma GCC unroll 8
      for (int i = 0; i < R; ++i) {
        __m256 lo, hi;
        f.widen(r + i, k, lo, hi);
#pragma GCC unroll 8
        for (int t = 0; t < T; ++t) {
          dst[i][t] = _mm256_fmadd_ps(lo, _mm256_loadu_ps(x + t * ldx + k), dst[i][t]);
          dst[i][t] = _mm256_fmadd_ps(hi, _mm256_loadu_ps(x + t * ldx + k + 8), dst[i][t]);
        }
      }
    }
    if constexpr (F::kScaled)
#pragma GCC unroll 8
      for (int i = 0; i < R; ++i) {
        const __m256 sv = _mm256_set1_ps(f.block_scale(r + i, c0));
#pragma GCC unroll 8
        for (int t = 0; t < T; ++t) acc[i][t] = _mm256_fmadd_ps(bacc[i][t], sv, acc[i][t]);
      }
  }
#pragma GCC unroll 8
  for (int i = 0; i < R; ++i)
#pragma GCC unroll 8
    for (int t = 0; t < T; ++t) {
      float v = hsum(acc[i][t]);
      for (int64_t c = whole; c < f.cols; ++c) v += f.scalar(r + i, c) * x[t * ldx + c];
      out[i][t] = v;
    }
}

// Rows [r0, r1) x tokens [t0, t1): one token in 8-row tiles (8 independent
// FMA chains cover the FMA latency), more in 4-row x 3-token tiles (12
// accumulators, each widened weight used for 3 tokens), then single rows.
template <class F>
inline void float_rows(const F& f, int64_t r0, int64_t r1, const float* x, int64_t t0, int64_t t1, float* y,
                       int64_t ldy, int64_t out_row0) {
  auto strip = [&]<int R, int Tmax>(int64_t r) {
    token_tiles<Tmax>(t0, t1, [&]<int T>(int64_t t) {
      float out[R][T];
      float_tile<R, T>(f, r, x + t * f.cols, f.cols, out);
      for (int i = 0; i < R; ++i)
        for (int j = 0; j < T; ++j) y[(t + j) * ldy + (r + i - out_row0)] = out[i][j];
    });
  };
  int64_t r = r0;
  if (t1 - t0 == 1)
    for (; r + 8 <= r1; r += 8) strip.template operator()<8, 1>(r);
  for (; r + 4 <= r1; r += 4) strip.template operator()<4, 3>(r);
  for (; r < r1; ++r) strip.template operator()<1, 3>(r);
}

}  // namespace

void int8_rows(const int8_t* w, int64_t cols, int64_t r0, int64_t r1, const int8_t* xq, int64_t t0, int64_t t1,
               const float* xs, const float* ws, float* y, int32_t* acc32, int64_t ldy, int64_t out_row0) {
  const Int8Out o{xs, ws, y, acc32, ldy, out_row0};
  int64_t r = r0;
  if (t1 - t0 == 1 && cpu_features().gemv_one_stream) {
    for (; r < r1; ++r) o.put(int8_row_dot(w + r * cols, cols, xq + t0 * cols), r, t0);
    return;
  }
  for (; r + 4 <= r1; r += 4) int8_strip<4>(w, cols, r, xq, t0, t1, o);
  for (; r < r1; ++r) int8_strip<1>(w, cols, r, xq, t0, t1, o);
}

void fp8_rows(const uint8_t* w, int64_t cols, const float* scale, int64_t scale_cols, int64_t block_rows,
              int64_t block_cols, int64_t r0, int64_t r1, const float* x, int64_t t0, int64_t t1, float* y,
              int64_t ldy, int64_t out_row0) {
  float_rows(Fp8Rows{w, cols, scale, scale_cols, block_rows, block_cols}, r0, r1, x, t0, t1, y, ldy, out_row0);
}

void bf16f32_rows(const uint16_t* w, int64_t cols, int64_t r0, int64_t r1, const float* x, int64_t t0, int64_t t1,
                  float* y, int64_t ldy, int64_t out_row0) {
  float_rows(Bf16Rows{w, cols}, r0, r1, x, t0, t1, y, ldy, out_row0);
}

void quantize_int8(const float* x, int64_t n_tokens, int64_t cols, int8_t* q, float* scales) {
  const __m256 abs_mask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7FFFFFFF));
  for (int64_t t = 0; t < n_tokens; ++t) {
    const float* xt = x + t * cols;
    int8_t* qt = q + t * cols;
    __m256 m = _mm256_setzero_ps();
    int64_t c = 0;
    for (; c + 8 <= cols; c += 8) m = _mm256_max_ps(_mm256_and_ps(_mm256_loadu_ps(xt + c), abs_mask), m);  // a NaN keeps m, as std::max
    __m128 m4 = _mm_max_ps(_mm256_castps256_ps128(m), _mm256_extractf128_ps(m, 1));
    m4 = _mm_max_ps(m4, _mm_movehl_ps(m4, m4));
    float amax = _mm_cvtss_f32(_mm_max_ss(m4, _mm_movehdup_ps(m4)));
    for (; c < cols; ++c) {
      const float a = __builtin_fabsf(xt[c]);
      amax = a > amax ? a : amax;
    }
    const float scale = amax / 127.0f;
    scales[t] = scale;
    if (scale == 0.f) {
      for (c = 0; c < cols; ++c) qt[c] = 0;
      continue;
    }
    // q = clamp(nearbyint(x / scale)): the scalar path's division and
    // round-half-even (the default rounding mode), so the bits match.
    const __m256 sv = _mm256_set1_ps(scale), hi = _mm256_set1_ps(127.f), lo = _mm256_set1_ps(-127.f);
    c = 0;
    for (; c + 32 <= cols; c += 32) {
      __m256i v[4];
      for (int j = 0; j < 4; ++j) {
        const __m256 d = _mm256_round_ps(_mm256_div_ps(_mm256_loadu_ps(xt + c + 8 * j), sv),
                                         _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
        v[j] = _mm256_cvtps_epi32(_mm256_min_ps(_mm256_max_ps(d, lo), hi));  // NaN -> -127, as std::max/min
      }
      // packs work per 128-bit lane: the permute puts the 32 bytes back in order.
      const __m256i w16a = _mm256_packs_epi32(v[0], v[1]), w16b = _mm256_packs_epi32(v[2], v[3]);
      const __m256i b = _mm256_packs_epi16(w16a, w16b);
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(qt + c),
                          _mm256_permutevar8x32_epi32(b, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7)));
    }
    for (; c < cols; ++c) {
      float v = __builtin_nearbyintf(xt[c] / scale);
      v = -127.f < v ? v : -127.f;  // std::max(-127, v), then std::min(127, v)
      v = v < 127.f ? v : 127.f;
      qt[c] = static_cast<int8_t>(v);
    }
  }
}

void dequant_fp8_row(const uint8_t* src, const float* scale_row, int64_t cols, int64_t block_cols, float* out) {
  const Fp8Rows f{src, cols, scale_row, 0, 1, block_cols};
  const int64_t whole = cols / 16 * 16;
  for (int64_t c0 = 0; c0 < whole; c0 += block_cols) {  // one scale per block
    const __m256 sv = _mm256_set1_ps(f.block_scale(0, c0));
    for (int64_t k = c0; k < min64(whole, c0 + block_cols); k += 16) {
      __m256 lo, hi;
      f.widen(0, k, lo, hi);
      _mm256_storeu_ps(out + k, _mm256_mul_ps(lo, sv));
      _mm256_storeu_ps(out + k + 8, _mm256_mul_ps(hi, sv));
    }
  }
  for (int64_t c = whole; c < cols; ++c) out[c] = f.scalar(0, c);
}

void dequant_bf16_row(const uint16_t* src, int64_t cols, float* out) {
  int64_t c = 0;
  for (; c + 8 <= cols; c += 8) _mm256_storeu_ps(out + c, Bf16Rows::widen8(src + c));
  const Bf16Rows f{src, cols};
  for (; c < cols; ++c) out[c] = f.scalar(0, c);
}

}  // namespace dsinfer::cpu::avx2

#pragma GCC pop_options
