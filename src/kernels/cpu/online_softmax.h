#pragma once
// The online softmax step of flash attention: by head for the decode paths,
// by query row for prefill's expanded attention.
#include <cstdint>

namespace dsinfer::cpu {

// One block of the online softmax over a block of n scores per head,
// sc[p][h] (row stride hp): scales, updates the running max m and sum l, and
// leaves exp(score - max) in sc; alpha[h] = exp(old max - new max) rescales
// what was accumulated before (0 on the first block). Heads are the inner,
// contiguous loop so every step vectorizes; block_max holds hp floats.
void online_softmax_block(float* sc, int64_t n, int64_t hp, float scale, bool first, float* m, float* l,
                          float* alpha, float* block_max);

// One query row of a key chunk (prefill): scales row[0, visible), keeps the
// first len (causal) as exp(score - new max) and zeroes the rest, updates
// the row's running max m and sum l; returns exp(old max - new max), the
// factor for what the row accumulated before (0 when m was -inf).
float online_softmax_row(float* row, int64_t len, int64_t visible, float scale, float& m, float& l);

namespace avx512 {
float online_softmax_row(float* row, int64_t len, int64_t visible, float scale, float& m, float& l);
}

}  // namespace dsinfer::cpu
