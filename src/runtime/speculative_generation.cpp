#include "runtime/speculative_generation.h"

#include <algorithm>
#include <memory>

#include "io/error.h"
#include "runtime/mtp_speculation.h"

namespace dsinfer {

namespace {

struct Live {
  size_t request = 0;
  SequenceId seq = 0;
  int32_t pending = 0;          // emitted, not yet in the main cache
  std::vector<Draft> drafts;    // for the next verify step
  bool done = false;
};

}  // namespace

std::vector<GenerationResult> generate_speculative(Engine& engine, const std::vector<GenerationRequest>& requests,
                                                   const GenerationOptions& options) {
  const int64_t k = options.speculative_tokens;
  if (k < 1 || k > 3) throw Error("speculative decoding: the number of drafts must be 1, 2 or 3, got " + std::to_string(k));
  if (!engine.has_mtp())
    throw Error("speculative decoding needs the MTP layer: " + engine.model().config().path +
                (engine.model().has_mtp() ? " (the engine was opened without its MTP cache)" : " has no MTP layer"));
  const ModelConfig& cfg = engine.model().config();
  const int64_t H = cfg.hidden_size, vocab = cfg.vocab_size;
  SpeculativeStats stats(k);

  const size_t n = requests.size();
  std::vector<GenerationResult> results(n);
  std::vector<std::unique_ptr<Sampler>> samplers(n);
  auto is_eos = [&](int32_t id) {
    return std::find(cfg.eos_token_ids.begin(), cfg.eos_token_ids.end(), id) != cfg.eos_token_ids.end();
  };
  // Records an emitted token; returns false once the request is finished.
  auto emit = [&](Live& l, const SampledToken& tok) {
    const GenerationRequest& r = requests[l.request];
    GenerationResult& res = results[l.request];
    res.generated.push_back(tok.token);
    if (r.sampling.logprobs || r.sampling.top_logprobs > 0) res.tokens.push_back(tok);
    l.pending = tok.token;
    if (r.stop_at_eos && is_eos(tok.token)) {
      res.stopped_at_eos = true;
      l.done = true;
    }
    if (static_cast<int64_t>(res.generated.size()) >= r.max_new_tokens) l.done = true;
    return !l.done;
  };
  for (size_t i = 0; i < n; ++i) {
    validate(requests[i].sampling);
    if (requests[i].prompt.empty()) throw Error("request " + std::to_string(i) + ": empty prompt (no token ids)");
    samplers[i] = std::make_unique<Sampler>(requests[i].sampling, requests[i].prompt);
  }

  auto report = [&](GenerationPhase phase, int64_t number, const StepResult& r, const std::vector<Live*>& who) {
    if (!options.on_step) return;
    std::vector<size_t> idx;
    for (Live* l : who) idx.push_back(l->request);
    options.on_step({phase, number, phase == GenerationPhase::Prefill ? 1 : 0, r.ms, r.tokens, idx});
  };

  std::vector<Live> all;
  for (size_t i = 0; i < n; ++i) all.push_back({i, engine.add_sequence()});
  auto release_all = [&] {
    for (const Live& l : all) engine.release(l.seq);
  };
  try {
    // Prefill: the prompt through the main model, then its MTP entries.
    {
      StepPlan plan{{}, options.prefill};
      plan.hidden = true;
      std::vector<Live*> who;
      for (Live& l : all)
        if (requests[l.request].max_new_tokens > 0) {
          plan.entries.push_back({l.seq, requests[l.request].prompt, LogitRows::Last, samplers[l.request].get()});
          who.push_back(&l);
        }
      if (!who.empty()) {
        const StepResult r = engine.step(plan);
        report(GenerationPhase::Prefill, 1, r, who);
        std::vector<MtpInput> mtp;  // each prompt's positions, drafting after its first token
        std::vector<float> hidden;
        int64_t row = 0;
        for (size_t b = 0; b < who.size(); ++b) {
          Live& l = *who[b];
          const auto& prompt = requests[l.request].prompt;
          const auto m = static_cast<int64_t>(prompt.size());
          const bool more = emit(l, *r.sampled[b]);
          if (more) {
            // MTP position i pairs t[i+1] with H[i]: the prompt shifted by one plus the new token.
            std::vector<int32_t> t(prompt.begin() + 1, prompt.end());
            t.push_back(l.pending);
            mtp.push_back({l.seq, std::move(t), samplers[l.request].get(), &l.drafts});
            hidden.insert(hidden.end(), r.hidden.begin() + row * H, r.hidden.begin() + (row + m) * H);
          }
          row += m;
        }
        run_mtp_drafts(engine, k, std::move(mtp), std::move(hidden), options.decode);
      }
    }
    // Verify steps.
    for (int64_t number = 1;; ++number) {
      std::vector<Live*> who;
      std::vector<std::vector<int32_t>> inputs;
      StepPlan plan{{}, options.decode};
      plan.hidden = true;
      // The same attention arithmetic per token as plain one-token decode.
      plan.options.attention = AttentionPath::Absorbed;
      for (Live& l : all)
        if (!l.done && requests[l.request].max_new_tokens > 0) {
          std::vector<int32_t> t{l.pending};
          for (const Draft& d : l.drafts) t.push_back(d.token);
          inputs.push_back(std::move(t));
          who.push_back(&l);
        }
      if (who.empty()) break;
      std::vector<int64_t> base;  // verified length of each sequence before the step
      for (size_t b = 0; b < who.size(); ++b) {
        base.push_back(engine.length(who[b]->seq));
        plan.entries.push_back({who[b]->seq, inputs[b], LogitRows::All, nullptr});
      }
      const StepResult r = engine.step(plan);
      std::vector<MtpInput> mtp;  // each sequence's emitted tokens with their true hidden states
      std::vector<float> hidden;
      int64_t row = 0;
      for (size_t b = 0; b < who.size(); ++b) {
        Live& l = *who[b];
        const auto width = static_cast<int64_t>(inputs[b].size());
        std::vector<int32_t> emitted;
        const int64_t accepted = settle_verify(engine, l.seq, base[b], *samplers[l.request], l.drafts,
                                               r.logits.data() + r.first_row[b] * vocab, vocab,
                                               [&](const SampledToken& tok) {
                                                 emitted.push_back(tok.token);
                                                 return emit(l, tok);
                                               },
                                               stats, options.forced_acceptance);
        if (!l.done) {
          mtp.push_back({l.seq, std::move(emitted), samplers[l.request].get(), &l.drafts});
          hidden.insert(hidden.end(), r.hidden.begin() + row * H, r.hidden.begin() + (row + accepted + 1) * H);
        }
        row += width;
      }
      report(GenerationPhase::Decode, number, r, who);
      run_mtp_drafts(engine, k, std::move(mtp), std::move(hidden), options.decode);
    }
  } catch (...) {
    release_all();
    throw;
  }
  release_all();
  engine.finish_collective_steps();
  if (options.speculative_stats) *options.speculative_stats = stats;
  return results;
}

}  // namespace dsinfer
