#pragma once
// A test LinearWeight with its own storage (bf16 bits, or FP8 codes and
// block scales) and the float32 value each product must see: the bf16
// value, or the e4m3 value times its block's scale rounded once.
#include <cstdint>
#include <vector>

#include "backend/linear_weight.h"
#include "io/numeric_formats.h"

namespace dsinfer::test {

struct StoredWeight {
  std::vector<uint16_t> bf16;
  std::vector<uint8_t> fp8;
  std::vector<float> scale;
  LinearWeight w;
  float value(int64_t r, int64_t c) const {
    const auto i = static_cast<size_t>(r * w.cols + c);
    if (w.format == WeightFormat::BF16) return bf16_to_float(bf16[i]);
    return fp8_table().value[fp8[i]] * scale[static_cast<size_t>(r / w.block_rows * w.scale_cols() + c / w.block_cols)];
  }
};

}  // namespace dsinfer::test
