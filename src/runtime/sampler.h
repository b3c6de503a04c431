#pragma once
// Per-sequence token sampling: penalties, temperature, top-k / top-p / min-p
// and logprobs, in vLLM's order. Each Sampler owns its RNG stream so a seeded
// request draws the same tokens alone or in any batch.
#include <cstdint>
#include <optional>
#include <random>
#include <span>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "runtime/mapped_allocator.h"
#include "runtime/sampling_params.h"

namespace dsinfer {

struct TokenLogprob {
  int32_t token;
  float logprob;
};

struct SampledToken {
  int32_t token = 0;
  // log softmax of the RAW logits (before penalties / temperature / filters), as
  // vLLM reports by default; set when logprobs or top_logprobs > 0.
  float logprob = 0.f;
  // The min(top_logprobs, vocab) most likely tokens under the raw distribution,
  // most likely first (ties -> lowest id).
  std::vector<TokenLogprob> top_logprobs;
};

// Seeded draws are reproducible across standard libraries: u = (x >> 11) * 2^-53
// for the next x of the sequence's mt19937_64, and the token is the first, in id
// order, whose cumulative kept probability exceeds u.
class Sampler {
 public:
  // Validates `params`. Prompt tokens feed only the repetition penalty.
  explicit Sampler(const SamplingParams& params, std::span<const int32_t> prompt = {});

  // Picks the next token from logits[0..vocab) and records it as generated
  // (for the penalties). Token ids outside [0, vocab) in the penalty state are
  // ignored. Throws dsinfer::Error on vocab <= 0, NaN logits, or (when not
  // greedy) logits without a finite maximum.
  SampledToken sample(const float* logits, int64_t vocab);

  // For speculative sampling. distribution(): the probabilities sample()
  // draws from at this point (penalties, temperature, top-k/top-p/min-p;
  // one-hot when greedy). draw_from(): a token from any such vector with
  // this sampler's stream (the CDF in id order). uniform(): the next [0, 1)
  // number of the stream. record(): the token becomes generated (penalty
  // state) and is returned with its logprobs over the raw `logits`.
  void distribution(const float* logits, int64_t vocab, std::vector<float>& probs);
  int32_t draw_from(std::span<const float> probs);
  double uniform();
  SampledToken record(int32_t token, const float* logits, int64_t vocab);

  const SamplingParams& params() const { return params_; }
  bool greedy() const { return params_.temperature <= 0.f; }
  int64_t num_generated() const { return num_generated_; }

 private:
  struct Candidate {
    double w;  // probability relative to the most likely token's
    int32_t id;
  };
  struct Key {
    float logit;
    int32_t id;
  };

  void apply_penalties(MappedVector<float>& logits) const;
  static bool key_above(const Key& a, const Key& b);  // higher logit, then lower id
  // Leaves in `keys` the k (<= n) top-ranked of v[0..n), in no particular order.
  static void select_top(const float* v, int64_t n, int64_t k, MappedVector<Key>& keys);
  // The kept candidates of cands_ after top-k / top-p / min-p, and their mass.
  struct Kept {
    double min_w;
    bool use_top_p;
    Candidate p_cut;
    double mass;
    // Zero weights (-inf logits, exp underflow) are never kept.
    bool keeps(const Candidate& c) const;
  };
  Kept filter(const float* logits, int64_t n, float max_logit);  // fills cands_
  int32_t draw(const float* logits, int64_t n, float max_logit);
  const float* penalized(const float* logits, int64_t vocab);   // the logits, or work_ with penalties
  void fill_logprobs(const float* logits, int64_t vocab, SampledToken& out);
  double next_uniform();  // [0, 1) with 53 random bits

  SamplingParams params_;
  std::mt19937_64 rng_;
  std::unordered_set<int32_t> seen_;              // prompt ∪ generated: repetition penalty
  std::unordered_map<int32_t, int64_t> counts_;   // generated only: presence / frequency
  int64_t num_generated_ = 0;
  // Scratch reused across steps (no per-step allocation at a fixed vocab).
  MappedVector<float> work_;     // penalized logits
  MappedVector<float> weights_;  // exp over the vocabulary
  MappedVector<Key> keys_;
  MappedVector<Candidate> cands_;
  MappedVector<Candidate> sorted_;
};

}  // namespace dsinfer
