#pragma once
// One forward pass over several sequences at once: each contributes its new
// tokens (a prompt chunk, one decode token, or a token plus drafts). Tokens
// of all sequences are packed back to back, so no padding is computed.
#include <cstdint>
#include <span>
#include <vector>

#include "model/forward_observer.h"
#include "model/latent_cache.h"

namespace dsinfer {

struct BatchEntry {
  SequenceId seq = 0;
  std::span<const int32_t> tokens;
  bool all_logits = false;  // logits for every new token, else only the last
  bool logits = true;       // false: no logits at all (a prompt chunk before the last)
};

struct ForwardOptions {
  // Auto: per entry, absorbed for single-token (decode) entries and expanded
  // for prompt chunks, in the same forward. Absorbed/Expanded force one path.
  AttentionPath attention = AttentionPath::Auto;
  // Routed experts process at most this many tokens at a time (0: all at
  // once), bounding peak memory under skewed routing in long prefills.
  int64_t moe_chunk_max_len = 0;
  // Benchmark mode: replace the router's choice with a round-robin
  // assignment so every expert gets the same load (weights are kept).
  bool perfect_eplb = false;
  // Benchmark mode: route every token to this many experts (0: the config's
  // num_experts_per_tok), to measure cost against active experts.
  int64_t experts_per_token = 0;
  // Sees every phase of the forward (benchmark timing, tests); may be null.
  ForwardObserver* observer = nullptr;
  // Hidden states [tokens, hidden] to start from instead of embedding the
  // token ids (the benchmark feeds random states; the ids still count).
  const float* input_hidden = nullptr;
  // When set, receives the final-normed hidden state (what enters the
  // head) of every new token, [tokens, hidden]: the MTP layer's input H.
  std::vector<float>* final_hidden = nullptr;
};

// Packed layout of a batch: for entry i, rows [row_begin[i], row_begin[i] + n)
// of the activations hold its tokens at positions [start_pos[i], ...);
// positions[r] is row r's position and path[i] entry i's attention path.
struct BatchLayout {
  std::vector<int64_t> row_begin, n_tokens, start_pos, positions;
  std::vector<AttentionPath> path;
  int64_t total_tokens = 0;
};

}  // namespace dsinfer
