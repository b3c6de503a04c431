#pragma once
// CPU kernels behind the CPU backend (cpu_backend.cpp). Activations are float32 row-major
// [n_tokens, features]; weights stay in their stored format (LinearWeight).
#include <cstdint>

#include "backend/linear_weight.h"

namespace dsinfer::cpu {

// y[t, r] = sum_c x[t, c] * W[row_begin + r, c] for r in [0, n_rows).
// x: [n_tokens, W.cols]; y: [n_tokens, y_stride] (first n_rows columns written).
void linear_rows(const LinearWeight& w, int64_t row_begin, int64_t n_rows, const float* x, int64_t n_tokens,
                 float* y, int64_t y_stride);
// Row r of W as float32, bit-identical to LinearWeight::dequant_row (vectorized).
void dequant_row(const LinearWeight& w, int64_t r, float* out);
// y[t * ldy + c] = sum_d x[t * ldx + d] * W[row_begin + d, c] for d < n_rows,
// c < W.cols, reading W once and bit-identical to dequant_row + gemm_f32
// (one FMA chain over d from 0), on the calling thread. False (nothing
// written) where no such kernel exists for W's format or this CPU.
bool left_multiply_rows(const LinearWeight& w, int64_t row_begin, int64_t n_rows, const float* x, int64_t ldx,
                        int64_t n_tokens, float* y, int64_t ldy);
// y = x W^T over all rows: y [n_tokens, W.rows].
void linear(const LinearWeight& w, const float* x, int64_t n_tokens, float* y);
// As linear, at float32 accuracy whatever W.bf16_inputs says, for many
// tokens that never share a step with decode tokens (prefill's latent
// expansion): BF16 weights run on AMX as three bf16 parts of x
// (prepare_bf16x3_kernel), about 4x the float32 FMA rate; without AMX on
// AVX-512 as float32 panels (linear_bf16_f32_panels: broadcast FMAs, no
// per-row reductions; ~2x the dot-form tiles at 1024 tokens x K 512); other
// formats and CPUs as linear. A token's result does not depend on the others.
void linear_f32_accuracy(const LinearWeight& w, const float* x, int64_t n_tokens, float* y);

// out[t] = x[t] / rms(x[t]) * weight (weight given as bf16 or f32 via LinearWeight-like row).
void rms_norm(const float* x, const float* weight, int64_t n_tokens, int64_t dim, double eps, float* out);
// gate_up holds [gate | up] per token ([n_tokens, 2*dim]); out = silu(gate) * up.
void silu_mul(const float* gate, const float* up, int64_t n, float* out);
// In-place softmax of x[0..n).
void softmax_inplace(float* x, int64_t n);
float dot(const float* a, const float* b, int64_t n);
void axpy(float a, const float* x, float* y, int64_t n);  // y += a*x
void add_inplace(float* x, const float* y, int64_t n);    // x += y
void scale_inplace(float* x, int64_t n, float a);        // x *= a

}  // namespace dsinfer::cpu
