#pragma once
// The element arithmetic of the converter, reproducing the seed's PyTorch
// code bit for bit:
//  - FP8 dequantization: bf16(float32(fp8) * float32(scale_inv[i/br][j/bc])),
//    round to nearest even (DeepSeek's fp8_cast_bf16 / the seed's converter);
//  - W8A8 per-output-channel int8 on the bf16 weight W, where every
//    operation on bf16 tensors is a float32 operation rounded back to bf16:
//    scale = bf16(max|W_row| / 127), q = clamp(rint(bf16(W / scale)), -127, 127).
#include <cstdint>

namespace dsinfer::convert {

struct Fp8BlockWeight {
  const uint8_t* data = nullptr;      // F8_E4M3 [rows, cols]
  const float* scale_inv = nullptr;   // [ceil(rows/block_rows), ceil(cols/block_cols)]
  int64_t rows = 0, cols = 0;
  int64_t block_rows = 128, block_cols = 128;
};

// Row r of w, dequantized to bf16 bits (cols values).
void fp8_row_to_bf16(const Fp8BlockWeight& w, int64_t r, uint16_t* out);

// Quantizes one bf16 row to int8; returns the float32 value of its bf16
// scale. An all-zero row gets scale 0 and q = 0 (torch would produce 0/0).
float quantize_bf16_row_int8(const uint16_t* row, int64_t cols, int8_t* q);

// Whole tensors, rows split over `threads` OpenMP threads.
void fp8_to_bf16(const Fp8BlockWeight& w, uint16_t* out, int threads);
// out_q: int8 [rows, cols]; out_scale: float32 [rows].
void fp8_to_int8_channel(const Fp8BlockWeight& w, int8_t* out_q, float* out_scale, int threads);

}  // namespace dsinfer::convert
