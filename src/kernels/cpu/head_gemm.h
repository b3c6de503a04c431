#pragma once
// Small GEMM shape used by latent (MLA) decode attention, where the 128 heads
// form the vector dimension: out[i][h] (+)= sum_j A(i, j) * B[j][h] for h in
// [0, hp), hp a multiple of 16, A(i, j) = a[i * a_row + j * a_col]. With
// alpha, out is first scaled per column (out[i][h] * alpha[h]): the running
// rescale of online softmax is fused into the accumulation.
#include <cstdint>

namespace dsinfer::cpu {

void head_gemm(int64_t m, int64_t k, const float* a, int64_t a_row, int64_t a_col, const float* b, int64_t hp,
               float* out, const float* alpha, bool accumulate);
// x[i] = exp(x[i]) (vectorized; relative error < 2e-7 where AVX-512 or AVX2 is present).
void exp_inplace(float* x, int64_t n);

namespace avx512 {
void head_gemm(int64_t m, int64_t k, const float* a, int64_t a_row, int64_t a_col, const float* b, int64_t hp,
               float* out, const float* alpha, bool accumulate);
void exp_inplace(float* x, int64_t n);
}  // namespace avx512

namespace avx2 {  // AVX2 + FMA, for CPUs without AVX-512
void head_gemm(int64_t m, int64_t k, const float* a, int64_t a_row, int64_t a_col, const float* b, int64_t hp,
               float* out, const float* alpha, bool accumulate);
void exp_inplace(float* x, int64_t n);
}  // namespace avx2

}  // namespace dsinfer::cpu
