#pragma once
// The seed's measured generation: a static batch, prefill (all sequences in
// one forward, or one sequence per cycle), then greedy decode steps over the
// whole batch with no early stop. Times every prefill cycle and decode step.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "runtime/engine.h"
#include "runtime/generation.h"

namespace dsinfer {

struct OfflineRunOptions {
  int64_t max_new_tokens = 32;   // generated per sequence: 1 from prefill + (n-1) decode steps
  int64_t page_size = 128;       // the engine's page size (the whole max length for a contiguous cache)
  bool prefill_multi_cycle = false;
  int64_t next_n = 0;            // MTP drafts per decode step (the engine needs EngineConfig::mtp)
  double forced_acceptance = -1; // benchmark: MTP drafts kept with this probability (< 0: the real rule)
  ForwardOptions prefill;        // moe_chunk_max_len, perfect_eplb
  ForwardOptions decode;
  std::function<void(const StepEvent&)> on_step;
};

struct OfflineRunResult {
  std::vector<double> prefill_ms;  // per prefill cycle
  std::vector<double> decode_ms;   // per decode step
  std::vector<double> ttft_ms;     // per sequence: time until its first token
  std::vector<std::vector<int32_t>> generated;
  int64_t prompt_tokens = 0;
  int64_t cache_pages = 0;
  SpeculativeStats mtp;            // next_n > 0
};

// KV pages the batch takes on an engine with this page size.
int64_t offline_batch_pages(const std::vector<std::vector<int32_t>>& prompts, const OfflineRunOptions& options);

OfflineRunResult run_offline_batch(Engine& engine, const std::vector<std::vector<int32_t>>& prompts,
                                   const OfflineRunOptions& options);

}  // namespace dsinfer
