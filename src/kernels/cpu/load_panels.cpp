#include "kernels/cpu/load_panels.h"

#include <algorithm>
#include <cmath>

#include "kernels/cpu/aligned_buffer.h"
#include "kernels/cpu/cpu_features.h"

namespace dsinfer::cpu {
namespace {

// Row of panel slot j (see the layout in the header).
int64_t panel_row(WeightFormat f, int64_t p, int64_t j) {
  if (f == WeightFormat::BF16) return p * kPanel16Rows + (j % 2 ? 8 + j / 2 : j / 2);
  return p * kPanel16Rows + j;
}

// w in panels; FP8: null if a code is a NaN (checked while copying, so the
// weights are read once).
template <class Elem>
std::shared_ptr<const void> pack(const LinearWeight& w) {
  const int64_t rows = w.rows, cols = w.cols, n_panels = (rows + kPanel16Rows - 1) / kPanel16Rows;
  auto store = std::make_shared<AlignedVector<Elem>>(static_cast<size_t>(n_panels * cols * kPanel16Rows));
  Elem* out = store->data();
  const auto* src = static_cast<const Elem*>(w.data);
  constexpr bool kFp8 = sizeof(Elem) == 1;
  bool nan = false;
  // k in blocks of 256: a block of a panel (4-8 KB) stays in L1 while its 16
  // rows are read in order.
  constexpr int64_t kBlock = 256;
#pragma omp parallel for schedule(dynamic, 1) reduction(|| : nan) if (rows * cols > (1 << 20))
  for (int64_t p = 0; p < n_panels; ++p) {
    Elem* panel = out + p * cols * kPanel16Rows;
    for (int64_t k0 = 0; k0 < cols; k0 += kBlock) {
      const int64_t k1 = std::min(cols, k0 + kBlock);
      for (int64_t j = 0; j < kPanel16Rows; ++j) {
        const int64_t r = panel_row(w.format, p, j);
        const Elem* row = r < rows ? src + r * cols : nullptr;
        for (int64_t k = k0; k < k1; ++k) {
          const Elem v = row ? row[k] : Elem{0};
          if constexpr (kFp8) nan = nan || (v & 0x7F) == 0x7F;
          panel[k * kPanel16Rows + j] = v;
        }
      }
    }
  }
  if (nan) return nullptr;
  return {store, store->data()};
}

}  // namespace

bool load_panels_apply(const LinearWeight& w) {
  const CpuFeatures& isa = cpu_features();
  if (!isa.avx2 || isa.avx512 || w.rows <= 0 || w.cols <= 0 || w.data == nullptr) return false;
  return w.format == WeightFormat::BF16 ||
         (w.format == WeightFormat::Fp8Block && w.block_rows % kPanel16Rows == 0 && w.block_cols > 0);
}

Fp8Widening fp8_panel_widening() {
  return cpu_features().fast_subnormal_fma ? Fp8Widening::kShift : Fp8Widening::kHalf;
}

int64_t load_panels_group_rows(const LinearWeight& w) {
  return (w.format == WeightFormat::BF16 ? kBf16OneTokenPanels : kFp8OneTokenPanels) * kPanel16Rows;
}

uint64_t load_panels_bytes(const LinearWeight& w) {
  const auto padded = static_cast<uint64_t>((w.rows + kPanel16Rows - 1) / kPanel16Rows * kPanel16Rows);
  return padded * static_cast<uint64_t>(w.cols) * (w.format == WeightFormat::BF16 ? 2 : 1);
}

std::shared_ptr<const void> pack_load_panels(const LinearWeight& w) {
  if (w.format == WeightFormat::BF16) return pack<uint16_t>(w);
  if (w.format != WeightFormat::Fp8Block) return nullptr;
  const int64_t n_scales = (w.rows + w.block_rows - 1) / w.block_rows * w.scale_cols();
  for (int64_t i = 0; i < n_scales; ++i)
    if (const float s = std::fabs(w.scale[i]); !(s <= kFp8PanelMaxScale) || (s != 0 && s < kFp8PanelMinScale))
      return nullptr;  // NaN too
  return pack<uint8_t>(w);
}

}  // namespace dsinfer::cpu
