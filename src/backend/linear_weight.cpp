#include "backend/linear_weight.h"

#include "io/numeric_formats.h"

namespace dsinfer {

void LinearWeight::dequant_row(int64_t r, float* out) const {
  switch (format) {
    case WeightFormat::F32: {
      const float* src = static_cast<const float*>(data) + r * cols;
      for (int64_t c = 0; c < cols; ++c) out[c] = src[c];
      break;
    }
    case WeightFormat::BF16: {
      const uint16_t* src = static_cast<const uint16_t*>(data) + r * cols;
      for (int64_t c = 0; c < cols; ++c) out[c] = bf16_to_float(src[c]);
      break;
    }
    case WeightFormat::Fp8Block: {
      const uint8_t* src = static_cast<const uint8_t*>(data) + r * cols;
      const float* lut = fp8_table().value.data();
      const float* srow = scale + (r / block_rows) * scale_cols();
      for (int64_t c0 = 0, b = 0; c0 < cols; c0 += block_cols, ++b) {
        const float s = srow[b];
        const int64_t c1 = c0 + block_cols < cols ? c0 + block_cols : cols;
        for (int64_t c = c0; c < c1; ++c) out[c] = lut[src[c]] * s;
      }
      break;
    }
    case WeightFormat::Int8Channel: {
      const int8_t* src = static_cast<const int8_t*>(data) + r * cols;
      const float s = scale[r];
      for (int64_t c = 0; c < cols; ++c) out[c] = static_cast<float>(src[c]) * s;
      break;
    }
  }
}

size_t LinearWeight::bytes() const {
  const size_t n = static_cast<size_t>(rows * cols);
  switch (format) {
    case WeightFormat::F32:
      return n * 4;
    case WeightFormat::BF16:
      return n * 2;
    case WeightFormat::Fp8Block:
      return n + static_cast<size_t>((rows + block_rows - 1) / block_rows * scale_cols()) * 4;
    case WeightFormat::Int8Channel:
      return n + static_cast<size_t>(rows) * 4;
  }
  return n;
}

}  // namespace dsinfer
