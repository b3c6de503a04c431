#include "runtime/offline_runner.h"

#include <chrono>

#include "runtime/greedy_generator.h"

namespace dsinfer {
namespace {
using Clock = std::chrono::steady_clock;
double ms_since(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}
}  // namespace

OfflineRunResult run_offline_batch(const DeepseekModel& model, const std::vector<std::vector<int32_t>>& prompts,
                                   const OfflineRunOptions& o) {
  const size_t n = prompts.size();
  const int64_t vocab = model.config().vocab_size;
  int64_t pages = 0;
  for (const auto& p : prompts)
    pages += (static_cast<int64_t>(p.size()) + o.max_new_tokens + o.page_size - 1) / o.page_size;
  PagedLatentCache cache = model.make_cache(o.page_size, std::max<int64_t>(pages, 1));

  OfflineRunResult r;
  r.generated.resize(n);
  r.ttft_ms.resize(n);
  r.cache_pages = pages;
  std::vector<SequenceId> seqs(n);
  std::vector<BatchEntry> batch;
  for (size_t i = 0; i < n; ++i) {
    seqs[i] = cache.add_sequence();
    batch.push_back({seqs[i], prompts[i], false});
    r.prompt_tokens += static_cast<int64_t>(prompts[i].size());
  }

  // Prefill: everything at once, or one sequence per cycle.
  const size_t cycle = o.prefill_multi_cycle ? 1 : n;
  double elapsed = 0;
  for (size_t b = 0; b < n; b += cycle) {
    const size_t e = std::min(n, b + cycle);
    const auto t0 = Clock::now();
    const auto logits = model.forward(std::span<const BatchEntry>(batch.data() + b, e - b), cache, o.prefill);
    const double ms = ms_since(t0);
    elapsed += ms;
    int64_t tokens = 0;
    for (size_t i = b; i < e; ++i) {
      r.generated[i].push_back(argmax(logits.data() + (i - b) * vocab, vocab));
      r.ttft_ms[i] = elapsed;
      tokens += static_cast<int64_t>(prompts[i].size());
    }
    r.prefill_ms.push_back(ms);
    if (o.on_step)
      o.on_step({"prefill", static_cast<int64_t>(b / cycle + 1), static_cast<int64_t>((n + cycle - 1) / cycle), ms, tokens});
  }

  // Decode: the whole batch advances one token per step.
  std::vector<int32_t> last(n);
  for (int64_t step = 1; step < o.max_new_tokens; ++step) {
    for (size_t i = 0; i < n; ++i) {
      last[i] = r.generated[i].back();
      batch[i] = BatchEntry{seqs[i], std::span<const int32_t>(&last[i], 1), false};
    }
    const auto t0 = Clock::now();
    const auto logits = model.forward(batch, cache, o.decode);
    const double ms = ms_since(t0);
    for (size_t i = 0; i < n; ++i) r.generated[i].push_back(argmax(logits.data() + i * vocab, vocab));
    r.decode_ms.push_back(ms);
    if (o.on_step) o.on_step({"decode", step, o.max_new_tokens - 1, ms, static_cast<int64_t>(n)});
  }
  return r;
}

}  // namespace dsinfer
