#include "runtime/generation.h"

#include <algorithm>
#include <memory>

#include "io/error.h"
#include "runtime/speculative_generation.h"

namespace dsinfer {

const char* generation_phase_name(GenerationPhase p) { return p == GenerationPhase::Prefill ? "prefill" : "decode"; }

int32_t argmax(const float* logits, int64_t n) {
  return static_cast<int32_t>(std::max_element(logits, logits + n) - logits);
}

int64_t pages_for_requests(const std::vector<GenerationRequest>& requests, int64_t page_size, int64_t extra) {
  int64_t pages = 0;
  for (const auto& r : requests)
    pages += (static_cast<int64_t>(r.prompt.size()) + r.max_new_tokens + extra + page_size - 1) / page_size;
  return std::max<int64_t>(pages, 1);
}

std::vector<GenerationResult> generate(Engine& engine, const std::vector<GenerationRequest>& requests,
                                       const GenerationOptions& options) {
  if (options.speculative_tokens > 0) return generate_speculative(engine, requests, options);
  const ModelConfig& cfg = engine.model().config();
  const size_t n = requests.size();
  int64_t max_new = 0;
  for (const auto& r : requests) max_new = std::max(max_new, r.max_new_tokens);
  std::vector<GenerationResult> results(n);
  std::vector<SequenceId> seqs(n);
  std::vector<std::unique_ptr<Sampler>> samplers(n);
  std::vector<int32_t> last(n);
  std::vector<bool> done(n, false);
  auto is_eos = [&](int32_t id) {
    return std::find(cfg.eos_token_ids.begin(), cfg.eos_token_ids.end(), id) != cfg.eos_token_ids.end();
  };
  auto accept = [&](size_t i, const SampledToken& tok) {
    results[i].generated.push_back(tok.token);
    if (requests[i].sampling.logprobs || requests[i].sampling.top_logprobs > 0) results[i].tokens.push_back(tok);
    last[i] = tok.token;
    if (requests[i].stop_at_eos && is_eos(tok.token)) {
      results[i].stopped_at_eos = true;
      done[i] = true;
    }
    if (static_cast<int64_t>(results[i].generated.size()) >= requests[i].max_new_tokens) done[i] = true;
  };
  // One step over the plan (requests idx), then each request takes its token.
  auto run = [&](StepPlan& plan, const std::vector<size_t>& idx, GenerationPhase phase, int64_t number, int64_t total) {
    const StepResult r = engine.step(plan);
    for (size_t k = 0; k < idx.size(); ++k) accept(idx[k], *r.sampled[k]);
    if (options.on_step) options.on_step({phase, number, total, r.ms, r.tokens, idx});
  };

  std::vector<size_t> pending;
  for (size_t i = 0; i < n; ++i) {
    validate(requests[i].sampling);
    seqs[i] = engine.add_sequence();
    samplers[i] = std::make_unique<Sampler>(requests[i].sampling, requests[i].prompt);
    if (requests[i].max_new_tokens <= 0) done[i] = true;
    else pending.push_back(i);
  }
  try {
    // Prefill: all requests in one step, or one step each.
    const size_t per_cycle = options.prefill_one_at_a_time ? 1 : std::max<size_t>(pending.size(), 1);
    const int64_t cycles = static_cast<int64_t>((pending.size() + per_cycle - 1) / per_cycle);
    for (size_t b = 0; b < pending.size(); b += per_cycle) {
      std::vector<size_t> idx(pending.begin() + b, pending.begin() + std::min(pending.size(), b + per_cycle));
      StepPlan plan{{}, options.prefill};
      for (size_t i : idx) plan.entries.push_back({seqs[i], requests[i].prompt, LogitRows::Last, samplers[i].get()});
      run(plan, idx, GenerationPhase::Prefill, static_cast<int64_t>(b / per_cycle + 1), cycles);
    }
    // Decode: every unfinished request advances one token per step.
    for (int64_t number = 1;; ++number) {
      std::vector<size_t> idx;
      StepPlan plan{{}, options.decode};
      for (size_t i : pending)
        if (!done[i]) {
          idx.push_back(i);
          plan.entries.push_back({seqs[i], std::span<const int32_t>(&last[i], 1), LogitRows::Last, samplers[i].get()});
        }
      if (idx.empty()) break;
      run(plan, idx, GenerationPhase::Decode, number, max_new - 1);
    }
  } catch (...) {
    for (SequenceId s : seqs) engine.release(s);
    throw;
  }
  for (SequenceId s : seqs) engine.release(s);
  engine.finish_collective_steps();
  return results;
}

std::vector<float> prompt_logits(Engine& engine, const std::vector<int32_t>& ids) {
  const SequenceId s = engine.add_sequence();
  StepPlan plan;
  plan.entries.push_back({s, ids, LogitRows::All, nullptr});
  try {
    StepResult r = engine.step(plan);
    engine.release(s);
    engine.finish_collective_steps();
    return std::move(r.logits);
  } catch (...) {
    engine.release(s);
    throw;
  }
}

std::vector<GenerationResult> generate(const DeepseekModel& model, const std::vector<GenerationRequest>& requests,
                                       const GenerationOptions& options) {
  EngineConfig config{options.page_size, pages_for_requests(requests, options.page_size, options.speculative_tokens)};
  config.mtp = options.speculative_tokens > 0;
  Engine engine(model, config);
  return generate(engine, requests, options);
}

std::vector<float> prompt_logits(const DeepseekModel& model, const std::vector<int32_t>& ids,
                                 const GenerationOptions& options) {
  Engine engine(model, EngineConfig{options.page_size, pages_for_requests({{ids, 0}}, options.page_size)});
  return prompt_logits(engine, ids);
}

void take_part_in_steps(const DeepseekModel& model, bool mtp) {
  EngineConfig config{128, 1};
  config.mtp = mtp;
  Engine engine(model, config);
  engine.finish_collective_steps();
}

std::vector<float> mtp_prompt_logits(const DeepseekModel& model, const std::vector<int32_t>& ids,
                                     const GenerationOptions& options) {
  if (ids.size() < 2) throw Error("MTP logits need at least 2 ids (row i predicts ids[i+2] from ids[..i+1])");
  EngineConfig config{options.page_size, pages_for_requests({{ids, 0}}, options.page_size)};
  config.mtp = true;
  Engine engine(model, config);
  const SequenceId s = engine.add_sequence();
  // Main model: every position's final-normed hidden state H[i].
  StepPlan main;
  main.entries.push_back({s, ids, LogitRows::None, nullptr});
  main.hidden = true;
  const StepResult h = engine.step(main);
  // MTP: position i pairs E[ids[i+1]] with H[i], for i < n - 1.
  StepPlan mtp;
  mtp.entries.push_back({s, std::span<const int32_t>(ids).subspan(1), LogitRows::All, nullptr});
  StepResult r = engine.mtp_step(mtp, h.hidden.data());
  engine.finish_collective_steps();
  return std::move(r.logits);
}

}  // namespace dsinfer
