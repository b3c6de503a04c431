#pragma once
// Batched greedy generation: all prompts are prefilled in one forward (or
// one forward each), then every unfinished sequence advances one token per
// batched decode step.
#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "model/deepseek_model.h"

namespace dsinfer {

struct GenerationRequest {
  std::vector<int32_t> prompt;
  int64_t max_new_tokens = 16;
  bool stop_at_eos = false;
};

// One forward of the loop, reported to GenerationOptions::on_step.
struct StepEvent {
  const char* phase;  // "prefill" or "decode"
  int64_t step = 0, total_steps = 0;  // total_steps: upper bound (early EOS stops can end sooner)
  double ms = 0;
  int64_t tokens = 0;                 // tokens processed by this forward
  std::span<const size_t> requests;   // indices of the requests in this forward
};

struct GenerationOptions {
  int64_t page_size = 128;
  ForwardOptions prefill;            // e.g. moe_chunk_max_len, perfect_eplb
  ForwardOptions decode;
  bool prefill_one_at_a_time = false;  // one prefill forward per request (bounds prefill memory)
  std::function<void(const StepEvent&)> on_step;
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
