#pragma once
// The pieces of MTP speculative decoding that batched generation and the
// continuous-batching scheduler share: the statistics, the MTP pass that
// drafts (with chained applications for k > 1), and settling a verify step
// (judging the drafts, rolling both caches back).
#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <span>
#include <vector>

#include "runtime/engine.h"
#include "runtime/speculative_sampling.h"

namespace dsinfer {

struct SpeculativeStats {
  int64_t next_n = 0;                 // drafts per verify step
  int64_t verify_steps = 0;           // per sequence: one verify forward each
  int64_t emitted = 0;                // tokens emitted by verify steps (accepted drafts + 1 each)
  std::vector<int64_t> drafted, accepted;  // per draft position 1..next_n

  explicit SpeculativeStats(int64_t k = 0)
      : next_n(k), drafted(static_cast<size_t>(k), 0), accepted(static_cast<size_t>(k), 0) {}
  // One verify step of `drafts` drafts, `accepted` of them kept, `emitted` tokens out.
  void count(size_t drafts, int64_t accepted_drafts, size_t emitted_tokens);
  // accepted[j] / drafted[j]: the fraction of verify steps whose drafts 1..j+1 were all kept.
  double acceptance(size_t position) const {
    return drafted[position] ? static_cast<double>(accepted[position]) / static_cast<double>(drafted[position]) : 0.0;
  }
  // Mean accepted drafts and tokens per verify step.
  double mean_accepted() const;
  double tokens_per_step() const {
    return verify_steps ? static_cast<double>(emitted) / static_cast<double>(verify_steps) : 0.0;
  }
  // {next_n, verify_steps, acceptance[], mean_accepted, tokens_per_step}
  nlohmann::json to_json() const;
};

// One sequence's new MTP positions: tokens[i] is t[p+1] for the position p
// whose hidden state is the input's row i.
struct MtpInput {
  SequenceId seq = 0;
  std::vector<int32_t> tokens;
  Sampler* sampler = nullptr;         // drafts with it; null: no drafts (a prompt chunk before the last)
  std::vector<Draft>* drafts = nullptr;  // receives k drafts (cleared first)
};

// Runs the MTP layer over every input (hidden: their rows, packed in input
// order) and drafts k tokens for those with a sampler, applying the layer
// again on its own normalized output for drafts 2..k.
void run_mtp_drafts(Engine& engine, int64_t k, std::vector<MtpInput> inputs, std::vector<float> hidden,
                    const ForwardOptions& options = {});

// Settles one sequence's verify step: its drafts are judged against
// `target` (1 + drafts rows of logits) by the speculative-sampling rule,
// emitting through `emit` as verify_drafts does; the main cache keeps
// base + 1 + accepted positions, the MTP cache base (its entries past base
// are rerun with the true hidden states); the step is counted in `stats`.
// Returns the number of accepted drafts.
// forced_acceptance in [0, 1]: the benchmark mode of verify_drafts_forced (< 0: off).
int64_t settle_verify(Engine& engine, SequenceId seq, int64_t base, Sampler& sampler, std::span<const Draft> drafts,
                      const float* target, int64_t vocab, const std::function<bool(const SampledToken&)>& emit,
                      SpeculativeStats& stats, double forced_acceptance = -1);

}  // namespace dsinfer
