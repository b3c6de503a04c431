#pragma once
// A Linear layer's weight [rows = out_features, cols = in_features] as it is
// stored in the checkpoint (memory-mapped, never converted as a whole). Each
// backend implements the matrix products for every format listed here.
#include <cstdint>
#include <memory>
#include <string>

namespace dsinfer {

enum class WeightFormat : uint8_t {
  F32,
  BF16,
  Fp8Block,    // F8_E4M3 data + float32 scale per (block_rows x block_cols) tile
  Int8Channel  // int8 data + float32 scale per output row (W8A8)
};

struct LinearWeight {
  std::string name;  // tensor name, for messages
  WeightFormat format = WeightFormat::F32;
  int64_t rows = 0;
  int64_t cols = 0;
  const void* data = nullptr;     // row-major [rows, cols]
  const float* scale = nullptr;   // Fp8Block: [ceil(rows/br), ceil(cols/bc)]; Int8Channel: [rows]
  int64_t block_rows = 128;
  int64_t block_cols = 128;
  // BF16 weights only: inputs may be rounded to bf16 (ComputePrecision::BF16).
  bool bf16_inputs = false;
  // A backend's own copy of these values in its own layout, made once at
  // load (Ops::pack_weight), or null; data stays the checkpoint's view.
  std::shared_ptr<const void> packed;

  int64_t scale_cols() const { return (cols + block_cols - 1) / block_cols; }
  // Weight row r as float32 (exact dequantization: value * scale in fp32).
  void dequant_row(int64_t r, float* out) const;
  size_t bytes() const;  // bytes read by one full pass over the weight
};

}  // namespace dsinfer
