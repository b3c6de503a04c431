#pragma once
// Plain float32 GEMM for attention blocks: C[i][j] (+)= sum_k A(i, k) * B[k][j]
// with A(i, k) = a[i * a_row + k * a_col] (any strides, so a transposed A
// needs no copy), B row-major with leading dimension ldb, C with ldc.
// Single-threaded: callers parallelize over heads or blocks.
#include <cstdint>

namespace dsinfer::cpu {

void gemm_f32(int64_t m, int64_t n, int64_t k, const float* a, int64_t a_row, int64_t a_col, const float* b,
              int64_t ldb, float* c, int64_t ldc, bool accumulate);

namespace avx512 {
void gemm_f32(int64_t m, int64_t n, int64_t k, const float* a, int64_t a_row, int64_t a_col, const float* b,
              int64_t ldb, float* c, int64_t ldc, bool accumulate);
}  // namespace avx512

namespace avx2 {  // AVX2 + FMA, for CPUs without AVX-512
void gemm_f32(int64_t m, int64_t n, int64_t k, const float* a, int64_t a_row, int64_t a_col, const float* b,
              int64_t ldb, float* c, int64_t ldc, bool accumulate);
}  // namespace avx2

}  // namespace dsinfer::cpu
