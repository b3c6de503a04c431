#pragma once
// One forward pass over several sequences at once: each contributes its new
// tokens (a whole prompt in prefill, one token in decode). Tokens of all
// sequences are packed back to back, so no padding is computed.
#include <cstdint>
#include <span>
#include <vector>

#include "runtime/paged_latent_cache.h"

namespace dsinfer {

struct BatchEntry {
  SequenceId seq = 0;
  std::span<const int32_t> tokens;
  bool all_logits = false;  // logits for every new token, else only the last
};

// Which MLA formulation runs attention. Both are exact; Absorbed works in the
// latent space (W_UK folded into q, W_UV applied after), Expanded rebuilds
// per-head K/V from the cached latents.
enum class AttentionPath { Auto, Absorbed, Expanded };

struct ForwardOptions {
  AttentionPath attention = AttentionPath::Auto;  // Auto: absorbed for pure decode steps
  // Routed experts process at most this many tokens at a time (0: all at
  // once), bounding peak memory under skewed routing in long prefills.
  int64_t moe_chunk_max_len = 0;
  // Benchmark mode: replace the router's choice with a round-robin
  // assignment so every expert gets the same load (weights are kept).
  bool perfect_eplb = false;
};

// Packed layout of a batch: for entry i, rows [row_begin[i], row_begin[i] + n)
// of the activations hold its tokens at positions [start_pos[i], ...).
struct BatchLayout {
  std::vector<int64_t> row_begin, n_tokens, start_pos;
  int64_t total_tokens = 0;
};

}  // namespace dsinfer
