#include "kernels/cpu/bf16_load_panels.h"

#include <algorithm>

#include "kernels/cpu/aligned_buffer.h"
#include "kernels/cpu/cpu_features.h"

namespace dsinfer::cpu {

bool bf16_panels_apply(const LinearWeight& w) {
  const CpuFeatures& isa = cpu_features();
  return w.format == WeightFormat::BF16 && isa.avx2 && !isa.avx512 && w.rows > 0 && w.cols > 0;
}

std::shared_ptr<const void> pack_bf16_panels(const LinearWeight& w) {
  const int64_t rows = w.rows, cols = w.cols, n_panels = (rows + kPanel16Rows - 1) / kPanel16Rows;
  auto store = std::make_shared<AlignedVector<uint16_t>>(static_cast<size_t>(n_panels * cols * kPanel16Rows));
  uint16_t* out = store->data();
  const auto* src = static_cast<const uint16_t*>(w.data);
  // k in blocks of 256: a block of a panel (8 KB) stays in L1 while its 16
  // rows are read in order.
  constexpr int64_t kBlock = 256;
#pragma omp parallel for schedule(dynamic, 1) if (rows * cols > (1 << 20))
  for (int64_t p = 0; p < n_panels; ++p) {
    uint16_t* panel = out + p * cols * kPanel16Rows;
    for (int64_t k0 = 0; k0 < cols; k0 += kBlock) {
      const int64_t k1 = std::min(cols, k0 + kBlock);
      for (int64_t j = 0; j < kPanel16Rows; ++j) {
        const int64_t r = p * kPanel16Rows + (j % 2 ? 8 + j / 2 : j / 2);
        const uint16_t* row = r < rows ? src + r * cols : nullptr;
        for (int64_t k = k0; k < k1; ++k) panel[k * kPanel16Rows + j] = row ? row[k] : uint16_t{0};
      }
    }
  }
  return {store, store->data()};
}

}  // namespace dsinfer::cpu
