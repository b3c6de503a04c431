#pragma once
// The online softmax step of flash attention, shared by the decode paths.
#include <cstdint>

namespace dsinfer::cpu {

// One block of the online softmax over a block of n scores per head,
// sc[p][h] (row stride hp): scales, updates the running max m and sum l, and
// leaves exp(score - max) in sc; alpha[h] = exp(old max - new max) rescales
// what was accumulated before (0 on the first block). Heads are the inner,
// contiguous loop so every step vectorizes; block_max holds hp floats.
void online_softmax_block(float* sc, int64_t n, int64_t hp, float scale, bool first, float* m, float* l,
                          float* alpha, float* block_max);

}  // namespace dsinfer::cpu
