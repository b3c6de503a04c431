#include "runtime/offline_runner.h"

#include <algorithm>

namespace dsinfer {

// The static batch is greedy generation with no early stop; the step
// callback records the seed's per-step timings and each sequence's TTFT.
int64_t offline_batch_pages(const std::vector<std::vector<int32_t>>& prompts, const OfflineRunOptions& o) {
  int64_t pages = 0;
  for (const auto& p : prompts) pages += (static_cast<int64_t>(p.size()) + o.max_new_tokens + o.next_n + o.page_size - 1) / o.page_size;
  return std::max<int64_t>(pages, 1);
}

OfflineRunResult run_offline_batch(Engine& engine, const std::vector<std::vector<int32_t>>& prompts,
                                   const OfflineRunOptions& o) {
  OfflineRunResult r;
  std::vector<GenerationRequest> requests;
  for (const auto& p : prompts) {
    requests.push_back({p, o.max_new_tokens, false});
    r.prompt_tokens += static_cast<int64_t>(p.size());
  }
  r.cache_pages = offline_batch_pages(prompts, o);
  r.ttft_ms.assign(prompts.size(), 0.0);
  GenerationOptions g;
  g.page_size = o.page_size;
  g.prefill = o.prefill;
  g.decode = o.decode;
  g.prefill_one_at_a_time = o.prefill_multi_cycle;
  g.speculative_tokens = o.next_n;
  g.speculative_stats = &r.mtp;
  g.forced_acceptance = o.forced_acceptance;
  double prefill_elapsed = 0;
  g.on_step = [&](const StepEvent& e) {
    if (e.phase == GenerationPhase::Prefill) {
      prefill_elapsed += e.ms;
      r.prefill_ms.push_back(e.ms);
      for (size_t i : e.requests) r.ttft_ms[i] = prefill_elapsed;
    } else {
      r.decode_ms.push_back(e.ms);
    }
    if (o.on_step) o.on_step(e);
  };
  for (auto& res : generate(engine, requests, g)) r.generated.push_back(std::move(res.generated));
  return r;
}

}  // namespace dsinfer
