#pragma once
// The DeepSeek-V3 family causal LM (DeepSeek-V3, R1, Kimi-K2, V2-Lite-style
// configs): embedding -> N x [RMSNorm, MLA, RMSNorm, dense MLP or MoE] ->
// RMSNorm -> lm_head. Reads every dimension from config.json.
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "io/model_config.h"
#include "model/forward_batch.h"
#include "model/mla_attention.h"
#include "model/model_weights.h"
#include "model/yarn_rope.h"

namespace dsinfer {

class DeepseekModel {
 public:
  // Maps the checkpoint in model_dir and validates it against its config.json.
  // precision: nullopt picks default_compute_precision (fp32 for FP8 releases,
  // bf16 for converted bf16/W8A8 checkpoints).
  static std::unique_ptr<DeepseekModel> load(const std::string& model_dir,
                                             std::optional<ComputePrecision> precision = std::nullopt);

  const ModelConfig& config() const { return config_; }
  const ModelWeights& weights() const { return checkpoint_.weights(); }
  ComputePrecision compute_precision() const { return precision_; }
  // Cache shape for this model; max_pages pages of page_size tokens.
  CacheGeometry cache_geometry(int64_t page_size, int64_t max_pages) const;
  // A latent cache for this model (int8 with the checkpoint's scales under C8).
  PagedLatentCache make_cache(int64_t page_size, int64_t max_pages) const;

  // Runs the new tokens of every entry through the model, appending them to
  // the cache. Returns logits [rows, vocab] with, per entry in order, one row
  // per new token (all_logits) or one row for its last token.
  std::vector<float> forward(std::span<const BatchEntry> batch, PagedLatentCache& cache,
                             const ForwardOptions& options = {}) const;

 private:
  DeepseekModel(const std::string& model_dir, ModelConfig config, std::optional<ComputePrecision> precision);
  void check_batch(std::span<const BatchEntry> batch) const;

  ModelConfig config_;
  LoadedCheckpoint checkpoint_;
  ComputePrecision precision_;
  YarnRope rope_;
  MlaAttention attention_;
};

}  // namespace dsinfer
