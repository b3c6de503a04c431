#pragma once
// What a request asks of the sampler, and its validation (shared by the
// sampler and the request parsers).
#include <cstdint>
#include <optional>

namespace dsinfer {

struct SamplingParams {
  float temperature = 0.f;         // <= 0: greedy (argmax; ties -> lowest id)
  int64_t top_k = 0;               // <= 0: off; else exactly k tokens (ties at the cut -> lowest ids)
  float top_p = 1.f;               // (0, 1]; 1: off
  float min_p = 0.f;               // [0, 1]; keep tokens with p >= min_p * p_max
  std::optional<uint64_t> seed;    // nullopt: seeded from std::random_device
  float repetition_penalty = 1.f;  // HF/vLLM: over prompt AND generated tokens; logit>0 -> logit/rp, else logit*rp
  float presence_penalty = 0.f;    // OpenAI, generated tokens only: logit -= presence * (count>0)
  float frequency_penalty = 0.f;   // OpenAI, generated tokens only: logit -= frequency * count
  int64_t top_logprobs = 0;        // how many alternatives to report (0..20)
  bool logprobs = false;           // report the chosen token's logprob
};

// Throws dsinfer::Error naming the field, e.g. "top_p must be in (0, 1], got 0".
void validate(const SamplingParams& p);

}  // namespace dsinfer
