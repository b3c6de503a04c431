#pragma once
// Work split shared by the GEMV/GEMM kernels: rows over the OpenMP team in
// chunks of 16-256 rows, tokens in blocks whose activations stay in
// L2 while each thread's weight strip streams past them, so a weight byte is
// read once per token block.
#include <omp.h>

#include <algorithm>
#include <cstdint>

#include "kernels/cpu/aligned_buffer.h"

namespace dsinfer::cpu {

// Tokens per block: the L2 budget over the activation bytes of one token,
// a multiple of 12 (the register tiles' token widths) and at least min_tokens.
inline int64_t token_block(int64_t l2_budget_bytes, int64_t x_bytes_per_token, int64_t min_tokens) {
  return std::max<int64_t>(min_tokens, l2_budget_bytes / std::max<int64_t>(1, x_bytes_per_token) / 12 * 12);
}

// kernel(r0, r1, t0, t1) for every 16-row chunk and token block; runs in
// parallel when `work` (rows x tokens x cols) is worth a team.
// Rows per work chunk: 16 (a few register tiles) up to 256 for tall
// matrices: each chunk is one contiguous run of weights for the prefetchers,
// and >= 16 chunks per thread keep a dynamic schedule balanced.
// min_rows (a multiple of 16) raises the floor for kernels whose tiles span
// more rows (the one-token load panels: 3-4 panels of 16).
inline int64_t row_chunk(int64_t n_rows, int64_t min_rows = 16) {
  const int64_t per_thread = n_rows / (16 * std::max(1, omp_get_max_threads()));
  const int64_t most = std::max<int64_t>(min_rows, 256 / min_rows * min_rows);
  return std::clamp<int64_t>(per_thread / min_rows * min_rows, min_rows, most);
}

template <class Kernel>
void for_row_blocks(int64_t n_rows, int64_t n_tokens, int64_t tokens_per_block, int64_t work, Kernel&& kernel,
                    int64_t min_chunk_rows = 16) {
  const int64_t kChunk = row_chunk(n_rows, min_chunk_rows);
  const int64_t n_chunks = (n_rows + kChunk - 1) / kChunk;
#pragma omp parallel if (work > 32768 && !omp_in_parallel())
  for (int64_t t0 = 0; t0 < n_tokens; t0 += tokens_per_block) {
    const int64_t t1 = std::min(n_tokens, t0 + tokens_per_block);
    // Dynamic: on a shared machine one core may be slowed by another process;
    // static halves would make every step wait for the slower core.
#pragma omp for schedule(dynamic, 1) nowait
    for (int64_t c = 0; c < n_chunks; ++c) kernel(c * kChunk, std::min(n_rows, (c + 1) * kChunk), t0, t1);
  }
}

// The packed-panel GEMMs' split: kernel(pack, r0, nr, t0, t1) for every
// panel of panel_rows rows (nr of them present) and every token block of
// tokens_per_block, panels spread over the team dynamically; each thread
// owns one 64-byte aligned pack buffer of pack_elems Elem, reused for every
// panel it takes (the kernel packs into it, then multiplies).
template <class Elem, class Kernel>
void for_packed_panels(int64_t n_rows, int64_t panel_rows, int64_t n_tokens, int64_t tokens_per_block,
                       size_t pack_elems, Kernel&& kernel) {
  const int64_t n_panels = (n_rows + panel_rows - 1) / panel_rows;
#pragma omp parallel
  {
    Aligned64<Elem> pack(pack_elems);
    for (int64_t t0 = 0; t0 < n_tokens; t0 += tokens_per_block) {
      const int64_t t1 = std::min(n_tokens, t0 + tokens_per_block);
#pragma omp for schedule(dynamic, 1) nowait
      for (int64_t p = 0; p < n_panels; ++p) {
        const int64_t r0 = p * panel_rows;
        kernel(pack.data(), r0, std::min(panel_rows, n_rows - r0), t0, t1);
      }
    }
  }
}

}  // namespace dsinfer::cpu
