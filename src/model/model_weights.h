#pragma once
// Every tensor the DeepSeek-V3 graph reads, located in the checkpoint and
// validated against config.json (dtype and shape), without copying: Linear
// weights point into the memory map. Only norm vectors and router biases
// (a few KB per layer) are widened to float32.
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "io/model_config.h"
#include "io/safetensors.h"
#include "backend/compute_precision.h"
#include "backend/linear_weight.h"
#include "backend/ops.h"

namespace dsinfer {

using MlpWeights = GatedMlpWeights;  // SiLU-gated MLP: down(silu(gate(x)) * up(x))

struct AttentionWeights {
  std::optional<LinearWeight> q_a_proj;  // q_lora path
  std::vector<float> q_a_layernorm;
  LinearWeight q_b_proj;                 // q_b_proj, or q_proj when q_lora_rank is null
  LinearWeight kv_a_proj_with_mqa;       // -> [kv_lora_rank + qk_rope_head_dim]
  std::vector<float> kv_a_layernorm;
  LinearWeight kv_b_proj;                // [heads * (qk_nope + v), kv_lora_rank]
  LinearWeight o_proj;
  float ckv_scale = 0.f;                 // C8 only: static int8 scale of the latent cache
};

struct MoeWeights {
  LinearWeight router;                   // mlp.gate.weight [n_routed_experts, hidden]
  std::vector<float> score_bias;         // e_score_correction_bias (noaux_tc)
  std::vector<MlpWeights> experts;
  std::optional<MlpWeights> shared;      // n_shared_experts * moe_intermediate_size wide
};

struct LayerWeights {
  std::vector<float> input_layernorm, post_attention_layernorm;
  AttentionWeights attn;
  std::optional<MlpWeights> dense_mlp;
  std::optional<MoeWeights> moe;
};

// A multi-token-prediction layer (num_nextn_predict_layers): its own
// embedding and norms, eh_proj over [enorm(E[t]); hnorm(H)], one decoder
// block with its own latent cache, and its own output head.
struct MtpWeights {
  LinearWeight embed_tokens;  // the layer's own copy (the release stores one)
  std::vector<float> enorm, hnorm;
  LinearWeight eh_proj;       // [hidden, 2 * hidden]
  LayerWeights block;
  std::vector<float> shared_head_norm;
  LinearWeight shared_head;   // [vocab, hidden]
};

struct ModelWeights {
  LinearWeight embed_tokens;  // [vocab, hidden], rows read one token at a time
  std::vector<LayerWeights> layers;
  std::vector<MtpWeights> mtp;  // empty when the checkpoint has no MTP layer
  std::vector<float> final_norm;
  LinearWeight lm_head;
  size_t bytes = 0;           // bytes of all mapped weights used by the graph
};

// Marks the BF16 Linear weights of these layers and the head for bf16 inputs
// under ComputePrecision::BF16 (clears them under Float32). The MoE router and
// kv_b_proj stay exact: both are small, and expert choice and every head's
// keys are sensitive to their rounding.
void apply_compute_precision(std::span<LayerWeights> layers, LinearWeight& lm_head, ComputePrecision p);
// Offers every linear the graph multiplies by (ops.linear and the fused
// forms) to the backend's pack_weight, once at load.
void pack_linears(std::span<LayerWeights> layers, LinearWeight& lm_head, Ops& ops);
// The automatic choice: Float32 when an attention or expert Linear is FP8 or
// float32 (release checkpoints: exact, as the references), else BF16
// (checkpoints converted to bf16 or W8A8 run at the precision they were made for).
ComputePrecision default_compute_precision(const std::vector<LayerWeights>& layers);

// Loads (maps) the checkpoint in model_dir for `config`; throws Error naming
// the tensor on any missing tensor or dtype/shape mismatch.
class LoadedCheckpoint {
 public:
  LoadedCheckpoint(const std::string& model_dir, const ModelConfig& config);
  const ModelWeights& weights() const { return weights_; }
  ModelWeights& weights() { return weights_; }
  const Checkpoint& checkpoint() const { return *checkpoint_; }

 private:
  std::unique_ptr<Checkpoint> checkpoint_;
  ModelWeights weights_;
};

}  // namespace dsinfer
