#pragma once
// Batched greedy generation: all prompts are prefilled in one forward, then
// every unfinished sequence advances one token per batched decode step.
#include <cstdint>
#include <vector>

#include "model/deepseek_model.h"

namespace dsinfer {

struct GenerationRequest {
  std::vector<int32_t> prompt;
  int64_t max_new_tokens = 16;
  bool stop_at_eos = false;
};

struct GenerationOptions {
  int64_t page_size = 128;
  AttentionPath decode_attention = AttentionPath::Auto;
};

struct GenerationResult {
  std::vector<int32_t> generated;
  bool stopped_at_eos = false;
};

int32_t argmax(const float* logits, int64_t n);

std::vector<GenerationResult> generate_greedy(const DeepseekModel& model, const std::vector<GenerationRequest>& requests,
                                              const GenerationOptions& options = {});

// Logits [n, vocab] at every position of `ids` (one prefill).
std::vector<float> prompt_logits(const DeepseekModel& model, const std::vector<int32_t>& ids,
                                 const GenerationOptions& options = {});

}  // namespace dsinfer
