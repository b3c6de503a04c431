#pragma once
// The one description of which tensors a config.json implies, with their
// names and shapes in the FP8 release layout (DeepSeek-V3/R1, Kimi-K2). The
// loader, the random-checkpoint writer and the benchmark's in-memory model
// all walk this schema, so a tensor is named in exactly one place.
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "io/dtype.h"
#include "io/model_config.h"

namespace dsinfer {

// How the FP8 release stores a matrix. Converted checkpoints (bf16, W8A8)
// store the same matrices under the same names in other formats.
enum class LinearRole : uint8_t {
  Fp8Block,   // F8_E4M3 `.weight` + F32 `.weight_scale_inv` per block
  Bf16Matrix  // BF16 `.weight`: embeddings, the MoE router, eh_proj, the heads
};

enum class VectorRole : uint8_t {
  Norm,        // RMSNorm weight, BF16
  RouterBias,  // e_score_correction_bias (noaux_tc), F32
  CkvScale     // C8 only: static int8 scale of the latent cache, F32 [1]
};

struct LinearSpec {
  std::string prefix;  // the name without ".weight"
  int64_t rows = 0;    // out_features
  int64_t cols = 0;    // in_features
  LinearRole role = LinearRole::Fp8Block;
  std::string weight_name() const { return prefix + ".weight"; }
  std::string scale_inv_name() const { return prefix + ".weight_scale_inv"; }
};

struct VectorSpec {
  std::string name;  // full tensor name
  int64_t n = 0;
  VectorRole role = VectorRole::Norm;
};

struct MlpSpec {  // SiLU-gated MLP
  LinearSpec gate, up, down;
};

struct AttentionSpec {  // MLA
  std::optional<LinearSpec> q_a_proj;       // q_lora path only
  std::optional<VectorSpec> q_a_layernorm;  // q_lora path only
  LinearSpec q_b_proj;                      // q_b_proj, or q_proj when q_lora_rank is null
  LinearSpec kv_a_proj_with_mqa;
  VectorSpec kv_a_layernorm;
  LinearSpec kv_b_proj;
  LinearSpec o_proj;
  std::optional<VectorSpec> ckv_scale;      // quant.kv_cache_int8 (C8)
};

struct MoeSpec {
  int64_t n_routed_experts = 0;  // all experts of the layer, present or filtered
  LinearSpec router;             // mlp.gate
  std::optional<VectorSpec> score_bias;
  std::vector<std::pair<int64_t, MlpSpec>> experts;  // (expert id, spec), ascending; filtered ones absent
  std::optional<MlpSpec> shared;
};

struct LayerSpec {
  int64_t index = 0;  // the N of model.layers.N
  VectorSpec input_layernorm, post_attention_layernorm;
  AttentionSpec attn;
  std::optional<MlpSpec> dense_mlp;  // exactly one of dense_mlp / moe
  std::optional<MoeSpec> moe;
};

// A multi-token-prediction layer: a decoder layer plus its own embedding,
// input norms, projection of [embedding; hidden] and output head.
struct MtpSpec {
  LayerSpec layer;
  std::optional<LinearSpec> embed_tokens;  // absent when include_embedding is false
  VectorSpec enorm, hnorm;
  LinearSpec eh_proj;  // [hidden, 2 * hidden]
  VectorSpec shared_head_norm;
  LinearSpec shared_head_head;
};

struct CheckpointSchema {
  int64_t block_rows = 128, block_cols = 128;  // FP8 scale blocks
  std::optional<LinearSpec> embed_tokens;      // absent when include_embedding is false
  std::vector<LayerSpec> layers;
  std::vector<MtpSpec> mtp_layers;
  VectorSpec final_norm;
  // Always listed; a caller may reset it (a tied checkpoint without
  // lm_head.weight reads the head from embed_tokens).
  std::optional<LinearSpec> lm_head;
};

struct SchemaOptions {
  bool include_mtp = true;        // the num_nextn_predict_layers MTP layers
  bool include_embedding = true;  // model.embed_tokens and each MTP layer's embed_tokens
  // Only these routed experts (expert parallelism); empty: all.
  std::function<bool(int64_t layer, int64_t expert)> expert_filter = nullptr;
};

CheckpointSchema checkpoint_schema(const ModelConfig& config, const SchemaOptions& options = {});

// One stored tensor of the FP8 release layout.
struct StoredTensor {
  std::string name;
  DType dtype = DType::BF16;
  std::vector<int64_t> shape;
  // What it stores: a matrix (its weight, or its block scales when
  // block_scale), or a vector. Point into the schema.
  const LinearSpec* linear = nullptr;
  const VectorSpec* vector = nullptr;
  bool block_scale = false;

  int64_t numel() const {
    int64_t n = 1;
    for (int64_t d : shape) n *= d;
    return n;
  }
  size_t nbytes() const { return static_cast<size_t>(numel()) * dtype_size(dtype); }
};

// Every stored tensor in release file order: the embedding, each layer
// (decoder layers, then MTP layers) and finally the head (lm_head, model.norm),
// each group's tensors sorted by name as the release files hold them.
void for_each_tensor(const CheckpointSchema& schema, const std::function<void(const StoredTensor&)>& fn);

}  // namespace dsinfer
