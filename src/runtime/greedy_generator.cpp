#include "runtime/greedy_generator.h"

#include <algorithm>

namespace dsinfer {
namespace {

int64_t pages_for(int64_t tokens, int64_t page_size) { return (tokens + page_size - 1) / page_size; }

}  // namespace

int32_t argmax(const float* logits, int64_t n) {
  return static_cast<int32_t>(std::max_element(logits, logits + n) - logits);
}

std::vector<GenerationResult> generate_greedy(const DeepseekModel& model, const std::vector<GenerationRequest>& requests,
                                              const GenerationOptions& options) {
  const ModelConfig& cfg = model.config();
  int64_t pages = 0;
  for (const auto& r : requests) pages += pages_for(static_cast<int64_t>(r.prompt.size()) + r.max_new_tokens, options.page_size);
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

  std::vector<BatchEntry> batch;
  std::vector<size_t> active;
  for (size_t i = 0; i < n; ++i) {
    seqs[i] = cache.add_sequence();
    if (requests[i].max_new_tokens <= 0) {
      done[i] = true;
      continue;
    }
    batch.push_back(BatchEntry{seqs[i], requests[i].prompt, false});
    active.push_back(i);
  }
  const int64_t vocab = cfg.vocab_size;
  ForwardOptions decode_opts{options.decode_attention};
  for (bool prefill = true; !batch.empty(); prefill = false) {
    const auto logits = model.forward(batch, cache, prefill ? ForwardOptions{} : decode_opts);
    for (size_t k = 0; k < active.size(); ++k) accept(active[k], argmax(logits.data() + k * vocab, vocab));
    batch.clear();
    std::vector<size_t> still;
    for (size_t i : active)
      if (!done[i]) {
        still.push_back(i);
        batch.push_back(BatchEntry{seqs[i], std::span<const int32_t>(&last[i], 1), false});
      }
    active = std::move(still);
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
