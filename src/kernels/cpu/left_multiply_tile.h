#pragma once
// y[t][c] = sum_d x[t][d] * W[d][c] over a range of a weight's rows (x
// indexes W's rows: the MLA query absorption against W_UK), reading each
// weight byte once from memory, with no float32 copy of W. Every output is
// one FMA chain over d in order from 0 on the weight dequantized exactly as
// dequant_row does it: bit-identical to dequant_row + gemm_f32, so a token's
// result does not depend on which form its step took. A Source gives row d
// (src.row(d), once per row and chunk), whose load(c) returns the dequantized
// float32 vectors of columns [c, c + kCols) (kVectors of them, lane p of the
// group holding column c + Source::column(p)).
// Include only after a `#pragma GCC target` with AVX-512.
#include <immintrin.h>

#include <cstdint>

namespace dsinfer::cpu::avx512 {

inline constexpr int64_t kPrefetchRows = 16;  // rows ahead (a Source with prefetch_row)

// A Source's prefetch_row: the row's bytes toward L2.
inline void prefetch_row_bytes(const void* row, int64_t bytes) {
  const auto* p = static_cast<const char*>(row);
  for (int64_t b = 0; b < bytes; b += 64) _mm_prefetch(p + b, _MM_HINT_T1);
}

template <int V>
struct FloatVectors {
  __m512 v[V];
};

// Columns [c0, c0 + NG * kCols) for TB tokens: the accumulators stay in
// registers over all n_rows rows.
template <class Source, int TB, int NG>
inline void left_multiply_chunk(const Source& src, int64_t n_rows, const float* x, int64_t ldx, int64_t c0, float* y,
                                int64_t ldy) {
  constexpr int V = Source::kVectors;
  __m512 acc[TB][NG * V];
#pragma GCC unroll 4
  for (int t = 0; t < TB; ++t)
#pragma GCC unroll 16
    for (int v = 0; v < NG * V; ++v) acc[t][v] = _mm512_setzero_ps();
  for (int64_t d = 0; d < n_rows; ++d) {
    // Rows a few ahead toward L2 as a whole (later chunks of this range read
    // the rest of each row): one sequential stream per thread alone leaves
    // memory idle between a row's demand misses.
    if constexpr (requires { src.prefetch_row(d); })
      if (c0 == 0 && d + kPrefetchRows < n_rows) src.prefetch_row(d + kPrefetchRows);
    __m512 xb[TB];
#pragma GCC unroll 4
    for (int t = 0; t < TB; ++t) xb[t] = _mm512_set1_ps(x[t * ldx + d]);
    const auto row = src.row(d);
#pragma GCC unroll 8
    for (int j = 0; j < NG; ++j) {
      const FloatVectors<V> w = row.load(c0 + j * Source::kCols);
#pragma GCC unroll 4
      for (int v = 0; v < V; ++v)
#pragma GCC unroll 4
        for (int t = 0; t < TB; ++t) acc[t][j * V + v] = _mm512_fmadd_ps(xb[t], w.v[v], acc[t][j * V + v]);
    }
  }
  alignas(64) float lanes[Source::kCols];
  for (int t = 0; t < TB; ++t)
    for (int j = 0; j < NG; ++j) {
      for (int v = 0; v < V; ++v) _mm512_store_ps(lanes + 16 * v, acc[t][j * V + v]);
      float* out = y + t * ldy + c0 + j * Source::kCols;
      for (int p = 0; p < Source::kCols; ++p) out[Source::column(p)] = lanes[p];
    }
}

// All columns (cols % kCols == 0) for TB tokens, 16 accumulators at a time.
template <class Source, int TB>
inline void left_multiply_tokens(const Source& src, int64_t cols, int64_t n_rows, const float* x, int64_t ldx,
                                 float* y, int64_t ldy) {
  constexpr int kGroups = 16 / (TB * Source::kVectors) > 0 ? 16 / (TB * Source::kVectors) : 1;
  int64_t c0 = 0;
  for (; c0 + kGroups * Source::kCols <= cols; c0 += kGroups * Source::kCols)
    left_multiply_chunk<Source, TB, kGroups>(src, n_rows, x, ldx, c0, y, ldy);
  for (; c0 < cols; c0 += Source::kCols) left_multiply_chunk<Source, TB, 1>(src, n_rows, x, ldx, c0, y, ldy);
}

// Any token count, in blocks of up to 4 tokens.
template <class Source>
inline void left_multiply(const Source& src, int64_t cols, int64_t n_rows, const float* x, int64_t ldx,
                          int64_t n_tokens, float* y, int64_t ldy) {
  int64_t t = 0;
  for (; t + 4 <= n_tokens; t += 4) left_multiply_tokens<Source, 4>(src, cols, n_rows, x + t * ldx, ldx, y + t * ldy, ldy);
  switch (n_tokens - t) {
    case 3: left_multiply_tokens<Source, 3>(src, cols, n_rows, x + t * ldx, ldx, y + t * ldy, ldy); break;
    case 2: left_multiply_tokens<Source, 2>(src, cols, n_rows, x + t * ldx, ldx, y + t * ldy, ldy); break;
    case 1: left_multiply_tokens<Source, 1>(src, cols, n_rows, x + t * ldx, ldx, y + t * ldy, ldy); break;
    default: break;
  }
}

}  // namespace dsinfer::cpu::avx512
