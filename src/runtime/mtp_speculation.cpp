#include "runtime/mtp_speculation.h"

namespace dsinfer {

void SpeculativeStats::count(size_t drafts, int64_t accepted_drafts, size_t emitted_tokens) {
  ++verify_steps;
  emitted += static_cast<int64_t>(emitted_tokens);
  for (size_t j = 0; j < drafts && j < drafted.size(); ++j) {
    ++drafted[j];
    if (static_cast<int64_t>(j) < accepted_drafts) ++accepted[j];
  }
}

double SpeculativeStats::mean_accepted() const {
  int64_t a = 0;
  for (int64_t x : accepted) a += x;
  return verify_steps ? static_cast<double>(a) / static_cast<double>(verify_steps) : 0.0;
}

nlohmann::json SpeculativeStats::to_json() const {
  nlohmann::json acc = nlohmann::json::array();
  for (size_t j = 0; j < drafted.size(); ++j) acc.push_back(acceptance(j));
  return {{"next_n", next_n},
          {"verify_steps", verify_steps},
          {"acceptance", acc},
          {"mean_accepted", mean_accepted()},
          {"tokens_per_step", tokens_per_step()}};
}

void run_mtp_drafts(Engine& engine, int64_t k, std::vector<MtpInput> inputs, std::vector<float> hidden,
                    const ForwardOptions& options) {
  const int64_t H = engine.model().config().hidden_size, vocab = engine.model().config().vocab_size;
  for (const MtpInput& in : inputs)
    if (in.drafts) in.drafts->clear();
  for (int64_t j = 0; j < k && !inputs.empty(); ++j) {
    StepPlan plan{{}, options};
    plan.hidden = j + 1 < k;
    for (const MtpInput& in : inputs)
      plan.entries.push_back({in.seq, in.tokens, in.sampler ? LogitRows::Last : LogitRows::None, nullptr});
    const StepResult r = engine.mtp_step(plan, hidden.data());
    // Only the drafting inputs go on, each from its last normalized output.
    std::vector<MtpInput> next;
    std::vector<float> next_hidden;
    int64_t row_end = 0;
    for (size_t b = 0; b < inputs.size(); ++b) {
      row_end += static_cast<int64_t>(inputs[b].tokens.size());
      if (!inputs[b].sampler) continue;
      Draft d = draw_draft(*inputs[b].sampler, r.logits.data() + r.first_row[b] * vocab, vocab);
      next.push_back({inputs[b].seq, {d.token}, inputs[b].sampler, inputs[b].drafts});
      inputs[b].drafts->push_back(std::move(d));
      if (plan.hidden)
        next_hidden.insert(next_hidden.end(), r.hidden.begin() + (row_end - 1) * H, r.hidden.begin() + row_end * H);
    }
    inputs = std::move(next);
    hidden = std::move(next_hidden);
  }
}

int64_t settle_verify(Engine& engine, SequenceId seq, int64_t base, Sampler& sampler, std::span<const Draft> drafts,
                      const float* target, int64_t vocab, const std::function<bool(const SampledToken&)>& emit,
                      SpeculativeStats& stats, double forced_acceptance) {
  size_t emitted = 0;
  auto counted = [&](const SampledToken& tok) {
    ++emitted;
    return emit(tok);
  };
  const int64_t accepted = forced_acceptance >= 0
                               ? verify_drafts_forced(sampler, drafts, target, vocab, forced_acceptance, counted)
                               : verify_drafts(sampler, drafts, target, vocab, counted);
  stats.count(drafts.size(), accepted, emitted);
  // Keep the last token and the accepted drafts; roll the rest back.
  engine.truncate(seq, base + 1 + accepted);
  engine.truncate_mtp(seq, base);
  return accepted;
}

}  // namespace dsinfer
