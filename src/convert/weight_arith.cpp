#include "convert/weight_arith.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "io/numeric_formats.h"

namespace dsinfer::convert {

void fp8_row_to_bf16(const Fp8BlockWeight& w, int64_t r, uint16_t* out) {
  const float* lut = fp8_table().value.data();
  const uint8_t* src = w.data + r * w.cols;
  const int64_t scale_cols = (w.cols + w.block_cols - 1) / w.block_cols;
  const float* srow = w.scale_inv + (r / w.block_rows) * scale_cols;
  for (int64_t c0 = 0, b = 0; c0 < w.cols; c0 += w.block_cols, ++b) {
    const float s = srow[b];
    const int64_t c1 = std::min(c0 + w.block_cols, w.cols);
    for (int64_t c = c0; c < c1; ++c) out[c] = float_to_bf16(lut[src[c]] * s);
  }
}

float quantize_bf16_row_int8(const uint16_t* row, int64_t cols, int8_t* q) {
  // max|W| of bf16 values is exact in bf16; the division by 127 is float32, then rounded to bf16.
  float amax = 0.f;
  for (int64_t c = 0; c < cols; ++c) amax = std::max(amax, std::fabs(bf16_to_float(row[c])));
  const float scale = bf16_to_float(float_to_bf16(amax / 127.0f));
  if (scale == 0.f) {
    std::fill(q, q + cols, int8_t{0});
    return 0.f;
  }
  for (int64_t c = 0; c < cols; ++c) {
    // W / scale: float32 quotient rounded to bf16 before torch.round (half to even).
    const float ratio = bf16_to_float(float_to_bf16(bf16_to_float(row[c]) / scale));
    const float rounded = std::nearbyint(ratio);
    q[c] = static_cast<int8_t>(std::clamp(rounded, -127.f, 127.f));
  }
  return scale;
}

void fp8_to_bf16(const Fp8BlockWeight& w, uint16_t* out, int threads) {
#pragma omp parallel for schedule(dynamic, 16) num_threads(threads) if (w.rows * w.cols > (1 << 16))
  for (int64_t r = 0; r < w.rows; ++r) fp8_row_to_bf16(w, r, out + r * w.cols);
}

void fp8_to_int8_channel(const Fp8BlockWeight& w, int8_t* out_q, float* out_scale, int threads) {
#pragma omp parallel num_threads(threads) if (w.rows * w.cols > (1 << 16))
  {
    std::vector<uint16_t> row(static_cast<size_t>(w.cols));
#pragma omp for schedule(dynamic, 16)
    for (int64_t r = 0; r < w.rows; ++r) {
      fp8_row_to_bf16(w, r, row.data());
      out_scale[r] = quantize_bf16_row_int8(row.data(), w.cols, out_q + r * w.cols);
    }
  }
}

}  // namespace dsinfer::convert
