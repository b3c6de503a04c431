#pragma once
// Times the model's own forward (DeepseekModel::forward, the one decoder
// loop) phase by phase through its ForwardObserver hook: MLA attention's
// projections (weights) and its core over the latent cache, MoE router,
// routed experts, shared expert, lm_head. Counts the bytes each
// phase must read and the FLOPs it performs, so both can be set against the
// machine ceilings measured in the same run.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "bench/machine_ceilings.h"
#include "bench/synthetic_model.h"
#include "model/deepseek_model.h"

namespace dsinfer::bench {

struct PhaseResult {
  std::string name;  // attention | attention_core | router | routed_experts | shared_expert | lm_head
  double time_ms = 0, bytes = 0, flops = 0;
  // Of `flops`, those done on float32 (or bf16) activations rather than by
  // the weight format's kernels: attention scores/values, the latent
  // absorption and kv_b expansion. They meet the fp32 (or bf16) peak.
  double core_flops = 0;
  bool core_bf16 = false;
};

enum class CasePhase : uint8_t { Decode, Prefill };
const char* case_phase_name(CasePhase p);

struct CaseSpec {
  CasePhase phase = CasePhase::Decode;
  int64_t batch = 1;    // sequences (decode: one new token each)
  int64_t context = 0;  // decode: cached positions per sequence; prefill: prompt length
  int64_t top_k = 0;    // 0: the config's num_experts_per_tok
  // Decode: new tokens per sequence, logits for each (1 + k: an MTP verify step).
  int64_t new_tokens = 1;
};

// "decode", "prefill", or "verify+k" for a decode case of 1 + k tokens per sequence.
std::string case_label(const CaseSpec& s);

struct CaseResult {
  CaseSpec spec;
  // The read ceiling measured just before and just after the kept step (the
  // higher of the two): the case's bandwidth fractions are taken against it.
  double read_gb_per_s = 0;
  // Likewise the instruction peaks, where the bench measured them around the
  // case (compute-bound cases: prefill); 0 = the run's start-up peaks apply.
  ComputePeaks peaks;
  BenchWeights weights = BenchWeights::BF16;
  int64_t active_experts = 0;
  double time_ms = 0, bytes = 0, flops = 0;
  std::vector<PhaseResult> phases;
};

// Runs `reps` timed steps after one warm-up. With a read_probe (returns the
// machine's read GB/s), each step is bracketed by two probes and judged
// against the higher (its local ceiling; the machine is shared and its
// bandwidth moves within seconds); the step with the best bandwidth
// fraction (smallest time x local ceiling) is kept. Without, the fastest.
// With a peak_probe too, the step is also bracketed by two measurements of
// the instruction peaks (highest of the two per unit) and judged by its
// compute fraction instead (smallest time x local peak of its format).
CaseResult run_case(const DeepseekModel& model, BenchWeights weights, const CaseSpec& spec, int reps,
                    const std::function<double()>& read_probe = {},
                    const std::function<ComputePeaks()>& peak_probe = {});

// Peak (ops/s) the case's FLOPs are compared with, and its name.
double compute_peak(const Ceilings& c, BenchWeights weights, std::string* name = nullptr);

// Roofline: the least time a phase can take on these ceilings, the longer of
// reading its bytes at the read bandwidth and doing its FLOPs at the peaks of
// the units they run on (weight-format kernels; float32/bf16 attention core).
double roofline_ms(const Ceilings& c, BenchWeights weights, const PhaseResult& p);
// The format a phase's weights are in: a W8A8 checkpoint keeps its lm_head
// bf16 (as the recipe converts it), so that phase meets the bf16 peak, not
// the int8 one.
BenchWeights phase_weights(BenchWeights weights, const PhaseResult& p);
// The peak (ops/s) a phase's weight FLOPs meet, and its name: its format's
// (phase_weights), except the FP8 release's bf16 lm_head, computed at
// float32 accuracy: the faster of the float32 FMAs and a third of the bf16
// peak (AMX: three bf16 products per product).
double phase_peak(const Ceilings& c, BenchWeights weights, const PhaseResult& p, std::string* name = nullptr);

}  // namespace dsinfer::bench
