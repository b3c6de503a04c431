#include "model/forward_observer.h"

namespace dsinfer {

const char* step_phase_name(StepPhase p) {
  switch (p) {
    case StepPhase::Attention: return "attention";
    case StepPhase::Router: return "router";
    case StepPhase::RoutedExperts: return "routed_experts";
    case StepPhase::SharedExpert: return "shared_expert";
    case StepPhase::Mlp: return "mlp";
    case StepPhase::LmHead: return "lm_head";
    case StepPhase::AttentionCore: return "attention_core";
  }
  return "?";
}

}  // namespace dsinfer
