#pragma once
// config.json of a DeepSeek-V3-family checkpoint (deepseek_v3 covers
// DeepSeek-V3 and R1; kimi_k2 is the same architecture). Every dimension the
// graph uses comes from here; nothing is assumed per model name.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace dsinfer {

struct RopeScaling {
  std::string type;  // "yarn" or empty for plain RoPE
  double factor = 1.0;
  double beta_fast = 32.0;
  double beta_slow = 1.0;
  double mscale = 1.0;
  double mscale_all_dim = 0.0;
  int64_t original_max_position_embeddings = 4096;
};

// How Linear weights are stored on disk.
enum class WeightQuant {
  None,        // bf16 / f32 weights
  Fp8Block,    // F8_E4M3 + float32 weight_scale_inv per block
  Int8Channel  // int8 + float32 weight_scale per output channel (W8A8)
};

// MoE router scoring (config.json scoring_func).
enum class ScoringFunc : uint8_t { Sigmoid, Softmax };
// Expert selection (config.json topk_method): noaux_tc = group score from
// the top-2 biased scores; group_limited_greedy = group max; greedy = no groups.
enum class TopkMethod : uint8_t { NoauxTc, GroupLimitedGreedy, Greedy };

struct QuantConfig {
  WeightQuant weights = WeightQuant::None;
  int64_t block_rows = 128, block_cols = 128;  // Fp8Block
  std::vector<std::string> ignore;             // Int8Channel: modules kept in bf16
  bool kv_cache_int8 = false;                  // C8: int8 latent cache
};

struct ModelConfig {
  std::string path;  // config.json it was read from
  std::string model_type;
  int64_t vocab_size = 0;
  int64_t hidden_size = 0;
  int64_t intermediate_size = 0;
  int64_t moe_intermediate_size = 0;
  int64_t num_hidden_layers = 0;
  int64_t first_k_dense_replace = 0;
  int64_t moe_layer_freq = 1;
  int64_t num_nextn_predict_layers = 0;
  int64_t num_attention_heads = 0;
  std::optional<int64_t> q_lora_rank;  // null: plain q_proj (V2-Lite style)
  int64_t kv_lora_rank = 0;
  int64_t qk_nope_head_dim = 0;
  int64_t qk_rope_head_dim = 0;
  int64_t v_head_dim = 0;
  int64_t n_routed_experts = 0;
  int64_t num_experts_per_tok = 0;
  int64_t n_group = 1;
  int64_t topk_group = 1;
  int64_t n_shared_experts = 0;
  double routed_scaling_factor = 1.0;
  bool norm_topk_prob = true;
  ScoringFunc scoring_func = ScoringFunc::Sigmoid;
  TopkMethod topk_method = TopkMethod::NoauxTc;
  double rms_norm_eps = 1e-6;
  double rope_theta = 10000.0;
  RopeScaling rope_scaling;
  int64_t max_position_embeddings = 0;
  int64_t bos_token_id = -1;
  std::vector<int64_t> eos_token_ids;
  bool tie_word_embeddings = false;
  QuantConfig quant;

  int64_t qk_head_dim() const { return qk_nope_head_dim + qk_rope_head_dim; }
  bool is_moe_layer(int64_t layer) const {
    return n_routed_experts > 0 && layer >= first_k_dense_replace && layer % moe_layer_freq == 0;
  }
};

// Parses and validates DIR/config.json; throws Error naming the field.
ModelConfig load_model_config(const std::string& model_dir);
ModelConfig parse_model_config(const std::string& json_text, const std::string& source);

}  // namespace dsinfer
