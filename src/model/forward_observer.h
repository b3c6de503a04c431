#pragma once
// A hook on the decoder's own code (the named-intermediate callback idea):
// the benchmark times phases and tests check which attention path ran
// through it, so no second copy of the layer loop exists anywhere.
#include <cstdint>

#include "backend/ops.h"

namespace dsinfer {

// Which MLA formulation runs attention. Both are exact; Absorbed works in the
// latent space (W_UK folded into q, W_UV applied after), Expanded rebuilds
// per-head K/V from the cached latents.
enum class AttentionPath : uint8_t { Auto, Absorbed, Expanded };

// The phases of one decoder step, in order. Each ends with its residual add
// where it has one; Mlp is the dense MLP of first_k_dense_replace layers.
// AttentionCore is the part of attention that reads the latent cache
// (decode: scores and values over the cached latents; prefill: the expanded
// attention with its kv_b expansion); Attention, the projections around it.
// Phases may alternate within a layer (projections, core, projections):
// an observer adds up the time of each phase.
enum class StepPhase : uint8_t { Attention, Router, RoutedExperts, SharedExpert, Mlp, LmHead, AttentionCore };
inline constexpr int kStepPhases = static_cast<int>(StepPhase::AttentionCore) + 1;  // the last one
const char* step_phase_name(StepPhase p);

class ForwardObserver {
 public:
  virtual ~ForwardObserver() = default;
  // A phase of `layer` finished (LmHead: layer = number of layers).
  virtual void phase_done(StepPhase /*phase*/, int64_t /*layer*/) {}
  // The experts the router chose in `layer`.
  virtual void routed(int64_t /*layer*/, const RoutingResult& /*route*/) {}
  // Entry `entry` of the batch ran attention of `layer` on `path`.
  virtual void attention_path(int64_t /*layer*/, size_t /*entry*/, AttentionPath /*path*/) {}
};

}  // namespace dsinfer
