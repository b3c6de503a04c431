#include "kernels/cpu/bf16_linear.h"

#include <omp.h>

#include <algorithm>
#include <vector>

#include "kernels/cpu/aligned_buffer.h"
#include "kernels/cpu/amx_linear.h"
#include "kernels/cpu/cpu_features.h"
#include "kernels/cpu/linear_avx512.h"
#include "kernels/cpu/row_blocks.h"
#include "kernels/cpu/row_kernel.h"

namespace dsinfer::cpu {

bool uses_bf16_products(const LinearWeight& w, int64_t n_tokens) {
  const CpuFeatures& isa = cpu_features();
  if (w.format != WeightFormat::BF16 || !w.bf16_inputs || !isa.avx512_bf16) return false;
  // On tiles every token count takes the same kernel: a token's result does
  // not depend on how many others share its step (MTP verify steps give the
  // greedy tokens of plain decode).
  if (bf16_tiles_apply(w)) return true;
  return n_tokens >= kBf16MinTokens && (!isa.bf16_dot_slower_than_fma || n_tokens >= kBf16PanelMinTokens);
}

bool bf16_tiles_apply(const LinearWeight& w) {
  return cpu_features().amx_bf16 && w.cols % (amx::kTileBytes / 2) == 0;
}

void linear_bf16_rows(const LinearWeight& w, int64_t row_begin, int64_t n_rows, const float* x, int64_t n_tokens,
                      float* y, int64_t y_stride) {
  // AMX tiles; or for few tokens (or odd widths, no model has them: the
  // panel kernel reads x in pairs) the dot-form tiles.
  const int64_t cols = w.cols;
  if (bf16_tiles_apply(w) || n_tokens < kBf16PanelMinTokens || cols % 2) {
    run_row_kernel(*prepare_bf16_rounded_kernel(w, row_begin, n_rows, x, n_tokens, y, y_stride));
    return;
  }
  std::vector<uint16_t> xb(static_cast<size_t>(n_tokens * cols));
  avx512::to_bf16(x, n_tokens * cols, xb.data());
  const auto* wd = static_cast<const uint16_t*>(w.data);
  // Activation blocks stay in L3 and each panel is packed once per block
  // (<= 1 MB at K = 16384).
  for_packed_panels<uint16_t>(
      n_rows, avx512::kBf16PanelRows, n_tokens, token_block(8 << 20, cols * 2, 48),
      static_cast<size_t>(avx512::bf16_panel_elems(cols)),
      [&](uint16_t* pack, int64_t r0, int64_t nr, int64_t t0, int64_t t1) {
        avx512::bf16_pack_panel(wd + (row_begin + r0) * cols, cols, cols, nr, pack);
        // While the products run, pull in the rows this thread will most
        // likely pack next (the dynamic schedule hands the threads panels in
        // turn), so the pack reads L2 instead of memory: a 32-token lm_head
        // 120-138 -> 94-113 ms, 16 tokens 97-135 -> 75-85 ms (Zen 5).
        const int64_t next = r0 + omp_get_num_threads() * avx512::kBf16PanelRows;
        const int64_t next_rows = next < n_rows ? std::min(avx512::kBf16PanelRows, n_rows - next) : 0;
        avx512::bf16_panel_rows(pack, cols, nr, xb.data() + t0 * cols, cols, t1 - t0, y + t0 * y_stride + r0,
                                y_stride, false, next_rows ? wd + (row_begin + next) * cols : nullptr,
                                next_rows * cols * 2);
      });
}

void linear_bf16_f32_panels(const LinearWeight& w, const float* x, int64_t n_tokens, float* y) {
  const int64_t cols = w.cols, n_rows = w.rows;
  const auto* wd = static_cast<const uint16_t*>(w.data);
  // Token blocks whose activations stay in L2 (<= 512 KB) while the panels pass.
  for_packed_panels<float>(n_rows, avx512::kBf16PanelRows, n_tokens, token_block(512 << 10, cols * 4, 48),
                           static_cast<size_t>(avx512::f32_panel_elems(cols)),
                           [&](float* pack, int64_t r0, int64_t nr, int64_t t0, int64_t t1) {
                             avx512::bf16_pack_f32_panel(wd + r0 * cols, cols, cols, nr, pack);
                             avx512::f32_panel_rows(pack, cols, nr, x + t0 * cols, cols, t1 - t0,
                                                    y + t0 * n_rows + r0, n_rows);
                           });
}

}  // namespace dsinfer::cpu
