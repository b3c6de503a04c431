#include "runtime/greedy_generator.h"

#include <algorithm>
#include <chrono>

namespace dsinfer {
namespace {

int64_t pages_for(int64_t tokens, int64_t page_size) { return (tokens + page_size - 1) / page_size; }

}  // namespace

int32_t argmax(const float* logits, int64_t n) {
  return static_cast<int32_t>(std::max_element(logits, logits + n) - logits);
}

std::vector<GenerationResult> generate_greedy(const DeepseekModel& model, const std::vector<GenerationRequest>& requests,
                                              const GenerationOptions& options) {
  using Clock = std::chrono::steady_clock;
  const ModelConfig& cfg = model.config();
  int64_t pages = 0, max_new = 0;
  for (const auto& r : requests) {
    pages += pages_for(static_cast<int64_t>(r.prompt.size()) + r.max_new_tokens, options.page_size);
    max_new = std::max(max_new, r.max_new_tokens);
  }
  PagedLatentCache cache = model.make_cache(options.page_size, std::max<int64_t>(pages, 1));

  const size_t n = requests.size();
  std::vector<GenerationResult> results(n);
  std::vector<SequenceId> seqs(n);
  std::vector<int32_t> last(n);
  std::vector<bool> done(n, false);
  auto is_eos = [&](int32_t id) {
    return std::find(cfg.eos_token_ids.begin(), cfg.eos_token_ids.end(), id) != cfg.eos_token_ids.end();
  };
  auto accept = [&](size_t i, int32_t tok) {
    results[i].generated.push_back(tok);
    last[i] = tok;
    if (requests[i].stop_at_eos && is_eos(tok)) {
      results[i].stopped_at_eos = true;
      done[i] = true;
    }
    if (static_cast<int64_t>(results[i].generated.size()) >= requests[i].max_new_tokens) done[i] = true;
  };
  const int64_t vocab = cfg.vocab_size;
  // One forward over `entries` (requests `idx`), then each picks its argmax.
  auto step = [&](const std::vector<BatchEntry>& entries, const std::vector<size_t>& idx, const ForwardOptions& fo,
                  const char* phase, int64_t number, int64_t total) {
    const auto t0 = Clock::now();
    const auto logits = model.forward(entries, cache, fo);
    const double ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
    int64_t tokens = 0;
    for (const auto& e : entries) tokens += static_cast<int64_t>(e.tokens.size());
    for (size_t k = 0; k < idx.size(); ++k) accept(idx[k], argmax(logits.data() + k * vocab, vocab));
    if (options.on_step) options.on_step({phase, number, total, ms, tokens, idx});
  };

  // Prefill: all requests in one forward, or one forward each.
  std::vector<size_t> pending;
  for (size_t i = 0; i < n; ++i) {
    seqs[i] = cache.add_sequence();
    if (requests[i].max_new_tokens <= 0) done[i] = true;
    else pending.push_back(i);
  }
  const size_t per_cycle = options.prefill_one_at_a_time ? 1 : std::max<size_t>(pending.size(), 1);
  const int64_t cycles = static_cast<int64_t>((pending.size() + per_cycle - 1) / per_cycle);
  for (size_t b = 0; b < pending.size(); b += per_cycle) {
    std::vector<size_t> idx(pending.begin() + b, pending.begin() + std::min(pending.size(), b + per_cycle));
    std::vector<BatchEntry> entries;
    for (size_t i : idx) entries.push_back(BatchEntry{seqs[i], requests[i].prompt, false});
    step(entries, idx, options.prefill, "prefill", static_cast<int64_t>(b / per_cycle + 1), cycles);
  }

  // Decode: every unfinished request advances one token per forward.
  for (int64_t number = 1;; ++number) {
    std::vector<size_t> idx;
    std::vector<BatchEntry> entries;
    for (size_t i : pending)
      if (!done[i]) {
        idx.push_back(i);
        entries.push_back(BatchEntry{seqs[i], std::span<const int32_t>(&last[i], 1), false});
      }
    if (idx.empty()) break;
    step(entries, idx, options.decode, "decode", number, max_new - 1);
  }
  return results;
}

std::vector<float> prompt_logits(const DeepseekModel& model, const std::vector<int32_t>& ids,
                                 const GenerationOptions& options) {
  const int64_t pages = std::max<int64_t>(pages_for(static_cast<int64_t>(ids.size()), options.page_size), 1);
  PagedLatentCache cache = model.make_cache(options.page_size, pages);
  const SequenceId s = cache.add_sequence();
  const BatchEntry e{s, ids, true};
  return model.forward(std::span<const BatchEntry>(&e, 1), cache);
}

}  // namespace dsinfer
