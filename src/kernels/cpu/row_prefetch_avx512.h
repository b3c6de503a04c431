#pragma once
// How the AVX-512 and AMX weight tiles fetch their rows ahead of the loads
// (int8, bf16 and FP8 dot tiles; AMX weight tiles). Include only after a
// `#pragma GCC target` with AVX-512 (as the other *_avx512.h headers).
#include <immintrin.h>

#include <cstdint>

#include "kernels/cpu/linear_avx512.h"

namespace dsinfer::cpu::avx512 {

// Rows [0, R) of w (row_bytes apart) fetched kRowAheadBytes past byte k,
// not past the row's end (the k-blocked tiles).
template <int R>
inline void prefetch_rows_ahead(const void* w, int64_t row_bytes, int64_t k) {
  if (k + kRowAheadBytes >= row_bytes) return;
  const char* p = static_cast<const char*>(w) + k + kRowAheadBytes;
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r) _mm_prefetch(p + r * row_bytes, _MM_HINT_T0);
}
// Tiles of R consecutive rows that are not k-blocked (int8, bf16, bf16 x
// float32 and FP8 dot tiles of 1 to ~8 tokens; AMX weight tiles with their
// own, shorter distance): each row's stream fetched `distance` ahead in the
// order it is read, along the row, then on into the same row of the next
// tile; rows no longer than the distance fetch the next tile's row at the
// same offset. Measured (2 threads from memory): one-token int8 / bf16 x
// float32 rows of 7-16 KB on the Xeon without AMX 83-110 % of the ceiling
// against 60-75 % when tiles fetched only the next tile's rows; 4-row tiles
// of 2-5 tokens, which fetched nothing, q_b_proj at 3 tokens int8 16.8 ->
// 22.0 GB/s, bf16 14.1 -> 24.2, bf16 x float32 16.6 -> 23.2.
template <int R>
inline void prefetch_stream_ahead(const void* w, int64_t row_bytes, int64_t k, int64_t distance = kRowAheadBytes) {
  const int64_t ahead = k + distance < row_bytes ? distance
                        : row_bytes > distance   ? (R - 1) * row_bytes + distance
                                                 : R * row_bytes;
  const char* p = static_cast<const char*>(w) + k + ahead;
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r) _mm_prefetch(p + r * row_bytes, _MM_HINT_T0);
}

// Strided tiles (one and two tokens: rows r + i S of a call's rows, i < R,
// each of the R streams along S consecutive rows): row i fetched
// kRowAheadBytes past byte k, on into the row after it (the next tile's).
// Rows `stride` bytes apart. Callers pick this or prefetch_stream_ahead in
// their own loop: one helper choosing between them read 5-20 % slower in the
// tiles (harness, 1-3 tokens), as a shared early-return helper once did.
template <int R>
inline void prefetch_strided_ahead(const void* w, int64_t stride, int64_t k) {
  const char* p = static_cast<const char*>(w) + k + kRowAheadBytes;
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r) _mm_prefetch(p + r * stride, _MM_HINT_T0);
}
// Strided tiles only where each stream gets this long (S rows of it): the
// FP8 value projection's 16-row calls of 512-byte rows ran 1.5x slower so.
inline constexpr int64_t kStridedMinStreamBytes = 16 * 1024;

}  // namespace dsinfer::cpu::avx512
