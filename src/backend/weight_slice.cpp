#include "backend/weight_slice.h"

#include <algorithm>
#include <cstring>

#include "io/error.h"

namespace dsinfer {
namespace {

size_t element_bytes(WeightFormat f) {
  switch (f) {
    case WeightFormat::F32: return 4;
    case WeightFormat::BF16: return 2;
    case WeightFormat::Fp8Block:
    case WeightFormat::Int8Channel: return 1;
  }
  return 1;
}

uint8_t* add_buffer(WeightStore& store, size_t bytes) {
  store.emplace_back(bytes);
  return store.back().data();
}

void check_range(const LinearWeight& w, int64_t begin, int64_t end, int64_t limit, const char* what) {
  if (begin < 0 || end > limit || begin >= end)
    throw Error(w.name + ": " + what + " slice [" + std::to_string(begin) + ", " + std::to_string(end) +
                ") outside [0, " + std::to_string(limit) + ")");
}

// Rows [r0, r1) x columns [c0, c1) of w as exact float32.
LinearWeight dequantized(const LinearWeight& w, int64_t r0, int64_t r1, int64_t c0, int64_t c1, WeightStore& store) {
  LinearWeight out = w;
  out.format = WeightFormat::F32;
  out.rows = r1 - r0;
  out.cols = c1 - c0;
  out.scale = nullptr;
  out.bf16_inputs = false;
  auto* dst = reinterpret_cast<float*>(add_buffer(store, static_cast<size_t>(out.rows * out.cols) * 4));
  std::vector<float> row(static_cast<size_t>(w.cols));
  for (int64_t r = r0; r < r1; ++r) {
    w.dequant_row(r, row.data());
    std::copy(row.begin() + c0, row.begin() + c1, dst + (r - r0) * out.cols);
  }
  out.data = dst;
  return out;
}

}  // namespace

SliceRange even_part(int64_t total, int64_t parts, int64_t index) {
  const int64_t each = (total + parts - 1) / parts;
  return {std::min(total, index * each), std::min(total, (index + 1) * each)};
}

LinearWeight slice_rows(const LinearWeight& w, int64_t begin, int64_t end, WeightStore& store) {
  check_range(w, begin, end, w.rows, "row");
  if (begin == 0 && end == w.rows) return w;
  if (w.format == WeightFormat::Fp8Block && begin % w.block_rows != 0) return dequantized(w, begin, end, 0, w.cols, store);
  LinearWeight out = w;
  out.rows = end - begin;
  out.data = static_cast<const uint8_t*>(w.data) + static_cast<size_t>(begin * w.cols) * element_bytes(w.format);
  if (w.format == WeightFormat::Fp8Block) out.scale = w.scale + (begin / w.block_rows) * w.scale_cols();
  if (w.format == WeightFormat::Int8Channel) out.scale = w.scale + begin;
  return out;
}

LinearWeight slice_cols(const LinearWeight& w, int64_t begin, int64_t end, WeightStore& store) {
  check_range(w, begin, end, w.cols, "column");
  if (begin == 0 && end == w.cols) return w;
  if (w.format == WeightFormat::Fp8Block && begin % w.block_cols != 0) return dequantized(w, 0, w.rows, begin, end, store);
  LinearWeight out = w;
  out.cols = end - begin;
  const size_t eb = element_bytes(w.format);
  const size_t row_bytes = static_cast<size_t>(out.cols) * eb;
  uint8_t* dst = add_buffer(store, static_cast<size_t>(w.rows) * row_bytes);
  const auto* src = static_cast<const uint8_t*>(w.data);
  for (int64_t r = 0; r < w.rows; ++r)
    std::memcpy(dst + r * row_bytes, src + static_cast<size_t>(r * w.cols + begin) * eb, row_bytes);
  out.data = dst;
  if (w.format == WeightFormat::Fp8Block) {
    const int64_t b0 = begin / w.block_cols, scale_rows = (w.rows + w.block_rows - 1) / w.block_rows;
    const int64_t new_cols = out.scale_cols();
    auto* s = reinterpret_cast<float*>(add_buffer(store, static_cast<size_t>(scale_rows * new_cols) * 4));
    for (int64_t br = 0; br < scale_rows; ++br)
      for (int64_t b = 0; b < new_cols; ++b) s[br * new_cols + b] = w.scale[br * w.scale_cols() + b0 + b];
    out.scale = s;
  }
  return out;
}

}  // namespace dsinfer
