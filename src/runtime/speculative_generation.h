#pragma once
// Greedy generation with MTP drafts (DeepSeek-V3's multi-token prediction
// used as the draft model, next_n = k drafts per step):
//   prefill   main model over the prompt -> first token and H[0..m-1];
//             MTP over (t[i+1], H[i]) -> its cache, and from its last row
//             the first draft; k > 1: the layer again on its own normalized
//             output (as the recipe does) for the next drafts;
//   verify    one main forward over [last token, d1..dk] per sequence;
//             the speculative-sampling rule (speculative_sampling.h) keeps
//             a prefix of the drafts and emits accepted + 1 tokens, greedy:
//             exactly the tokens of plain decode, sampled: distributed as
//             plain sampling;
//   rollback  both caches are cut back to the verified length, and the MTP
//             layer reruns over the emitted tokens with the verify step's
//             true H, so its cache always holds the teacher-forced entries.
// Called by generate() when GenerationOptions::speculative_tokens > 0.
#include <vector>

#include "runtime/engine.h"
#include "runtime/generation.h"

namespace dsinfer {

std::vector<GenerationResult> generate_speculative(Engine& engine, const std::vector<GenerationRequest>& requests,
                                                   const GenerationOptions& options);

}  // namespace dsinfer
