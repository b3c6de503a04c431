#pragma once
// Batched generation on the Engine: all prompts are prefilled in one step
// (or one step each), then every unfinished sequence advances one token per
// batched decode step, each sampling with its own Sampler (greedy unless
// the request says otherwise). Sequences are released at the end, so their
// pages return to the engine's pool.
#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "runtime/engine.h"
#include "runtime/mtp_speculation.h"
#include "runtime/sampler.h"

namespace dsinfer {

struct GenerationRequest {
  std::vector<int32_t> prompt;
  int64_t max_new_tokens = 16;
  bool stop_at_eos = false;
  SamplingParams sampling;  // default: greedy
};

enum class GenerationPhase : uint8_t { Prefill, Decode };
const char* generation_phase_name(GenerationPhase p);  // "prefill" | "decode"

// One step of the loop, reported to GenerationOptions::on_step.
struct StepEvent {
  GenerationPhase phase;
  int64_t step = 0, total_steps = 0;  // total_steps: upper bound (early EOS stops can end sooner)
  double ms = 0;
  int64_t tokens = 0;                 // tokens processed by this step
  std::span<const size_t> requests;   // indices of the requests in this step
};

struct GenerationOptions {
  int64_t page_size = 128;           // one-shot overloads: the engine's page size
  ForwardOptions prefill;            // e.g. moe_chunk_max_len, perfect_eplb
  ForwardOptions decode;
  bool prefill_one_at_a_time = false;  // one prefill step per request (bounds prefill memory)
  // MTP drafts per step (1..3; 0: plain decode). The engine needs its MTP
  // cache (EngineConfig::mtp) and every request must be greedy; the tokens
  // are those of plain greedy decode. Statistics go to speculative_stats.
  int64_t speculative_tokens = 0;
  SpeculativeStats* speculative_stats = nullptr;
  // Benchmark mode: drafts kept with this probability whatever the target
  // says (verify_drafts_forced; the text is not the model's). < 0: off.
  double forced_acceptance = -1;
  std::function<void(const StepEvent&)> on_step;
};

struct GenerationResult {
  std::vector<int32_t> generated;
  std::vector<SampledToken> tokens;  // with logprobs when the request asked for them
  bool stopped_at_eos = false;
};

int32_t argmax(const float* logits, int64_t n);

// KV pages that running `requests` at once takes (prompt + max_new_tokens
// each, plus `extra` positions each: a verify step's drafts).
int64_t pages_for_requests(const std::vector<GenerationRequest>& requests, int64_t page_size, int64_t extra = 0);

std::vector<GenerationResult> generate(Engine& engine, const std::vector<GenerationRequest>& requests,
                                       const GenerationOptions& options = {});
// Logits [n, vocab] at every position of `ids` (one prefill step).
std::vector<float> prompt_logits(Engine& engine, const std::vector<int32_t>& ids);

// One-shot forms: an engine sized for exactly these requests.
std::vector<GenerationResult> generate(const DeepseekModel& model, const std::vector<GenerationRequest>& requests,
                                       const GenerationOptions& options = {});
std::vector<float> prompt_logits(const DeepseekModel& model, const std::vector<int32_t>& ids,
                                 const GenerationOptions& options = {});

// A rank of a parallel job with no requests of its own: serves the
// collective forwards of the others' steps until every rank is done.
void take_part_in_steps(const DeepseekModel& model, bool mtp = false);

// The MTP layer's logits [n - 1, vocab] over `ids` (teacher forced): row i
// predicts ids[i+2] from ids[..i+1]. Throws when the model has no MTP layer.
std::vector<float> mtp_prompt_logits(const DeepseekModel& model, const std::vector<int32_t>& ids,
                                     const GenerationOptions& options = {});

}  // namespace dsinfer
